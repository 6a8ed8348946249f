package dev.pauser.agent.device;

import dev.pauser.agent.device.JCudaDriverCalls.Call;
import java.nio.ByteBuffer;

/**
 * {@link DeviceMemory} over the CUDA driver API, through the app's own JCuda ({@code jcuda.driver.JCudaDriver}, found
 * in the app's class loader and called by reflection: pauser.jar neither bundles nor links JCuda). Made by
 * {@link DeviceMemories#forLoader}, which initializes the driver ({@code cuInit}) once.
 *
 * <p>This class answers lookups and copies; the rest is in one class each, which it puts together:
 * <ul>
 * <li>Addresses of pointer objects and the JCuda objects the calls take: {@link JCudaPointers}.</li>
 * <li>Lookup: {@code cuPointerGetAttribute} (memory type, context, device ordinal; no context needs to be current)
 *     and {@code cuMemGetAddressRange} (in the allocation's context, pushed for the call where needed). With unified
 *     addressing (every 64-bit CUDA platform) this answers for runtime-API allocations too.</li>
 * <li>Contexts current on a thread, scopes, primary contexts: {@link JCudaContexts}.</li>
 * <li>Allocation at an address (the virtual-memory API) and its release in {@link #free}:
 *     {@link VirtualMemoryMappings}, which {@link #allocationAt} asks first.</li>
 * <li>Pinned host memory: {@link JCudaPinnedMemory}.</li>
 * <li>Copies are synchronous ({@code cuMemcpyDtoH}/{@code HtoD}/{@code DtoD}) between device addresses and direct
 *     buffers; they consume the buffer from its position to its limit, as a channel read or write does.</li>
 * <li>Calls, results and their names: {@link JCudaDriverCalls}, {@link JCudaResults}.</li>
 * </ul>
 *
 * <p>Threads: any Pauser thread (see {@link DeviceMemory}); the CUDA driver is thread-safe, and each context scope
 * belongs to the thread that entered it.
 */
public final class JCudaDevice implements DeviceMemory {
    /** {@code CUpointer_attribute} and memory type constants used (cuda.h; JCuda's constants have the same values). */
    private static final int CU_POINTER_ATTRIBUTE_CONTEXT = 1;
    private static final int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
    private static final int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
    private static final int CU_MEMORYTYPE_DEVICE = 2;

    private final JCudaDriverCalls jcuda;
    private final JCudaPointers pointers;
    private final JCudaContexts contexts;
    private final VirtualMemoryMappings mappings;
    private final JCudaPinnedMemory pinned;
    private final Call cuInit;
    private final Call cuDeviceGetCount;
    private final Call cuPointerGetAttribute;
    private final Call cuMemGetAddressRange;
    private final Call cuCtxSynchronize;
    private final Call cuMemGetInfo;
    private final Call cuMemAlloc;
    private final Call cuMemFree;
    private final Call cuMemcpyDtoH;
    private final Call cuMemcpyHtoD;
    private final Call cuMemcpyDtoD;

    /** Looks up every JCuda method used, once; calls nothing yet. */
    JCudaDevice(Class<?> driverClass) throws ReflectiveOperationException {
        jcuda = new JCudaDriverCalls(driverClass);
        pointers = new JCudaPointers(jcuda);
        contexts = new JCudaContexts(jcuda, pointers);
        mappings = new VirtualMemoryMappings(jcuda, pointers, contexts);
        pinned = new JCudaPinnedMemory(jcuda, pointers, contexts);
        Class<?> ptr = pointers.devicePointer.type;
        Class<?> pointer = pointers.pointer.type;
        cuInit = jcuda.call("cuInit", int.class);
        cuDeviceGetCount = jcuda.call("cuDeviceGetCount", int[].class);
        cuPointerGetAttribute = jcuda.call("cuPointerGetAttribute", pointer, int.class, ptr);
        cuMemGetAddressRange = jcuda.call("cuMemGetAddressRange", ptr, long[].class, ptr);
        cuCtxSynchronize = jcuda.call("cuCtxSynchronize");
        cuMemGetInfo = jcuda.call("cuMemGetInfo", long[].class, long[].class);
        cuMemAlloc = jcuda.call("cuMemAlloc", ptr, long.class);
        cuMemFree = jcuda.call("cuMemFree", ptr);
        cuMemcpyDtoH = jcuda.call("cuMemcpyDtoH", pointer, ptr, long.class);
        cuMemcpyHtoD = jcuda.call("cuMemcpyHtoD", ptr, pointer, long.class);
        cuMemcpyDtoD = jcuda.call("cuMemcpyDtoD", ptr, ptr, long.class);
    }

    /**
     * Initializes the driver and checks that it has a device; the reason it can't be used otherwise, as the message
     * (the result's name in parentheses).
     */
    void initialize() throws DeviceException {
        int code = jcuda.result(cuInit, 0);
        if (code != JCudaResults.CUDA_SUCCESS) {
            throw new DeviceException(jcuda.results.initFailure(code));
        }
        int[] count = new int[1];
        jcuda.check(cuDeviceGetCount, "", (Object) count);
        if (count[0] == 0) {
            throw new DeviceException("no CUDA device (cuDeviceGetCount found none)");
        }
    }

    /** The JCuda pointer classes this device reads addresses of: {@code jcuda.Pointer} and its subclasses. */
    public boolean isPointer(Object o) {
        return pointers.isPointer(o);
    }

    @Override
    public long address(Object pointer) {
        return pointers.address(pointer);
    }

    @Override
    public void setAddress(Object pointer, long address) throws DeviceException {
        pointers.setAddress(pointer, address);
    }

    @Override
    public Allocation allocationAt(long address) throws DeviceException {
        if (address == 0) {
            return null;
        }
        Allocation mapped = VirtualMemoryMappings.allocationAt(address);
        if (mapped != null) {
            return mapped;
        }
        Object ptr = pointers.devicePointer.holding(address);
        int[] memoryType = new int[1];
        int code = jcuda.result(cuPointerGetAttribute, pointers.pointerTo(memoryType), CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                ptr);
        if (code == JCudaResults.CUDA_ERROR_INVALID_VALUE) {
            return null; // not memory the driver knows: pageable host memory, freed, or never allocated
        }
        if (code != JCudaResults.CUDA_SUCCESS) {
            throw jcuda.failure(cuPointerGetAttribute, "memory type of 0x" + Long.toHexString(address), code);
        }
        if (memoryType[0] != CU_MEMORYTYPE_DEVICE) {
            return null; // page-locked host memory, or a CUDA array
        }
        int[] ordinal = new int[1];
        jcuda.check(cuPointerGetAttribute, "device of 0x" + Long.toHexString(address), pointers.pointerTo(ordinal),
                CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, ptr);
        long[] context = new long[1];
        code = jcuda.result(cuPointerGetAttribute, pointers.pointerTo(context), CU_POINTER_ATTRIBUTE_CONTEXT, ptr);
        if (code != JCudaResults.CUDA_SUCCESS || context[0] == 0) {
            // Memory mapped with the virtual-memory API belongs to no context: use the device's primary context,
            // the one the runtime API and most apps work in (retained for the life of the JVM, as the app holds it).
            context[0] = contexts.primaryContext(ordinal[0]);
        }
        DeviceContext owner = new DeviceContext(context[0], ordinal[0]);
        // Pointer attributes need no context; cuMemGetAddressRange wants one current (Pauser's threads have none).
        Object base = pointers.devicePointer.create();
        long[] size = new long[1];
        contexts.inContext(owner, () -> jcuda.check(cuMemGetAddressRange, "0x" + Long.toHexString(address), base, size,
                ptr));
        return new Allocation(pointers.nativePointer(base), size[0], owner);
    }

    @Override
    public ContextScope enter(DeviceContext context) throws DeviceException {
        return contexts.enter(context);
    }

    /** The context current on this thread (0 for none): {@code cuCtxGetCurrent}. */
    long currentContext() throws DeviceException {
        return contexts.current();
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
        Object ptr = pointers.devicePointer.create();
        jcuda.check(cuMemAlloc, bytes + " bytes", ptr, bytes);
        return pointers.nativePointer(ptr);
    }

    @Override
    public boolean allocateAt(long address, long bytes) throws DeviceException {
        return mappings.allocateAt(address, bytes);
    }

    @Override
    public void free(long address) throws DeviceException {
        if (!mappings.free(address)) {
            jcuda.check(cuMemFree, "0x" + Long.toHexString(address), pointers.devicePointer.holding(address));
        }
    }

    @Override
    public PinnedBuffer allocatePinned(long bytes) throws DeviceException {
        return pinned.allocate(bytes);
    }

    @Override
    public void copyToHost(ByteBuffer dst, long src) throws DeviceException {
        long n = dst.remaining();
        jcuda.check(cuMemcpyDtoH, n + " bytes from 0x" + Long.toHexString(src), pointers.hostPointer(dst),
                pointers.devicePointer.holding(src), n);
        dst.position(dst.limit());
    }

    @Override
    public void copyToDevice(long dst, ByteBuffer src) throws DeviceException {
        long n = src.remaining();
        jcuda.check(cuMemcpyHtoD, n + " bytes to 0x" + Long.toHexString(dst), pointers.devicePointer.holding(dst),
                pointers.hostPointer(src), n);
        src.position(src.limit());
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) throws DeviceException {
        jcuda.check(cuMemcpyDtoD, bytes + " bytes from 0x" + Long.toHexString(src) + " to 0x"
                + Long.toHexString(dst), pointers.devicePointer.holding(dst), pointers.devicePointer.holding(src), bytes);
    }
}
