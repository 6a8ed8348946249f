package dev.pauser.agent.device;

import java.nio.ByteBuffer;

/**
 * Every operation Pauser performs on GPU memory, in one small interface, so that snapshot, restore and release run the
 * same code against the CUDA driver (the app's own JCuda, reached by reflection) and against host memory in the tests.
 *
 * <p>Threads: capture and release on the thread holding the steps (the gate's control thread {@code pauser-gate}, or
 * that of a held checkpoint: {@code pauser-stop}, {@code pauser-exit}); streaming a shadow to disk on
 * {@code pauser-device-copy} (the writer {@code pauser-writer} only writes what it copied); restore on the thread that
 * restores the trainer, which is the training thread at the trainer's construction or first step, before any step of
 * it runs. Methods marked
 * <em>in context</em> need the allocation's context made current on the calling thread first with {@link #enter}; the
 * scope it returns puts back whatever was current before, so no thread is left with a context it did not have.
 *
 * <p>Failures are {@link DeviceException}s whose message is one line naming the operation and the driver's error.
 */
public interface DeviceMemory {

    /** The device address a pointer object holds: a {@code CUdeviceptr} or a runtime-API {@code Pointer}, plus its offset. */
    long address(Object pointer);

    /** Makes the same pointer object hold {@code address} (offset 0), so every holder of the object sees it. */
    void setAddress(Object pointer, long address) throws DeviceException;

    /**
     * The allocation holding {@code address} (its base, size and owning context), or null where {@code address} is not
     * device memory the driver knows: host memory (pinned or pageable), null, or freed.
     */
    Allocation allocationAt(long address) throws DeviceException;

    /** Makes {@code context} current on this thread until the returned scope is closed. */
    ContextScope enter(DeviceContext context) throws DeviceException;

    /** Waits until all work queued in the current context, on any stream, has finished. In context. */
    void synchronize() throws DeviceException;

    /** Free device memory of the current context's device, in bytes. In context. */
    long freeBytes() throws DeviceException;

    /** A new allocation of {@code bytes}; its address. In context. */
    long allocate(long bytes) throws DeviceException;

    /**
     * New memory of {@code bytes} at exactly {@code address}, by reserving that virtual range and mapping new physical
     * memory there; false (nothing held) where the driver cannot give that range. Free it with {@link #free}. In context.
     */
    boolean allocateAt(long address, long bytes) throws DeviceException;

    /** Frees an allocation made by {@link #allocate}, {@link #allocateAt} or the app. In context. */
    void free(long address) throws DeviceException;

    /** Page-locked host memory of {@code bytes}, for copies at the bus's full speed; closing it frees it. */
    PinnedBuffer allocatePinned(long bytes) throws DeviceException;

    /** Copies {@code dst.remaining()} bytes from device address {@code src} into {@code dst}. In context. */
    void copyToHost(ByteBuffer dst, long src) throws DeviceException;

    /** Copies {@code src.remaining()} bytes from {@code src} to device address {@code dst}. In context. */
    void copyToDevice(long dst, ByteBuffer src) throws DeviceException;

    /** Copies {@code bytes} between two device addresses of the current context. In context. */
    void copyDeviceToDevice(long dst, long src, long bytes) throws DeviceException;

    /** A device allocation: its first address, its size, and the context that owns it. */
    record Allocation(long base, long bytes, DeviceContext context) {
    }

    /**
     * A CUDA context (an opaque driver handle, compared by identity of the handle's value) and the ordinal of its device.
     */
    record DeviceContext(long handle, int device) {
    }

    /** Page-locked host memory; {@link #buffer} is a direct view of all of it, valid until {@link #close}. */
    interface PinnedBuffer extends AutoCloseable {
        ByteBuffer buffer();

        @Override
        void close() throws DeviceException;
    }

    /** A context made current by {@link #enter}; closing it restores the thread's previous context. */
    interface ContextScope extends AutoCloseable {
        @Override
        void close() throws DeviceException;
    }
}
