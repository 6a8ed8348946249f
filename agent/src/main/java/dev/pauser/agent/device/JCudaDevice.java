package dev.pauser.agent.device;

import dev.pauser.agent.device.JCudaDriverCalls.Call;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link DeviceMemory} over the CUDA driver API, through the app's own JCuda ({@code jcuda.driver.JCudaDriver}, found
 * in the app's class loader and called by reflection: pauser.jar neither bundles nor links JCuda). Made by
 * {@link DeviceMemories#forLoader}, which initializes the driver ({@code cuInit}) once.
 *
 * <ul>
 * <li>Addresses: a {@code CUdeviceptr} or runtime-API {@code Pointer} holds its address in
 *     {@code NativePointerObject.nativePointer} plus {@code Pointer.byteOffset}, both private fields of JCuda.</li>
 * <li>Lookup: {@code cuPointerGetAttribute} (memory type, context, device ordinal; no context needs to be current)
 *     and {@code cuMemGetAddressRange} (in the allocation's context, pushed for the call where needed). With unified
 *     addressing (every 64-bit CUDA platform) this answers for runtime-API allocations too.</li>
 * <li>Allocation at an address: the virtual-memory API ({@code cuMemAddressReserve} with the address as hint,
 *     {@code cuMemCreate}, {@code cuMemMap}, {@code cuMemSetAccess}). Such a mapping is remembered (process-wide, by
 *     address) so that {@link #free} unmaps it, releases its physical memory and frees its address range, and
 *     {@link #allocationAt} reports it with the size asked for and the context that made it.</li>
 * <li>Copies are synchronous ({@code cuMemcpyDtoH}/{@code HtoD}/{@code DtoD}) between device addresses and direct
 *     buffers; they consume the buffer from its position to its limit, as a channel read or write does.</li>
 * </ul>
 *
 * <p>Threads: any Pauser thread (see {@link DeviceMemory}); the CUDA driver is thread-safe, and each context scope
 * belongs to the thread that entered it.
 */
public final class JCudaDevice implements DeviceMemory {
    /** {@code CUpointer_attribute} and other driver constants used (cuda.h; JCuda's constants have the same values). */
    private static final int CU_POINTER_ATTRIBUTE_CONTEXT = 1;
    private static final int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
    private static final int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
    private static final int CU_MEMORYTYPE_DEVICE = 2;
    private static final int CU_MEM_ALLOCATION_TYPE_PINNED = 1;
    private static final int CU_MEM_LOCATION_TYPE_DEVICE = 1;
    private static final int CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 3;
    private static final int CU_MEM_ALLOC_GRANULARITY_MINIMUM = 0;

    /**
     * Mappings made by {@link #allocateAt}, by base address. Process-wide (device addresses are unique in a process's
     * unified address space) and free of JCuda objects, so it outlives any one instance and holds no app class.
     */
    private static final Map<Long, Mapping> MAPPINGS = new ConcurrentHashMap<>();

    private final JCudaDriverCalls jcuda;
    /** Primary contexts retained for memory that belongs to no context, by device ordinal. */
    private final Map<Integer, Long> primaryContexts = new ConcurrentHashMap<>();
    private final Call cuInit;
    private final Call cuDeviceGetCount;
    private final Call cuPointerGetAttribute;
    private final Call cuMemGetAddressRange;
    private final Call cuCtxGetCurrent;
    private final Call cuCtxPushCurrent;
    private final Call cuCtxPopCurrent;
    private final Call cuCtxGetDevice;
    private final Call cuCtxSynchronize;
    private final Call cuMemGetInfo;
    private final Call cuMemAlloc;
    private final Call cuMemFree;
    private final Call cuMemAllocHost;
    private final Call cuMemFreeHost;
    private final Call cuMemcpyDtoH;
    private final Call cuMemcpyHtoD;
    private final Call cuMemcpyDtoD;
    private final Call cuMemGetAllocationGranularity;
    private final Call cuMemAddressReserve;
    private final Call cuMemAddressFree;
    private final Call cuMemCreate;
    private final Call cuMemRelease;
    private final Call cuMemMap;
    private final Call cuMemUnmap;
    private final Call cuMemSetAccess;
    private final Call cuDevicePrimaryCtxRetain;
    private final Call cuDevicePrimaryCtxRelease;
    private final MethodHandle newDevicePointer;
    private final MethodHandle newContext;
    private final MethodHandle newDevice;
    private final MethodHandle newPointer;
    private final MethodHandle newAllocationHandle;
    private final MethodHandle newAllocationProp;
    private final MethodHandle newLocation;
    private final MethodHandle newAccessDesc;
    private final MethodHandle setPropType;
    private final MethodHandle setPropLocation;
    private final MethodHandle pointerToBuffer;
    private final MethodHandle pointerToInts;
    private final MethodHandle pointerToLongs;
    private final MethodHandle byteBufferOf;
    private final Class<?> accessDescArray;

    /** Looks up every JCuda method used, once; calls nothing yet. */
    JCudaDevice(Class<?> driverClass) throws ReflectiveOperationException {
        jcuda = new JCudaDriverCalls(driverClass);
        Class<?> ptr = jcuda.devicePointer;
        Class<?> pointer = jcuda.pointer;
        Class<?> ctx = jcuda.context;
        Class<?> dev = jcuda.device;
        Class<?> handle = jcuda.allocationHandle;
        Class<?> prop = Class.forName("jcuda.driver.CUmemAllocationProp", false, jcuda.loader);
        Class<?> location = Class.forName("jcuda.driver.CUmemLocation", false, jcuda.loader);
        Class<?> accessDesc = Class.forName("jcuda.driver.CUmemAccessDesc", false, jcuda.loader);
        accessDescArray = accessDesc.arrayType();
        cuInit = jcuda.call("cuInit", int.class);
        cuDeviceGetCount = jcuda.call("cuDeviceGetCount", int[].class);
        cuPointerGetAttribute = jcuda.call("cuPointerGetAttribute", pointer, int.class, ptr);
        cuMemGetAddressRange = jcuda.call("cuMemGetAddressRange", ptr, long[].class, ptr);
        cuCtxGetCurrent = jcuda.call("cuCtxGetCurrent", ctx);
        cuCtxPushCurrent = jcuda.call("cuCtxPushCurrent", ctx);
        cuCtxPopCurrent = jcuda.call("cuCtxPopCurrent", ctx);
        cuCtxGetDevice = jcuda.call("cuCtxGetDevice", dev);
        cuCtxSynchronize = jcuda.call("cuCtxSynchronize");
        cuMemGetInfo = jcuda.call("cuMemGetInfo", long[].class, long[].class);
        cuMemAlloc = jcuda.call("cuMemAlloc", ptr, long.class);
        cuMemFree = jcuda.call("cuMemFree", ptr);
        cuMemAllocHost = jcuda.call("cuMemAllocHost", pointer, long.class);
        cuMemFreeHost = jcuda.call("cuMemFreeHost", pointer);
        cuMemcpyDtoH = jcuda.call("cuMemcpyDtoH", pointer, ptr, long.class);
        cuMemcpyHtoD = jcuda.call("cuMemcpyHtoD", ptr, pointer, long.class);
        cuMemcpyDtoD = jcuda.call("cuMemcpyDtoD", ptr, ptr, long.class);
        cuMemGetAllocationGranularity = jcuda.call("cuMemGetAllocationGranularity", long[].class, prop, int.class);
        cuMemAddressReserve = jcuda.call("cuMemAddressReserve", ptr, long.class, long.class, ptr, long.class);
        cuMemAddressFree = jcuda.call("cuMemAddressFree", ptr, long.class);
        cuMemCreate = jcuda.call("cuMemCreate", handle, long.class, prop, long.class);
        cuMemRelease = jcuda.call("cuMemRelease", handle);
        cuMemMap = jcuda.call("cuMemMap", ptr, long.class, long.class, handle, long.class);
        cuMemUnmap = jcuda.call("cuMemUnmap", ptr, long.class);
        cuMemSetAccess = jcuda.call("cuMemSetAccess", ptr, long.class, accessDescArray, long.class);
        cuDevicePrimaryCtxRetain = jcuda.call("cuDevicePrimaryCtxRetain", ctx, dev);
        cuDevicePrimaryCtxRelease = jcuda.call("cuDevicePrimaryCtxRelease", dev);
        newDevicePointer = jcuda.constructor(ptr);
        newContext = jcuda.constructor(ctx);
        newDevice = jcuda.constructor(dev);
        newPointer = jcuda.constructor(pointer);
        newAllocationHandle = jcuda.constructor(handle);
        newAllocationProp = jcuda.constructor(prop);
        newLocation = jcuda.constructor(location, int.class, int.class);
        newAccessDesc = jcuda.constructor(accessDesc, location, int.class);
        setPropType = jcuda.fieldSetter(prop, "type");
        setPropLocation = jcuda.fieldSetter(prop, "location");
        pointerToBuffer = jcuda.staticMethod(pointer, "to", pointer, Buffer.class);
        pointerToInts = jcuda.staticMethod(pointer, "to", pointer, int[].class);
        pointerToLongs = jcuda.staticMethod(pointer, "to", pointer, long[].class);
        byteBufferOf = jcuda.virtualMethod(pointer, "getByteBuffer", ByteBuffer.class, long.class, long.class);
    }

    /**
     * Initializes the driver and checks that it has a device; the reason it can't be used otherwise, as the message
     * (the result's name in parentheses).
     */
    void initialize() throws DeviceException {
        int code = jcuda.result(cuInit, 0);
        if (code != JCudaDriverCalls.CUDA_SUCCESS) {
            throw new DeviceException(initFailure(code));
        }
        int[] count = new int[1];
        jcuda.check(cuDeviceGetCount, "", (Object) count);
        if (count[0] == 0) {
            throw new DeviceException("no CUDA device (cuDeviceGetCount found none)");
        }
    }

    private String initFailure(int code) {
        String name = jcuda.name(code);
        switch (code) {
            case JCudaDriverCalls.CUDA_ERROR_NO_DEVICE:
                return "no CUDA device (cuInit: " + name + ")";
            case JCudaDriverCalls.CUDA_ERROR_STUB_LIBRARY:
                return "the libcuda.so.1 found is the CUDA toolkit's stub, not the NVIDIA driver's (cuInit: " + name
                        + "); take the stubs directory out of LD_LIBRARY_PATH";
            case JCudaDriverCalls.CUDA_ERROR_INSUFFICIENT_DRIVER:
                return "the NVIDIA driver is older than the CUDA version of the app's JCuda (cuInit: " + name + ")";
            default:
                return "cuInit failed: " + name;
        }
    }

    /** The JCuda pointer classes this device reads addresses of: {@code jcuda.Pointer} and its subclasses. */
    public boolean isPointer(Object o) {
        return jcuda.pointer.isInstance(o);
    }

    @Override
    public long address(Object pointer) {
        requirePointer(pointer);
        return jcuda.nativePointer(pointer) + jcuda.byteOffset(pointer);
    }

    @Override
    public void setAddress(Object pointer, long address) throws DeviceException {
        requirePointer(pointer);
        if (jcuda.pointsToJavaMemory(pointer)) {
            throw new DeviceException("cannot set the device address of " + pointer
                    + ": it points to Java memory (a buffer or array), not to device memory");
        }
        jcuda.nativePointer(pointer, address);
        jcuda.byteOffset(pointer, 0);
    }

    private void requirePointer(Object pointer) {
        if (!jcuda.pointer.isInstance(pointer)) {
            throw new IllegalArgumentException("not a JCuda pointer of " + jcuda.loader + ": "
                    + (pointer == null ? "null" : pointer.getClass().getName()));
        }
    }

    @Override
    public Allocation allocationAt(long address) throws DeviceException {
        if (address == 0) {
            return null;
        }
        for (Map.Entry<Long, Mapping> m : MAPPINGS.entrySet()) {
            long base = m.getKey();
            Mapping mapping = m.getValue();
            if (Long.compareUnsigned(address, base) >= 0 && Long.compareUnsigned(address - base, mapping.bytes) < 0) {
                return new Allocation(base, mapping.bytes, new DeviceContext(mapping.context, mapping.device));
            }
        }
        Object ptr = devicePointer(address);
        int[] memoryType = new int[1];
        int code = jcuda.result(cuPointerGetAttribute, pointerTo(memoryType), CU_POINTER_ATTRIBUTE_MEMORY_TYPE, ptr);
        if (code == JCudaDriverCalls.CUDA_ERROR_INVALID_VALUE) {
            return null; // not memory the driver knows: pageable host memory, freed, or never allocated
        }
        if (code != JCudaDriverCalls.CUDA_SUCCESS) {
            throw jcuda.failure(cuPointerGetAttribute, "memory type of 0x" + Long.toHexString(address), code);
        }
        if (memoryType[0] != CU_MEMORYTYPE_DEVICE) {
            return null; // page-locked host memory, or a CUDA array
        }
        int[] ordinal = new int[1];
        jcuda.check(cuPointerGetAttribute, "device of 0x" + Long.toHexString(address), pointerTo(ordinal),
                CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, ptr);
        long[] context = new long[1];
        code = jcuda.result(cuPointerGetAttribute, pointerTo(context), CU_POINTER_ATTRIBUTE_CONTEXT, ptr);
        if (code != JCudaDriverCalls.CUDA_SUCCESS || context[0] == 0) {
            // Memory mapped with the virtual-memory API belongs to no context: use the device's primary context,
            // the one the runtime API and most apps work in (retained for the life of the JVM, as the app holds it).
            context[0] = primaryContext(ordinal[0]);
        }
        DeviceContext owner = new DeviceContext(context[0], ordinal[0]);
        // Pointer attributes need no context; cuMemGetAddressRange wants one current (Pauser's threads have none).
        Object base = newObject(newDevicePointer);
        long[] size = new long[1];
        inContext(owner, () -> jcuda.check(cuMemGetAddressRange, "0x" + Long.toHexString(address), base, size, ptr));
        return new Allocation(jcuda.nativePointer(base), size[0], owner);
    }

    private long primaryContext(int ordinal) throws DeviceException {
        Long known = primaryContexts.get(ordinal);
        if (known != null) {
            return known;
        }
        Object ctx = newObject(newContext);
        jcuda.check(cuDevicePrimaryCtxRetain, "device " + ordinal, ctx, device(ordinal));
        long handle = jcuda.nativePointer(ctx);
        Long raced = primaryContexts.putIfAbsent(ordinal, handle);
        if (raced != null) {
            jcuda.check(cuDevicePrimaryCtxRelease, "device " + ordinal, device(ordinal));
            return raced;
        }
        return handle;
    }

    @Override
    public ContextScope enter(DeviceContext context) throws DeviceException {
        Object ctx = context(context.handle());
        jcuda.check(cuCtxPushCurrent, "context 0x" + Long.toHexString(context.handle()), ctx);
        Thread owner = Thread.currentThread();
        return new ContextScope() {
            private boolean closed;

            @Override
            public void close() throws DeviceException {
                if (closed) {
                    return;
                }
                if (Thread.currentThread() != owner) {
                    throw new DeviceException("a context scope entered on thread " + owner.getName()
                            + " was closed on " + Thread.currentThread().getName());
                }
                closed = true;
                Object popped = newObject(newContext);
                jcuda.check(cuCtxPopCurrent, "", popped);
                if (jcuda.nativePointer(popped) != context.handle()) {
                    throw new DeviceException("cuCtxPopCurrent took context 0x"
                            + Long.toHexString(jcuda.nativePointer(popped)) + " off this thread, not 0x"
                            + Long.toHexString(context.handle()) + ": something pushed a context inside the scope");
                }
            }
        };
    }

    /** The context current on this thread (0 for none): {@code cuCtxGetCurrent}. */
    long currentContext() throws DeviceException {
        Object ctx = newObject(newContext);
        jcuda.check(cuCtxGetCurrent, "", ctx);
        return jcuda.nativePointer(ctx);
    }

    @Override
    public void synchronize() throws DeviceException {
        jcuda.check(cuCtxSynchronize, "");
    }

    @Override
    public long freeBytes() throws DeviceException {
        long[] free = new long[1];
        long[] total = new long[1];
        jcuda.check(cuMemGetInfo, "", free, total);
        return free[0];
    }

    @Override
    public long allocate(long bytes) throws DeviceException {
        Object ptr = newObject(newDevicePointer);
        jcuda.check(cuMemAlloc, bytes + " bytes", ptr, bytes);
        return jcuda.nativePointer(ptr);
    }

    @Override
    public boolean allocateAt(long address, long bytes) throws DeviceException {
        if (bytes <= 0) {
            throw new IllegalArgumentException("allocateAt needs a positive size, not " + bytes);
        }
        long context = currentContext();
        int ordinal = currentDevice();
        Object location = JCudaDriverCalls.invoke(newLocation, CU_MEM_LOCATION_TYPE_DEVICE, ordinal);
        // JCuda 12.0.0's JNI reads allocFlags at the flag class's field offsets but in this object, so on HotSpot the
        // driver gets usage = 1 (the low half of type); nothing set here can change that.
        Object prop = newObject(newAllocationProp);
        JCudaDriverCalls.set(setPropType, prop, CU_MEM_ALLOCATION_TYPE_PINNED);
        JCudaDriverCalls.set(setPropLocation, prop, location);
        long[] granularity = new long[1];
        jcuda.check(cuMemGetAllocationGranularity, "device " + ordinal, granularity, prop,
                CU_MEM_ALLOC_GRANULARITY_MINIMUM);
        long g = granularity[0];
        if (g <= 0 || Long.remainderUnsigned(address, g) != 0) {
            return false; // the driver maps whole granules only: that address can't start a mapping
        }
        long size = (bytes + g - 1) / g * g;
        String what = size + " bytes at 0x" + Long.toHexString(address);
        Object range = newObject(newDevicePointer);
        jcuda.check(cuMemAddressReserve, what, range, size, 0L, devicePointer(address), 0L);
        if (jcuda.nativePointer(range) != address) {
            jcuda.check(cuMemAddressFree, what, range, size);
            return false;
        }
        Object handle = newObject(newAllocationHandle);
        int code = jcuda.result(cuMemCreate, handle, size, prop, 0L);
        if (code != JCudaDriverCalls.CUDA_SUCCESS) {
            DeviceException e = jcuda.failure(cuMemCreate, what, code);
            undo(e, () -> jcuda.check(cuMemAddressFree, what, range, size));
            throw e;
        }
        code = jcuda.result(cuMemMap, range, size, 0L, handle, 0L);
        if (code != JCudaDriverCalls.CUDA_SUCCESS) {
            DeviceException e = jcuda.failure(cuMemMap, what, code);
            undo(e, () -> jcuda.check(cuMemRelease, what, handle));
            undo(e, () -> jcuda.check(cuMemAddressFree, what, range, size));
            throw e;
        }
        Object access = Array.newInstance(accessDescArray.getComponentType(), 1);
        Array.set(access, 0, JCudaDriverCalls.invoke(newAccessDesc, location,
                CU_MEM_ACCESS_FLAGS_PROT_READWRITE));
        code = jcuda.result(cuMemSetAccess, range, size, access, 1L);
        if (code != JCudaDriverCalls.CUDA_SUCCESS) {
            DeviceException e = jcuda.failure(cuMemSetAccess, what, code);
            undo(e, () -> jcuda.check(cuMemUnmap, what, range, size));
            undo(e, () -> jcuda.check(cuMemRelease, what, handle));
            undo(e, () -> jcuda.check(cuMemAddressFree, what, range, size));
            throw e;
        }
        MAPPINGS.put(address, new Mapping(jcuda.nativePointer(handle), size, bytes, context, ordinal));
        return true;
    }

    @Override
    public void free(long address) throws DeviceException {
        Mapping mapping = MAPPINGS.get(address);
        Object ptr = devicePointer(address);
        if (mapping == null) {
            jcuda.check(cuMemFree, "0x" + Long.toHexString(address), ptr);
            return;
        }
        String what = mapping.mapped + " bytes at 0x" + Long.toHexString(address);
        Object handle = newObject(newAllocationHandle);
        jcuda.nativePointer(handle, mapping.handle);
        // Unmapping alone keeps the physical memory (the handle still holds it); releasing the handle frees it, and
        // freeing the range gives the addresses back for a later reservation.
        jcuda.check(cuMemUnmap, what, ptr, mapping.mapped);
        jcuda.check(cuMemRelease, what, handle);
        MAPPINGS.remove(address); // the memory is gone; a failure before this left it mapped and known
        jcuda.check(cuMemAddressFree, what, ptr, mapping.mapped);
    }

    @Override
    public PinnedBuffer allocatePinned(long bytes) throws DeviceException {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a pinned buffer holds 1 to " + Integer.MAX_VALUE + " bytes, not "
                    + bytes);
        }
        // cuMemAllocHost allocates in the current context; with none current, in device 0's primary context,
        // retained until the buffer is freed (releasing it earlier would free the buffer with the context).
        long current = currentContext();
        boolean retained = current == 0;
        DeviceContext owner = retained ? new DeviceContext(primaryContextRetainedForPinned(0), 0)
                : new DeviceContext(current, currentDevice());
        Object p = newObject(newPointer);
        try {
            inContext(owner, () -> jcuda.check(cuMemAllocHost, bytes + " bytes", p, bytes));
        } catch (DeviceException e) {
            if (retained) {
                undo(e, () -> jcuda.check(cuDevicePrimaryCtxRelease, "device 0", device(0)));
            }
            throw e;
        }
        ByteBuffer buffer = (ByteBuffer) JCudaDriverCalls.invoke(byteBufferOf, p, 0L, bytes);
        return new Pinned(p, buffer, owner, retained);
    }

    /** Runs {@code action} with {@code context} current: as it is, or entered for the call where another is. */
    private void inContext(DeviceContext context, DeviceAction action) throws DeviceException {
        if (currentContext() == context.handle()) {
            action.run();
            return;
        }
        ContextScope scope = enter(context);
        try {
            action.run();
        } catch (DeviceException | RuntimeException e) {
            undo(e, scope::close);
            throw e;
        }
        scope.close();
    }

    /** The ordinal of the current context's device: {@code cuCtxGetDevice}. */
    private int currentDevice() throws DeviceException {
        Object device = newObject(newDevice);
        jcuda.check(cuCtxGetDevice, "", device);
        return (int) jcuda.nativePointer(device);
    }

    private long primaryContextRetainedForPinned(int ordinal) throws DeviceException {
        Object ctx = newObject(newContext);
        jcuda.check(cuDevicePrimaryCtxRetain, "device " + ordinal, ctx, device(ordinal));
        return jcuda.nativePointer(ctx);
    }

    @Override
    public void copyToHost(ByteBuffer dst, long src) throws DeviceException {
        long n = dst.remaining();
        jcuda.check(cuMemcpyDtoH, n + " bytes from 0x" + Long.toHexString(src), hostPointer(dst), devicePointer(src),
                n);
        dst.position(dst.limit());
    }

    @Override
    public void copyToDevice(long dst, ByteBuffer src) throws DeviceException {
        long n = src.remaining();
        jcuda.check(cuMemcpyHtoD, n + " bytes to 0x" + Long.toHexString(dst), devicePointer(dst), hostPointer(src),
                n);
        src.position(src.limit());
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) throws DeviceException {
        jcuda.check(cuMemcpyDtoD, bytes + " bytes from 0x" + Long.toHexString(src) + " to 0x"
                + Long.toHexString(dst), devicePointer(dst), devicePointer(src), bytes);
    }

    /** A JCuda pointer to {@code buffer}'s position: {@code Pointer.to} takes a direct buffer's start, so a slice. */
    private Object hostPointer(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("device copies need a direct buffer, not " + buffer);
        }
        try {
            return JCudaDriverCalls.invoke(pointerToBuffer, buffer.slice());
        } catch (DeviceException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private Object devicePointer(long address) throws DeviceException {
        Object ptr = newObject(newDevicePointer);
        jcuda.nativePointer(ptr, address);
        return ptr;
    }

    private Object context(long handle) throws DeviceException {
        Object ctx = newObject(newContext);
        jcuda.nativePointer(ctx, handle);
        return ctx;
    }

    private Object device(int ordinal) throws DeviceException {
        Object dev = newObject(newDevice);
        jcuda.nativePointer(dev, ordinal);
        return dev;
    }

    private Object pointerTo(int[] values) throws DeviceException {
        return JCudaDriverCalls.invoke(pointerToInts, (Object) values);
    }

    private Object pointerTo(long[] values) throws DeviceException {
        return JCudaDriverCalls.invoke(pointerToLongs, (Object) values);
    }

    private static Object newObject(MethodHandle constructor) throws DeviceException {
        return JCudaDriverCalls.invoke(constructor);
    }

    /** Runs a clean-up step after {@code failure}; its own failure is attached to the first, not thrown. */
    private static void undo(Exception failure, DeviceAction step) {
        try {
            step.run();
        } catch (DeviceException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    @FunctionalInterface
    private interface DeviceAction {
        void run() throws DeviceException;
    }

    /** A virtual-memory mapping made by {@link #allocateAt}: the physical allocation's handle, sizes, owner. */
    private static final class Mapping {
        final long handle;
        final long mapped;
        final long bytes;
        final long context;
        final int device;

        Mapping(long handle, long mapped, long bytes, long context, int device) {
            this.handle = handle;
            this.mapped = mapped;
            this.bytes = bytes;
            this.context = context;
            this.device = device;
        }
    }

    /** Page-locked memory from {@code cuMemAllocHost}, freed in the context that made it. */
    private final class Pinned implements PinnedBuffer {
        private final Object pointer;
        private final ByteBuffer buffer;
        private final DeviceContext owner;
        private final boolean retainedPrimary;
        private boolean closed;

        Pinned(Object pointer, ByteBuffer buffer, DeviceContext owner, boolean retainedPrimary) {
            this.pointer = pointer;
            this.buffer = buffer;
            this.owner = owner;
            this.retainedPrimary = retainedPrimary;
        }

        @Override
        public ByteBuffer buffer() {
            return buffer;
        }

        @Override
        public synchronized void close() throws DeviceException {
            if (closed) {
                return;
            }
            closed = true;
            inContext(owner, () -> jcuda.check(cuMemFreeHost, buffer.capacity() + " bytes", pointer));
            if (retainedPrimary) {
                jcuda.check(cuDevicePrimaryCtxRelease, "device " + owner.device(), device(owner.device()));
            }
        }
    }
}
