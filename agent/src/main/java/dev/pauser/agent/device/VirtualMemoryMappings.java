package dev.pauser.agent.device;

import static dev.pauser.agent.device.DeviceAction.undo;

import dev.pauser.agent.device.DeviceMemory.Allocation;
import dev.pauser.agent.device.DeviceMemory.DeviceContext;
import dev.pauser.agent.device.JCudaDriverCalls.Call;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Device memory at a given address, made with the CUDA virtual-memory API through the app's JCuda
 * ({@code cuMemAddressReserve} with the address as hint, {@code cuMemCreate}, {@code cuMemMap},
 * {@code cuMemSetAccess}), and given back by {@link #free} (unmap, release the physical memory, free the address
 * range). Each mapping is remembered by its address, with the size asked for and the context that made it, for
 * {@link #allocationAt}.
 *
 * <p>Threads: {@link #allocateAt} and {@link #free} on a thread with the context current (see {@link DeviceMemory},
 * "in context"); {@link #allocationAt} on any. The mappings are process-wide and safe to read while another thread
 * adds or removes one.
 */
final class VirtualMemoryMappings {
    /** {@code CUmem*} constants used (cuda.h; JCuda's constants have the same values). */
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
    private final JCudaPointers pointers;
    private final JCudaContexts contexts;
    private final Call cuMemGetAllocationGranularity;
    private final Call cuMemAddressReserve;
    private final Call cuMemAddressFree;
    private final Call cuMemCreate;
    private final Call cuMemRelease;
    private final Call cuMemMap;
    private final Call cuMemUnmap;
    private final Call cuMemSetAccess;
    private final MethodHandle newAllocationProp;
    private final MethodHandle newLocation;
    private final MethodHandle newAccessDesc;
    private final MethodHandle setPropType;
    private final MethodHandle setPropLocation;
    private final Class<?> accessDesc;

    VirtualMemoryMappings(JCudaDriverCalls jcuda, JCudaPointers pointers, JCudaContexts contexts)
            throws ReflectiveOperationException {
        this.jcuda = jcuda;
        this.pointers = pointers;
        this.contexts = contexts;
        Class<?> ptr = pointers.devicePointer.type;
        Class<?> handle = pointers.allocationHandle.type;
        Class<?> prop = jcuda.type("jcuda.driver.CUmemAllocationProp");
        Class<?> location = jcuda.type("jcuda.driver.CUmemLocation");
        accessDesc = jcuda.type("jcuda.driver.CUmemAccessDesc");
        cuMemGetAllocationGranularity = jcuda.call("cuMemGetAllocationGranularity", long[].class, prop, int.class);
        cuMemAddressReserve = jcuda.call("cuMemAddressReserve", ptr, long.class, long.class, ptr, long.class);
        cuMemAddressFree = jcuda.call("cuMemAddressFree", ptr, long.class);
        cuMemCreate = jcuda.call("cuMemCreate", handle, long.class, prop, long.class);
        cuMemRelease = jcuda.call("cuMemRelease", handle);
        cuMemMap = jcuda.call("cuMemMap", ptr, long.class, long.class, handle, long.class);
        cuMemUnmap = jcuda.call("cuMemUnmap", ptr, long.class);
        cuMemSetAccess = jcuda.call("cuMemSetAccess", ptr, long.class, accessDesc.arrayType(), long.class);
        newAllocationProp = jcuda.constructor(prop);
        newLocation = jcuda.constructor(location, int.class, int.class);
        newAccessDesc = jcuda.constructor(accessDesc, location, int.class);
        setPropType = jcuda.fieldSetter(prop, "type");
        setPropLocation = jcuda.fieldSetter(prop, "location");
    }

    /** The mapping holding {@code address}, with the size asked for and its context; null where none does. */
    static Allocation allocationAt(long address) {
        for (Map.Entry<Long, Mapping> m : MAPPINGS.entrySet()) {
            long base = m.getKey();
            Mapping mapping = m.getValue();
            if (Long.compareUnsigned(address, base) >= 0 && Long.compareUnsigned(address - base, mapping.bytes) < 0) {
                return new Allocation(base, mapping.bytes, new DeviceContext(mapping.context, mapping.device));
            }
        }
        return null;
    }

    /**
     * New memory of {@code bytes} at exactly {@code address}, on the current context's device; false (nothing held)
     * where the address is not a granule's start or the driver reserves the range elsewhere. A failure after the
     * reservation undoes the steps before it. In context.
     */
    boolean allocateAt(long address, long bytes) throws DeviceException {
        if (bytes <= 0) {
            throw new IllegalArgumentException("allocateAt needs a positive size, not " + bytes);
        }
        long context = contexts.current();
        int ordinal = contexts.currentDevice();
        Object location = JCudaDriverCalls.invoke(newLocation, CU_MEM_LOCATION_TYPE_DEVICE, ordinal);
        // JCuda 12.0.0's JNI reads allocFlags at the flag class's field offsets but in this object, so on HotSpot the
        // driver gets usage = 1 (the low half of type); nothing set here can change that.
        Object prop = JCudaDriverCalls.invoke(newAllocationProp);
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
        Object range = pointers.devicePointer.create();
        jcuda.check(cuMemAddressReserve, what, range, size, 0L, pointers.devicePointer.holding(address), 0L);
        if (pointers.nativePointer(range) != address) {
            jcuda.check(cuMemAddressFree, what, range, size);
            return false;
        }
        Object handle = pointers.allocationHandle.create();
        int code = jcuda.result(cuMemCreate, handle, size, prop, 0L);
        if (code != JCudaResults.CUDA_SUCCESS) {
            DeviceException e = jcuda.failure(cuMemCreate, what, code);
            undo(e, () -> jcuda.check(cuMemAddressFree, what, range, size));
            throw e;
        }
        code = jcuda.result(cuMemMap, range, size, 0L, handle, 0L);
        if (code != JCudaResults.CUDA_SUCCESS) {
            DeviceException e = jcuda.failure(cuMemMap, what, code);
            undo(e, () -> jcuda.check(cuMemRelease, what, handle));
            undo(e, () -> jcuda.check(cuMemAddressFree, what, range, size));
            throw e;
        }
        Object access = Array.newInstance(accessDesc, 1);
        Array.set(access, 0, JCudaDriverCalls.invoke(newAccessDesc, location, CU_MEM_ACCESS_FLAGS_PROT_READWRITE));
        code = jcuda.result(cuMemSetAccess, range, size, access, 1L);
        if (code != JCudaResults.CUDA_SUCCESS) {
            DeviceException e = jcuda.failure(cuMemSetAccess, what, code);
            undo(e, () -> jcuda.check(cuMemUnmap, what, range, size));
            undo(e, () -> jcuda.check(cuMemRelease, what, handle));
            undo(e, () -> jcuda.check(cuMemAddressFree, what, range, size));
            throw e;
        }
        MAPPINGS.put(address, new Mapping(pointers.nativePointer(handle), size, bytes, context, ordinal));
        return true;
    }

    /**
     * Frees the mapping made at {@code address}: true; false where {@link #allocateAt} made none there (then nothing
     * is done). In context.
     */
    boolean free(long address) throws DeviceException {
        Mapping mapping = MAPPINGS.get(address);
        if (mapping == null) {
            return false;
        }
        Object ptr = pointers.devicePointer.holding(address);
        String what = mapping.mapped + " bytes at 0x" + Long.toHexString(address);
        Object handle = pointers.allocationHandle.holding(mapping.handle);
        // Unmapping alone keeps the physical memory (the handle still holds it); releasing the handle frees it, and
        // freeing the range gives the addresses back for a later reservation.
        jcuda.check(cuMemUnmap, what, ptr, mapping.mapped);
        jcuda.check(cuMemRelease, what, handle);
        MAPPINGS.remove(address); // the memory is gone; a failure before this left it mapped and known
        jcuda.check(cuMemAddressFree, what, ptr, mapping.mapped);
        return true;
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
}
