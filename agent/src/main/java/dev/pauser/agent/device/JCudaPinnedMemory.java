package dev.pauser.agent.device;

import static dev.pauser.agent.device.DeviceAction.undo;

import dev.pauser.agent.device.DeviceMemory.DeviceContext;
import dev.pauser.agent.device.DeviceMemory.PinnedBuffer;
import dev.pauser.agent.device.JCudaDriverCalls.Call;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;

/**
 * Page-locked host memory through the app's JCuda: {@code cuMemAllocHost} in the current context (or, on a thread
 * without one, device 0's primary context, retained until the buffer is freed), seen as the direct {@code ByteBuffer}
 * JCuda makes of it, and freed ({@code cuMemFreeHost}) in the context that made it when the buffer is closed.
 *
 * <p>Threads: any; a buffer may be closed on another thread than the one that allocated it (its context is entered for
 * the call where needed), and closing it twice frees it once.
 */
final class JCudaPinnedMemory {
    private final JCudaDriverCalls jcuda;
    private final JCudaPointers pointers;
    private final JCudaContexts contexts;
    private final Call cuMemAllocHost;
    private final Call cuMemFreeHost;
    private final MethodHandle byteBufferOf;

    JCudaPinnedMemory(JCudaDriverCalls jcuda, JCudaPointers pointers, JCudaContexts contexts)
            throws ReflectiveOperationException {
        this.jcuda = jcuda;
        this.pointers = pointers;
        this.contexts = contexts;
        cuMemAllocHost = jcuda.call("cuMemAllocHost", pointers.pointer.type, long.class);
        cuMemFreeHost = jcuda.call("cuMemFreeHost", pointers.pointer.type);
        byteBufferOf = jcuda.virtualMethod(pointers.pointer.type, "getByteBuffer", ByteBuffer.class, long.class,
                long.class);
    }

    /** Page-locked host memory of {@code bytes} (1 to {@code Integer.MAX_VALUE}); closing it frees it. */
    PinnedBuffer allocate(long bytes) throws DeviceException {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a pinned buffer holds 1 to " + Integer.MAX_VALUE + " bytes, not "
                    + bytes);
        }
        // cuMemAllocHost allocates in the current context; with none current, in device 0's primary context,
        // retained until the buffer is freed (releasing it earlier would free the buffer with the context).
        long current = contexts.current();
        boolean retained = current == 0;
        DeviceContext owner = retained ? new DeviceContext(contexts.retainPrimary(0), 0)
                : new DeviceContext(current, contexts.currentDevice());
        Object p = pointers.pointer.create();
        try {
            contexts.inContext(owner, () -> jcuda.check(cuMemAllocHost, bytes + " bytes", p, bytes));
        } catch (DeviceException e) {
            if (retained) {
                undo(e, () -> contexts.releasePrimary(0));
            }
            throw e;
        }
        ByteBuffer buffer = (ByteBuffer) JCudaDriverCalls.invoke(byteBufferOf, p, 0L, bytes);
        return new Pinned(p, buffer, owner, retained);
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
            contexts.inContext(owner, () -> jcuda.check(cuMemFreeHost, buffer.capacity() + " bytes", pointer));
            if (retainedPrimary) {
                contexts.releasePrimary(owner.device());
            }
        }
    }
}
