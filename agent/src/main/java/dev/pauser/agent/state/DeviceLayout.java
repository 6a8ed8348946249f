package dev.pauser.agent.state;

import dev.pauser.agent.store.DType;
import java.util.Arrays;

/**
 * How a GPU field's bytes are written as a safetensors entry: {@code @TrainState(dtype, shape, bytes)}, read and
 * checked. {@code dtype} defaults to raw bytes ({@code U8}) and {@code shape} to one dimension; {@code bytes} is -1 where
 * the annotation leaves the size to the driver. Pure values: no device access, any thread (capture and restore both
 * ask it).
 */
record DeviceLayout(DType dtype, long[] shape, long bytes) {

    /** The field's {@code @TrainState(dtype, shape, bytes)}; an {@link IllegalArgumentException} when they are bad. */
    static DeviceLayout of(StateField field) {
        Annotations.TrainStateInfo info = Annotations.trainState(field.field());
        String name = info == null ? "" : info.dtype();
        DType dtype = name.isEmpty() ? DType.U8 : DType.fromSafetensorsName(name);
        if (dtype == null) {
            throw new IllegalArgumentException("@TrainState(dtype = \"" + name + "\") is not a dtype Pauser writes: use"
                    + " one of " + Arrays.toString(DType.values()));
        }
        long[] shape = info == null ? new long[0] : info.shape();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("@TrainState(shape = " + Arrays.toString(shape)
                        + ") has a negative dimension");
            }
        }
        return new DeviceLayout(dtype, shape, info == null ? -1 : info.bytes());
    }

    /** The checkpoint's shape: an element's, preceded by the array's length for an array field. */
    long[] shape(boolean array, long each, int count) {
        long[] one = elementShape(each);
        if (!array) {
            return one;
        }
        long[] shape = new long[one.length + 1];
        shape[0] = count;
        System.arraycopy(one, 0, shape, 1, one.length);
        return shape;
    }

    /** The shape of one element of {@code bytes} bytes under this layout; throws when they don't fit. */
    private long[] elementShape(long bytes) {
        int size = dtype.size();
        if (shape.length == 0) {
            if (bytes % size != 0) {
                throw new IllegalArgumentException(bytes + " bytes are not a whole number of " + dtype
                        + " elements (" + size + " bytes each): fix @TrainState(dtype) or the allocation's size");
            }
            return new long[] {bytes / size};
        }
        long needed;
        try {
            needed = Math.multiplyExact(Tensors.elements(shape), size);
        } catch (ArithmeticException e) {
            needed = -1;
        }
        if (needed != bytes) {
            throw new IllegalArgumentException("@TrainState(dtype = " + dtype + ", shape = "
                    + Arrays.toString(shape) + ") needs " + (needed < 0 ? "more than 2^63" : needed)
                    + " bytes, the memory holds " + bytes + ": fix the shape, the dtype or @TrainState(bytes)");
        }
        return shape.clone();
    }
}
