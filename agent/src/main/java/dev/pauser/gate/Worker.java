package dev.pauser.gate;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One thread's bookkeeping at the gate. Only its own thread writes {@code depth}; the gate's controller reads it.
 *
 * <p>The depth is written with plain stores inside nested steps, and with a volatile store on the 0&rarr;1 transition:
 * that store, followed by the volatile read of {@link Gate#attention} in the same thread, is the one fence that makes
 * "once PAUSED, no thread starts a step" true (a store-load pair against the controller's write of {@code attention}
 * and read of {@code depth}). Leaving the outermost step is a release store: the controller may see it late, which only
 * delays a pause, and the controller re-reads until it does.
 */
final class Worker {
    private static final VarHandle DEPTH;

    static {
        try {
            DEPTH = MethodHandles.lookup().findVarHandle(Worker.class, "depth", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Thread thread;

    /** How many {@code @TrainStep} calls this thread is inside. Written by {@link #thread} only. */
    @SuppressWarnings("unused") // accessed through DEPTH and plainly by the owner
    int depth;

    /** True while the thread waits at a boundary; written and read under the gate's lock. */
    boolean parked;

    /** The last few trainers (step objects, or classes for static steps) this thread has seen; owner-only. */
    private final Object[] seenTrainers = new Object[4];
    private int nextSeen;

    // Padding keeps two workers' depth fields off one cache line when several threads run steps.
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6;

    Worker(Thread thread) {
        this.thread = thread;
    }

    /** Whether this thread has recently entered a step of {@code trainer}: a handful of reference compares. */
    boolean hasSeen(Object trainer) {
        Object[] seen = seenTrainers;
        return seen[0] == trainer || seen[1] == trainer || seen[2] == trainer || seen[3] == trainer;
    }

    void remember(Object trainer) {
        seenTrainers[nextSeen] = trainer;
        nextSeen = (nextSeen + 1) & 3;
    }

    /** Enters a step; returns true when it is the outermost one. */
    boolean enterStep() {
        int d = depth;
        if (d == 0) {
            DEPTH.setVolatile(this, 1);
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

    /** Publishes that this thread left its outermost step (after the step was counted). */
    void leftOutermost() {
        DEPTH.setRelease(this, 0);
    }

    /** The depth as the controller sees it. */
    int observedDepth() {
        return (int) DEPTH.getVolatile(this);
    }

    /**
     * Inside a step and not waiting at a boundary: the gate cannot be declared quiet while this holds. A parked thread is
     * always at an outermost boundary (at the entry of its outermost step the depth is already 1, before the body runs).
     */
    boolean busyInStep() {
        return !parked && observedDepth() > 0 && thread.isAlive();
    }
}
