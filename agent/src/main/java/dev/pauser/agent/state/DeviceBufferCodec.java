package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceException;
import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceMemoryProvider;
import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import dev.pauser.agent.store.TensorSource;
import java.lang.reflect.Array;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * GPU memory held through the app's JCuda: {@code jcuda.driver.CUdeviceptr}, {@code jcuda.Pointer} (device memory from
 * {@code cudaMalloc}), and one-dimensional arrays of them, matched by class name (JCuda is the app's library: Pauser
 * never links it, and reaches the memory only through {@link DeviceMemory}).
 *
 * <p>Nothing touches the device at start-up. At capture each pointer's allocation is looked up
 * ({@link DeviceMemory#allocationAt}): it must be the start of a device allocation; its size is the allocation's, or
 * {@code @TrainState(bytes)} where the driver can't tell. {@code @TrainState(dtype, shape)} name the safetensors entry
 * (default: raw bytes, {@code U8}, one dimension). An array is one tensor, its elements one after another, all of the
 * same size and context (shape: the array length, then each element's). The copy itself is {@link DeviceStaging}'s.
 * The Java type records each element's size: {@code jcuda.driver.CUdeviceptr{bytes=4096}}.
 *
 * <p>Restored into the same pointer objects and the same allocations (host to device, then a synchronize), which must
 * have the checkpoint's size (else a {@code reshaped} mismatch); a field or element that is null, or a pointer that
 * points nowhere (address 0), gets a new allocation of that size, in the context of the field's other pointers or of
 * the last capture, and the object's address is set to it. Capture runs where the steps are held; restore where the
 * trainer is restored; both make the allocation's context current only for the copy.
 */
final class DeviceBufferCodec implements Codec {
    static final String DEVICE_PTR = "jcuda.driver.CUdeviceptr";
    static final String POINTER = "jcuda.Pointer";

    private final ClassLoader loader;
    private final DeviceMemoryProvider provider;
    /** Resolved at the first capture or restore of a GPU field of this trainer class. */
    private DeviceMemory memory;
    private String unusable;
    /** A context the trainer's GPU fields live in (the last seen), for allocating a field that was null at restore. */
    private volatile DeviceMemory.DeviceContext knownContext;

    DeviceBufferCodec(ClassLoader loader, DeviceMemoryProvider provider) {
        this.loader = loader;
        this.provider = provider;
    }

    static boolean isPointerType(Class<?> type) {
        String n = type.getName();
        return n.equals(DEVICE_PTR) || n.equals(POINTER);
    }

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        Class<?> element = type.isArray() ? type.getComponentType() : type;
        while (element.isArray()) {
            element = element.getComponentType();
        }
        return isPointerType(element);
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        if (type.isArray() && type.getComponentType().isArray()) {
            return "declare it as " + simple(DEVICE_PTR) + ", Pointer, or a one-dimensional array of them";
        }
        return null;
    }

    private static String simple(String name) {
        return name.substring(name.lastIndexOf('.') + 1);
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true; // the same pointer objects get the bytes (and, where they pointed nowhere, a new address)
    }

    // ---------------------------------------------------------------------------------------------------- the device

    /** The device memory of this trainer's loader, or an exception whose message is the field's problem. */
    private synchronized DeviceMemory memory(StateField field) throws DeviceException {
        if (memory == null && unusable == null) {
            try {
                memory = provider.forLoader(loader);
                if (memory == null) {
                    unusable = "JCuda's driver API (" + dev.pauser.agent.device.DeviceMemories.JCUDA_DRIVER
                            + ") is not visible to the trainer's class loader: put the jcuda jar beside the trainer";
                }
            } catch (DeviceException e) {
                unusable = e.getMessage();
            }
        }
        if (memory == null) {
            throw new DeviceException("the @TrainState field " + field.describe() + " holds GPU memory, but the CUDA"
                    + " driver can't be used in this JVM: " + unusable);
        }
        return memory;
    }

    /** Why this field's GPU memory can't be reached in this JVM (the field's problem, one line), or null when it can. */
    String unusableReason(StateField field) {
        try {
            memory(field);
            return null;
        } catch (DeviceException e) {
            return e.getMessage();
        }
    }

    /** The device memory of the trainer's loader, or null where it can't be used (the captures say why). */
    DeviceMemory memoryOrNull(StateField field) {
        try {
            return memory(field);
        } catch (DeviceException e) {
            return null;
        }
    }

    /** {@code @TrainState(dtype, shape, bytes)} of the field, checked. */
    private record Layout(DType dtype, long[] shape, long bytes) {
    }

    private static Layout layout(StateField field) {
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
        return new Layout(dtype, shape, info == null ? -1 : info.bytes());
    }

    /** The shape of one element of {@code bytes} bytes under the layout; throws when they don't fit. */
    private static long[] elementShape(Layout layout, long bytes) {
        int size = layout.dtype().size();
        if (layout.shape().length == 0) {
            if (bytes % size != 0) {
                throw new IllegalArgumentException(bytes + " bytes are not a whole number of " + layout.dtype()
                        + " elements (" + size + " bytes each): fix @TrainState(dtype) or the allocation's size");
            }
            return new long[] {bytes / size};
        }
        long needed;
        try {
            needed = Math.multiplyExact(Tensors.elements(layout.shape()), size);
        } catch (ArithmeticException e) {
            needed = -1;
        }
        if (needed != bytes) {
            throw new IllegalArgumentException("@TrainState(dtype = " + layout.dtype() + ", shape = "
                    + Arrays.toString(layout.shape()) + ") needs " + (needed < 0 ? "more than 2^63" : needed)
                    + " bytes, the memory holds " + bytes + ": fix the shape, the dtype or @TrainState(bytes)");
        }
        return layout.shape().clone();
    }

    /** The pointer objects of a value: itself, or an array's elements. */
    private static List<Object> pointers(Object value) {
        if (!value.getClass().isArray()) {
            return List.of(value);
        }
        int n = Array.getLength(value);
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Array.get(value, i));
        }
        return out;
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /**
     * The memory a pointer holds, checked: the start of a device allocation, of the size given or the driver's. The
     * messages complete "Class.field ('key'): ...".
     */
    private static DeviceMemory.Allocation allocation(DeviceMemory mem, long address, String which)
            throws DeviceException {
        if (address == 0) {
            throw new IllegalArgumentException(which + "points nowhere (address 0: not allocated yet, or a Pointer to"
                    + " Java memory): allocate its GPU memory before the first step, or leave the field null");
        }
        DeviceMemory.Allocation a = mem.allocationAt(address);
        if (a == null) {
            throw new IllegalArgumentException(which + "holds " + hex(address) + ", which is not device memory (host"
                    + " memory, or freed): hold memory from cuMemAlloc or cudaMalloc");
        }
        if (a.base() != address) {
            throw new IllegalArgumentException(which + "points " + (address - a.base()) + " bytes into the allocation"
                    + " at " + hex(a.base()) + ": hold the allocation's own pointer (its start), or give the part its"
                    + " own allocation");
        }
        return a;
    }

    private static long size(DeviceMemory.Allocation a, Layout layout, String which) {
        if (layout.bytes() >= 0) {
            if (a.bytes() > 0 && layout.bytes() > a.bytes()) {
                throw new IllegalArgumentException(which + "@TrainState(bytes = " + layout.bytes()
                        + ") is more than its allocation's " + a.bytes() + " bytes: fix bytes");
            }
            return layout.bytes();
        }
        if (a.bytes() <= 0) {
            throw new IllegalArgumentException(which + "the CUDA driver can't tell the size of the memory at "
                    + hex(a.base()) + ": give it with @TrainState(bytes = ...)");
        }
        return a.bytes();
    }

    private static String element(Object value, int i) {
        return value.getClass().isArray() ? "element " + i + " " : "";
    }

    // ------------------------------------------------------------------------------------------------------ capture

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        DeviceMemory mem = memory(field);
        Layout layout = layout(field);
        List<Object> pointers = pointers(value);
        List<DeviceStaging.Region> regions = new ArrayList<>(pointers.size());
        DeviceMemory.DeviceContext context = null;
        long each = -1;
        for (int i = 0; i < pointers.size(); i++) {
            Object p = pointers.get(i);
            String which = element(value, i);
            if (p == null) {
                throw new IllegalArgumentException(which + "is null: every element must hold device memory");
            }
            long address = mem.address(p);
            DeviceMemory.Allocation a = allocation(mem, address, which);
            long bytes = size(a, layout, which);
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
        long[] shape = shape(value.getClass().isArray(), layout, Math.max(each, 0), pointers.size());
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
        knownContext = context;
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

    /** The checkpoint's shape: an element's, preceded by the array's length for an array field. */
    private static long[] shape(boolean array, Layout layout, long each, int count) {
        long[] one = elementShape(layout, each);
        if (!array) {
            return one;
        }
        long[] shape = new long[one.length + 1];
        shape[0] = count;
        System.arraycopy(one, 0, shape, 1, one.length);
        return shape;
    }

    // ------------------------------------------------------------------------------------------------------ restore

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        Class<?> type = field.field().getType();
        if (!(entry instanceof TensorEntry t)) {
            throw new Mismatch("retyped", "checkpoint has a JSON value, code has " + type.getTypeName());
        }
        Map<String, String> attrs = StateSchema.attributes(entry.javaType());
        long each;
        try {
            each = Long.parseLong(attrs.get("bytes"));
        } catch (RuntimeException e) {
            throw new Mismatch("unreadable", "the size of its GPU memory is missing from its type '" + entry.javaType()
                    + "'");
        }
        Layout layout;
        try {
            layout = layout(field);
        } catch (IllegalArgumentException e) {
            throw new Mismatch("retyped", e.getMessage());
        }
        if (t.dtype() != layout.dtype()) {
            throw new Mismatch("retyped", "checkpoint has " + t.dtype() + ", code has @TrainState(dtype = "
                    + layout.dtype() + ")");
        }
        int count = type.isArray() ? (int) (t.shape().length == 0 ? -1 : t.shape()[0]) : 1;
        if (each < 0 || count < 0 || Math.multiplyExact(each, (long) count) != t.data().remaining()) {
            throw new Mismatch("unreadable", "shape " + Tensors.shapeString(t.shape()) + " and " + each
                    + " bytes per element don't fit its " + t.data().remaining() + " bytes");
        }
        try {
            long[] expected = shape(type.isArray(), layout, each, count);
            if (!Arrays.equals(expected, t.shape())) {
                throw new Mismatch("reshaped", "checkpoint has " + t.dtype() + " " + Tensors.shapeString(t.shape())
                        + ", code has " + Tensors.shapeString(expected));
            }
        } catch (IllegalArgumentException e) {
            throw new Mismatch("reshaped", e.getMessage());
        }
        DeviceMemory mem;
        try {
            mem = memory(field);
        } catch (DeviceException e) {
            // not a difference between checkpoint and code: the restore can't go on in this JVM
            throw new StateException("pauser: " + e.getMessage(), e);
        }
        if (type.isArray() && current != null && Array.getLength(current) != count) {
            throw new Mismatch("reshaped", "checkpoint has " + count + " pointers, code has "
                    + Array.getLength(current));
        }
        if (current == null && !field.writable()) {
            throw new Mismatch("retyped", "the field is null and can't be written (static final or record component)");
        }
        // Every pointer that holds memory must hold an allocation of the checkpoint's size; the others get one.
        List<Object> targets = current == null ? null : pointers(current);
        long[] addresses = new long[count];
        for (int i = 0; targets != null && i < count; i++) {
            Object p = targets.get(i);
            long address = p == null ? 0 : mem.address(p);
            if (address == 0) {
                continue;
            }
            String which = element(current, i);
            try {
                DeviceMemory.Allocation a = allocation(mem, address, which);
                long bytes = size(a, layout, which);
                if (bytes != each) {
                    throw new Mismatch("reshaped", which + "holds " + bytes + " bytes of GPU memory, the checkpoint "
                            + each);
                }
                knownContext = a.context();
            } catch (DeviceException | IllegalArgumentException e) {
                throw new Mismatch("reshaped", e.getMessage());
            }
            addresses[i] = address;
        }
        ByteBuffer data = t.data();
        return () -> write(field, owner, current, count, each, addresses, data, mem);
    }

    private void write(StateField field, Object owner, Object current, int count, long each, long[] addresses,
            ByteBuffer data, DeviceMemory mem) throws Exception {
        Class<?> type = field.field().getType();
        Object value = current;
        if (value == null) {
            value = type.isArray() ? Array.newInstance(type.getComponentType(), count) : newPointer(type);
        }
        Class<?> pointerType = type.isArray() ? type.getComponentType() : type;
        DeviceMemory.DeviceContext context = knownContext;
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
