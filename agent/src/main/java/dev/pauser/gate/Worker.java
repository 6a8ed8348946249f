package dev.pauser.gate;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;

/**
 * One thread's bookkeeping at the gate. Only its own thread writes {@code depth} and {@code done}; the gate's controller
 * reads them.
 *
 * <p>The depth is written with plain stores inside nested steps. On the 0&rarr;1 transition it is an opaque store (no
 * fence) when the controller can serialize this thread with a JVM handshake ({@link Handshake}), and a volatile store
 * otherwise ({@link #fenced}): then that store, followed by the volatile read of {@link Gate#attention} in the same
 * thread, is a store-load pair against the controller's write of {@code attention} and read of {@code depth}. Leaving
 * the outermost step is a release store after the step was counted: the controller may see it late, which only delays
 * a pause, and it re-reads until it does. See {@link Gate} for why the unfenced entry is safe.
 */
final class Worker {
    private static final VarHandle DEPTH;
    private static final VarHandle DONE;
    private static final MethodHandle IS_VIRTUAL;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            DEPTH = lookup.findVarHandle(Worker.class, "depth", int.class);
            DONE = lookup.findVarHandle(Worker.class, "done", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        MethodHandle isVirtual;
        try {
            isVirtual = MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException beforeJdk21) {
            isVirtual = null;
        }
        IS_VIRTUAL = isVirtual;
    }

    final Thread thread;

    /**
     * Whether this thread enters its outermost step with a fence (volatile store): when the JVM offers no handshake
     * that serializes it, and for virtual threads (a handshake reaches the carrier, not the virtual thread).
     */
    final boolean fenced;

    /** How many {@code @TrainStep} calls this thread is inside. Written by {@link #thread} only. */
    @SuppressWarnings("unused") // accessed through DEPTH and plainly by the owner
    int depth;

    /** Outermost steps this thread completed. Written by {@link #thread} only (opaque), summed by {@link Gate#steps()}. */
    @SuppressWarnings("unused") // accessed through DONE and plainly by the owner
    long done;

    /**
     * The {@link #done} value at which this thread's exit counts under the gate's lock (where step triggers are checked)
     * instead of on the fast path. Written under the gate's lock; read plainly by the owner. Starts at its lowest so
     * that a new thread's first exit recomputes every worker's limit.
     */
    long limit = Long.MIN_VALUE;

    /** True while the thread waits at a boundary; written and read under the gate's lock. */
    boolean parked;

    /** The gate closing this thread was last serialized for (see {@link Gate}); under the gate's lock. */
    long serializedFor = -1;

    /** Whether the gate has heard of this thread (its first outermost entry); owner-only. */
    boolean joined;

    /**
     * The last few trainers (step objects, or classes for static steps) this thread has seen; owner-only. The one it saw
     * last is also in {@link #lastSeen}, so the usual step (same trainer as the one before) costs one compare.
     */
    private final Object[] seenTrainers = new Object[4];
    private int nextSeen;
    private Object lastSeen;

    // Padding keeps two workers' depth fields off one cache line when several threads run steps.
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6;

    Worker(Thread thread) {
        this.thread = thread;
        this.fenced = !Handshake.AVAILABLE || isVirtual(thread);
    }

    private static boolean isVirtual(Thread t) {
        try {
            return IS_VIRTUAL != null && (boolean) IS_VIRTUAL.invokeExact(t);
        } catch (Throwable cannotTell) {
            return true;
        }
    }

    /** Whether this thread has recently entered a step of {@code trainer}: a handful of reference compares. */
    boolean hasSeen(Object trainer) {
        if (lastSeen == trainer) {
            return true;
        }
        Object[] seen = seenTrainers;
        if (seen[0] == trainer || seen[1] == trainer || seen[2] == trainer || seen[3] == trainer) {
            lastSeen = trainer;
            return true;
        }
        return false;
    }

    void remember(Object trainer) {
        lastSeen = trainer;
        seenTrainers[nextSeen] = trainer;
        nextSeen = (nextSeen + 1) & 3;
    }

    /** Enters a step; returns true when it is the outermost one. */
    boolean enterStep() {
        int d = depth;
        if (d == 0) {
            if (fenced) {
                DEPTH.setVolatile(this, 1);
            } else {
                DEPTH.setOpaque(this, 1);
            }
            return true;
        }
        depth = d + 1;
        return false;
    }

    /**
     * Leaves a step; returns true when it was the outermost one. The depth then still reads 1 to the controller until
     * {@link #leftOutermost()}: the caller counts the step first, so that a controller that sees this thread outside
     * its steps also sees the step counted (a checkpoint's step number always matches the state it holds).
     */
    boolean exitStep() {
        int d = depth - 1;
        if (d == 0) {
            return true;
        }
        if (d < 0) {
            // repairs a depth a failed enter advice never raised; the counter never goes negative
            DEPTH.setRelease(this, 0);
            return false;
        }
        depth = d;
        return false;
    }

    /** Counts one completed outermost step of this thread; the owner only. */
    void count(long newDone) {
        DONE.setOpaque(this, newDone);
    }

    /** Outermost steps this thread completed, as another thread sees them. */
    long observedDone() {
        return (long) DONE.getVolatile(this);
    }

    /** Publishes that this thread left its outermost step (after the step was counted). */
    void leftOutermost() {
        DEPTH.setRelease(this, 0);
    }

    /** The depth as the controller sees it. */
    int observedDepth() {
        return (int) DEPTH.getVolatile(this);
    }
}
