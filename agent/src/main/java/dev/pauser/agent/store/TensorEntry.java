package dev.pauser.agent.store;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor field. {@code data}: little-endian element bytes from {@code position()} to {@code limit()}, exactly
 * {@code product(shape) * dtype.size()} of them; never modified by the store (it reads through duplicates). An empty
 * {@code shape} is a scalar (one element); a zero dimension makes an empty tensor.
 */
public record TensorEntry(String key, String declaringClass, String javaType, DType dtype, long[] shape, ByteBuffer data)
        implements Entry {
    public TensorEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
    }

    /** {@code product(shape) * dtype.size()}; throws {@link ArithmeticException} on overflow or a negative dimension. */
    public long expectedByteLength() {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new ArithmeticException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return Math.multiplyExact(n, (long) dtype.size());
    }

    @Override
    public String toString() {
        return "TensorEntry[" + key + ", " + dtype + Arrays.toString(shape) + ", " + data.remaining() + " bytes]";
    }
}
