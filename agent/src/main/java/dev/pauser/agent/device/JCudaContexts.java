package dev.pauser.agent.device;

import static dev.pauser.agent.device.DeviceAction.undo;

import dev.pauser.agent.device.DeviceMemory.ContextScope;
import dev.pauser.agent.device.DeviceMemory.DeviceContext;
import dev.pauser.agent.device.JCudaDriverCalls.Call;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CUDA contexts on the calling thread, through the app's JCuda: which one is current and its device, a context pushed
 * for a scope ({@code cuCtxPushCurrent}) and popped on close, checking that the one popped is the one pushed, and the
 * devices' primary contexts (the ones the runtime API and most apps work in), retained for memory that belongs to no
 * context.
 *
 * <p>Threads: any; each scope belongs to the thread that entered it and is closed there. The primary contexts retained
 * for lookups are shared by all threads and kept for the life of the JVM, as the app holds them.
 */
final class JCudaContexts {
    private final JCudaDriverCalls jcuda;
    private final JCudaPointers pointers;
    /** Primary contexts retained for memory that belongs to no context, by device ordinal. */
    private final Map<Integer, Long> primaryContexts = new ConcurrentHashMap<>();
    private final Call cuCtxGetCurrent;
    private final Call cuCtxPushCurrent;
    private final Call cuCtxPopCurrent;
    private final Call cuCtxGetDevice;
    private final Call cuDevicePrimaryCtxRetain;
    private final Call cuDevicePrimaryCtxRelease;

    JCudaContexts(JCudaDriverCalls jcuda, JCudaPointers pointers) throws ReflectiveOperationException {
        this.jcuda = jcuda;
        this.pointers = pointers;
        Class<?> ctx = pointers.context.type;
        Class<?> dev = pointers.device.type;
        cuCtxGetCurrent = jcuda.call("cuCtxGetCurrent", ctx);
        cuCtxPushCurrent = jcuda.call("cuCtxPushCurrent", ctx);
        cuCtxPopCurrent = jcuda.call("cuCtxPopCurrent", ctx);
        cuCtxGetDevice = jcuda.call("cuCtxGetDevice", dev);
        cuDevicePrimaryCtxRetain = jcuda.call("cuDevicePrimaryCtxRetain", ctx, dev);
        cuDevicePrimaryCtxRelease = jcuda.call("cuDevicePrimaryCtxRelease", dev);
    }

    /** Makes {@code context} current on this thread until the returned scope is closed, on this thread. */
    ContextScope enter(DeviceContext context) throws DeviceException {
        Object ctx = pointers.context.holding(context.handle());
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
                Object popped = pointers.context.create();
                jcuda.check(cuCtxPopCurrent, "", popped);
                if (pointers.nativePointer(popped) != context.handle()) {
                    throw new DeviceException("cuCtxPopCurrent took context 0x"
                            + Long.toHexString(pointers.nativePointer(popped)) + " off this thread, not 0x"
                            + Long.toHexString(context.handle()) + ": something pushed a context inside the scope");
                }
            }
        };
    }

    /** Runs {@code action} with {@code context} current: as it is, or entered for the call where another is. */
    void inContext(DeviceContext context, DeviceAction action) throws DeviceException {
        if (current() == context.handle()) {
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

    /** The context current on this thread (0 for none): {@code cuCtxGetCurrent}. */
    long current() throws DeviceException {
        Object ctx = pointers.context.create();
        jcuda.check(cuCtxGetCurrent, "", ctx);
        return pointers.nativePointer(ctx);
    }

    /** The ordinal of the current context's device: {@code cuCtxGetDevice}. */
    int currentDevice() throws DeviceException {
        Object device = pointers.device.create();
        jcuda.check(cuCtxGetDevice, "", device);
        return (int) pointers.nativePointer(device);
    }

    /** Device {@code ordinal}'s primary context, retained once and kept for the life of the JVM. */
    long primaryContext(int ordinal) throws DeviceException {
        Long known = primaryContexts.get(ordinal);
        if (known != null) {
            return known;
        }
        long handle = retainPrimary(ordinal);
        Long raced = primaryContexts.putIfAbsent(ordinal, handle);
        if (raced != null) {
            releasePrimary(ordinal);
            return raced;
        }
        return handle;
    }

    /** Retains device {@code ordinal}'s primary context once more ({@code cuDevicePrimaryCtxRetain}); its handle. */
    long retainPrimary(int ordinal) throws DeviceException {
        Object ctx = pointers.context.create();
        jcuda.check(cuDevicePrimaryCtxRetain, "device " + ordinal, ctx, pointers.device.holding(ordinal));
        return pointers.nativePointer(ctx);
    }

    /** Gives back one retain of device {@code ordinal}'s primary context ({@code cuDevicePrimaryCtxRelease}). */
    void releasePrimary(int ordinal) throws DeviceException {
        jcuda.check(cuDevicePrimaryCtxRelease, "device " + ordinal, pointers.device.holding(ordinal));
    }
}
