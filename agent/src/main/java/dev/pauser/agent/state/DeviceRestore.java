package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceException;
import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A tensor entry back into a GPU field, in two phases as every codec's restore. {@link #plan} checks the entry against
 * the field's layout and its current pointers without changing anything: each pointer that holds memory must hold an
 * allocation of the checkpoint's size (else a {@code reshaped} mismatch). The write then copies the bytes into the same
 * allocations (host to device, then a synchronize); a field or element that is null, or a pointer that points nowhere
 * (address 0), gets a new allocation of that size, in the context of the field's other pointers or of the last capture,
 * and the object's address is set to it. Each copy makes the allocation's context current only for itself.
 *
 * <p>Threads: both phases where the trainer is restored (the training thread, at the trainer's construction or first
 * step, before any step of it runs).
 */
final class DeviceRestore {
    private final TrainerDevice device;

    DeviceRestore(TrainerDevice device) {
        this.device = device;
    }

    Codec.Write plan(StateField field, Entry entry, Object owner, Object current) throws Codec.Mismatch {
        Class<?> type = field.field().getType();
        if (!(entry instanceof TensorEntry t)) {
            throw new Codec.Mismatch("retyped", "checkpoint has a JSON value, code has " + type.getTypeName());
        }
        Map<String, String> attrs = StateSchema.attributes(entry.javaType());
        long each;
        try {
            each = Long.parseLong(attrs.get("bytes"));
        } catch (RuntimeException e) {
            throw new Codec.Mismatch("unreadable", "the size of its GPU memory is missing from its type '"
                    + entry.javaType() + "'");
        }
        DeviceLayout layout;
        try {
            layout = DeviceLayout.of(field);
        } catch (IllegalArgumentException e) {
            throw new Codec.Mismatch("retyped", e.getMessage());
        }
        if (t.dtype() != layout.dtype()) {
            throw new Codec.Mismatch("retyped", "checkpoint has " + t.dtype() + ", code has @TrainState(dtype = "
                    + layout.dtype() + ")");
        }
        int count = type.isArray() ? (int) (t.shape().length == 0 ? -1 : t.shape()[0]) : 1;
        if (each < 0 || count < 0 || Math.multiplyExact(each, (long) count) != t.data().remaining()) {
            throw new Codec.Mismatch("unreadable", "shape " + Tensors.shapeString(t.shape()) + " and " + each
                    + " bytes per element don't fit its " + t.data().remaining() + " bytes");
        }
        try {
            long[] expected = layout.shape(type.isArray(), each, count);
            if (!Arrays.equals(expected, t.shape())) {
                throw new Codec.Mismatch("reshaped", "checkpoint has " + t.dtype() + " "
                        + Tensors.shapeString(t.shape()) + ", code has " + Tensors.shapeString(expected));
            }
        } catch (IllegalArgumentException e) {
            throw new Codec.Mismatch("reshaped", e.getMessage());
        }
        DeviceMemory mem;
        try {
            mem = device.memory(field);
        } catch (DeviceException e) {
            // not a difference between checkpoint and code: the restore can't go on in this JVM
            throw new StateException("pauser: " + e.getMessage(), e);
        }
        if (type.isArray() && current != null && Array.getLength(current) != count) {
            throw new Codec.Mismatch("reshaped", "checkpoint has " + count + " pointers, code has "
                    + Array.getLength(current));
        }
        if (current == null && !field.writable()) {
            throw new Codec.Mismatch("retyped", "the field is null and can't be written (static final or record"
                    + " component)");
        }
        long[] addresses = checkedAddresses(mem, layout, current, count, each);
        ByteBuffer data = t.data();
        return () -> write(field, owner, current, count, each, addresses, data, mem);
    }

    /**
     * The address each current pointer holds, 0 where it holds none (null, or address 0: it gets an allocation at the
     * write). Every pointer that holds memory must hold an allocation of the checkpoint's size.
     */
    private long[] checkedAddresses(DeviceMemory mem, DeviceLayout layout, Object current, int count, long each)
            throws Codec.Mismatch {
        List<Object> targets = current == null ? null : DevicePointers.of(current);
        long[] addresses = new long[count];
        for (int i = 0; targets != null && i < count; i++) {
            Object p = targets.get(i);
            long address = p == null ? 0 : mem.address(p);
            if (address == 0) {
                continue;
            }
            String which = DevicePointers.which(current, i);
            try {
                DeviceMemory.Allocation a = DevicePointers.allocation(mem, address, which);
                long bytes = DevicePointers.size(a, layout, which);
                if (bytes != each) {
                    throw new Codec.Mismatch("reshaped", which + "holds " + bytes + " bytes of GPU memory, the"
                            + " checkpoint " + each);
                }
                device.seen(a.context());
            } catch (DeviceException | IllegalArgumentException e) {
                throw new Codec.Mismatch("reshaped", e.getMessage());
            }
            addresses[i] = address;
        }
        return addresses;
    }

    private void write(StateField field, Object owner, Object current, int count, long each, long[] addresses,
            ByteBuffer data, DeviceMemory mem) throws Exception {
        Class<?> type = field.field().getType();
        Object value = current;
        if (value == null) {
            value = type.isArray() ? Array.newInstance(type.getComponentType(), count) : newPointer(type);
        }
        Class<?> pointerType = type.isArray() ? type.getComponentType() : type;
        DeviceMemory.DeviceContext context = device.knownContext();
        for (int i = 0; i < count; i++) {
            Object p = type.isArray() ? Array.get(value, i) : value;
            if (p == null) {
                p = newPointer(pointerType);
                Array.set(value, i, p);
            }
            if (each == 0) {
                continue;
            }
            long address = addresses[i];
            if (address == 0 && context == null) {
                throw new IllegalStateException("Pauser can't tell which CUDA context to allocate its GPU memory in:"
                        + " allocate it before the first step");
            }
            DeviceMemory.DeviceContext ctx = address == 0 ? context : mem.allocationAt(address).context();
            ByteBuffer slice = data.duplicate();
            slice.position((int) (data.position() + i * each)).limit((int) (data.position() + (i + 1) * each));
            try (DeviceMemory.ContextScope scope = mem.enter(ctx)) {
                if (address == 0) {
                    address = mem.allocate(each);
                    mem.setAddress(p, address);
                }
                mem.copyToDevice(address, slice.slice());
                mem.synchronize();
            }
        }
        if (current == null) {
            field.set(owner, value);
        }
    }

    private static Object newPointer(Class<?> type) throws ReflectiveOperationException {
        return type.getConstructor().newInstance();
    }
}
