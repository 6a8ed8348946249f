package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import dev.pauser.agent.store.TensorSource;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A GPU field's value to one tensor entry: every pointer's allocation found and checked, all of one size and one
 * context, then copied out by {@link DeviceStaging} (a shadow on the device streamed to the writer later, or pinned host
 * memory). The entry's Java type records each element's size: {@code jcuda.driver.CUdeviceptr{bytes=4096}}.
 *
 * <p>Threads: where the steps are held (the gate's control thread {@code pauser-gate}, or that of a held checkpoint);
 * the entry's shadow is streamed later on the writer thread.
 */
final class DeviceCapture {
    private final TrainerDevice device;

    DeviceCapture(TrainerDevice device) {
        this.device = device;
    }

    Entry capture(StateField field, Object value, Staging staging) throws Exception {
        DeviceMemory mem = device.memory(field);
        DeviceLayout layout = DeviceLayout.of(field);
        List<Object> pointers = DevicePointers.of(value);
        List<DeviceStaging.Region> regions = new ArrayList<>(pointers.size());
        DeviceMemory.DeviceContext context = null;
        long each = -1;
        for (int i = 0; i < pointers.size(); i++) {
            Object p = pointers.get(i);
            String which = DevicePointers.which(value, i);
            if (p == null) {
                throw new IllegalArgumentException(which + "is null: every element must hold device memory");
            }
            long address = mem.address(p);
            DeviceMemory.Allocation a = DevicePointers.allocation(mem, address, which);
            long bytes = DevicePointers.size(a, layout, which);
            if (context == null) {
                context = a.context();
                each = bytes;
            } else if (!context.equals(a.context())) {
                throw new IllegalArgumentException(which + "lives in another CUDA context than element 0: one field's"
                        + " memory must share a context (split the array into fields)");
            } else if (bytes != each) {
                throw new IllegalArgumentException(which + "holds " + bytes + " bytes, element 0 " + each + ": the"
                        + " elements of one field must have the same size (split the array into fields)");
            }
            regions.add(new DeviceStaging.Region(address, bytes));
        }
        long[] shape = layout.shape(value.getClass().isArray(), Math.max(each, 0), pointers.size());
        long total = Math.multiplyExact(Math.max(each, 0), (long) pointers.size());
        if (total > Staging.MAX_BYTES) {
            throw new IllegalArgumentException("holds " + total + " bytes of GPU memory; one @TrainState field can hold"
                    + " at most " + Staging.MAX_BYTES + " (2 GiB): split it into several fields");
        }
        String javaType = field.field().getGenericType().getTypeName() + "{bytes=" + Math.max(each, 0) + "}";
        String declaring = field.field().getDeclaringClass().getName();
        if (context == null) {
            // an empty array: nothing on the device
            return new TensorEntry(field.key(), declaring, javaType, layout.dtype(), shape, ByteBuffer.allocate(0));
        }
        device.seen(context);
        DeviceStaging.Copy copy = staging.device(mem).copy(field.key(), context, regions);
        if (copy.host() != null) {
            return new TensorEntry(field.key(), declaring, javaType, layout.dtype(), shape, copy.host());
        }
        DeviceStaging.ShadowStream shadow = copy.shadow();
        return new TensorEntry(field.key(), declaring, javaType, layout.dtype(), shape, null, new TensorSource() {
            @Override
            public long byteLength() {
                return shadow.bytes();
            }

            @Override
            public void writeTo(Sink sink) throws java.io.IOException {
                shadow.writeTo(sink::accept);
            }
        });
    }
}
