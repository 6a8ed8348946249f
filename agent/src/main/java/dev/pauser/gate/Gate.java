package dev.pauser.gate;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The pause gate: every {@code @TrainStep} entry and exit passes through it, and there a thread may be held.
 *
 * <h2>Hot path</h2>
 * With nothing requested an outermost boundary costs: the worker lookup at the entry (plain reads; the exit is handed
 * the worker the entry returned), the depth update (an opaque
 * store on entering the outermost step, a release store on leaving it), the thread's own step count (a plain read and
 * an opaque store of its {@link Worker#done}, checked against its {@link Worker#limit}), and the volatile reads of
 * {@link #attention}. No fence, atomic instruction, allocation, lock, map lookup or clock read: a volatile read is a
 * plain load on x86 and a load-acquire on ARM. A nested boundary costs the entry's lookup and a plain depth update only.
 *
 * <h2>Why an entry without a fence cannot slip past a closing gate</h2>
 * The danger is the store-load pair: a thread stores depth 1 and then reads {@link #attention}; the controller stores
 * {@code attention = 1} and then reads the depth. Without a fence on both sides both reads may see the old values (the
 * thread's store still in its store buffer), so the controller would declare quiet while the thread starts its step.
 * The controller pays for the ordering instead, with an asymmetric handshake ({@link Handshake}): a thread it finds
 * outside its steps (depth 0, not parked) counts as quiet only after the controller has serialized it with the JVM
 * (a safepoint on JDK 17 and 18, a thread-local handshake from JDK 19 on) after closing the gate. The serialization
 * takes effect at a safepoint poll of that thread; compiled code has none between the depth store and the read of
 * {@code attention} (straight-line code), and the interpreter keeps program order. So the poll falls either before the
 * store, and then the thread's read of {@code attention} comes after the serialization and sees 1 (the thread parks
 * before its body), or after the read, and then the depth store is visible to the controller, which sees the thread in
 * a step and waits for it to park at its exit. A thread seen inside a step or parked needs no serialization: it is not
 * quiet until it parks, and parking is under the lock. So a pause that finds every thread in a step (the usual case)
 * costs no handshake at all; one per thread found idle otherwise, once per closing. This is what keeps the promise:
 * <b>no step code runs while PAUSED or during a safe-point checkpoint</b>. Verified on HotSpot JDK 17.0.15 and
 * Temurin 25 ({@code GateIdleThreadsTest} fails with the serialization removed). On a JVM that is not HotSpot, and for
 * virtual threads, {@link Worker#fenced} keeps the volatile store on entry (the Dekker pair) and no handshake is
 * needed.
 *
 * <h2>Counting steps without an atomic add</h2>
 * Each thread counts its own completed outermost steps; Step is {@link #stepBase} plus their sum. A step trigger (pause
 * or stop at a step, the checkpoint alarm) needs the exact global number at one exit: each thread has a limit, the count
 * at which its exit takes the lock instead ({@link #countAtLimit}). With no trigger armed the limit is unreachable; with
 * one live step thread it is that thread's count at the trigger (the thread alone makes Step move); with several live
 * step threads and a trigger armed every exit counts under the lock, so Step is exact at the trigger as it was with one
 * shared counter. A limit lowered by another thread (arming a trigger from JMX, a second thread joining) is published
 * by serializing the owner; an exit already past its read of the old limit may count one step past the trigger, which
 * then fires at that thread's next exit (the same race as arming a trigger while a step ends).
 *
 * <h2>Slow path</h2>
 * When {@link #attention} is non-zero the gate is closed: a thread arriving at an outermost boundary (the entry of a
 * step it is not already inside, or the exit that leaves its last step) marks itself parked and waits on a condition
 * (it parks; it does not spin) until the gate reopens. A nested entry or exit never parks: the thread runs on to its
 * outermost boundary, so a pause or checkpoint never sees an outer step half done. The control thread ("pauser-gate")
 * declares the gate quiet once every thread is outside its steps or parked at an outermost boundary, and moves PAUSING
 * to PAUSED, or runs the work that needs a safe point (a checkpoint) with every step thread held, then reopens.
 *
 * <h2>What Step counts</h2>
 * Completed outermost steps, summed over all threads: a {@code @TrainStep} call made while the same thread is already
 * inside one (an epoch method calling an annotated batch method) is neither counted nor a safe point. A step that ends
 * by an exception counts: it is over.
 */
public final class Gate {
    /** Non-zero while the gate is closed; read at every boundary. Written under {@link #LOCK}. */
    static volatile int attention;

    /**
     * How many times the gate closed ({@link #attention} went from 0 to 1). A worker seen outside its steps counts as
     * quiet only once it was serialized ({@link Handshake}) after the closing it is checked for. Guarded by LOCK.
     */
    private static long closings;

    /** Step is this plus every thread's own count of completed outermost steps ({@link Workers#completedSteps()}). */
    private static volatile long stepBase;

    /**
     * The Step value at which an exit takes the slow path: the nearest of a pause at a step, a stop at a step, a hold and the
     * step alarm (checkpoint every N steps). {@code Long.MAX_VALUE} for none. Written under {@link #LOCK}.
     */
    private static volatile long stepTrigger = Long.MAX_VALUE;

    private static final ReentrantLock LOCK = new ReentrantLock();
    /** Parked step threads wait here for the gate to reopen. */
    private static final Condition REOPENED = LOCK.newCondition();
    /** The control thread waits here for a request or a thread reaching a boundary. */
    private static final Condition WAKE_CONTROLLER = LOCK.newCondition();
    /** Callers of {@link #awaitState} wait here. */
    private static final Condition STATE_CHANGED = LOCK.newCondition();

    // Guarded by LOCK.
    private static boolean pauseRequested;
    private static boolean stopRequested;
    private static long pauseAtStep = -1;
    /** The Step at whose exit a hold begins ({@link #holdAtNextStep}); -1 for none. */
    private static long holdAtStep = -1;
    /** Held without a pause: the gate is closed, the state does not change, no pause hook runs. */
    private static boolean holding;
    private static long stopAtStep = -1;
    private static Runnable onStopAtStep;
    private static long alarmStep = -1;
    private static java.util.function.LongConsumer alarm;
    private static final List<Runnable> SAFE_POINT_WORK = new ArrayList<>();
    private static final List<Object[]> UNDELIVERED = new ArrayList<>();
    /** Workers seen outside their steps by the last {@link #quiet()} that still need serializing. */
    private static final List<Worker> UNSERIALIZED = new ArrayList<>();
    /** Threads whose step limit was lowered by another thread and must be serialized to see it. */
    private static final List<Thread> LIMIT_LOWERED = new ArrayList<>();

    private static volatile GateState state = GateState.RUNNING;
    private static volatile long stateSinceNanos = System.nanoTime();
    private static volatile long pausedSinceMillis = -1;
    private static volatile Thread controller;

    private static final CopyOnWriteArrayList<GateListener> LISTENERS = new CopyOnWriteArrayList<>();
    private static volatile PauseHook pauseHook;
    private static volatile ResumeHook resumeHook;
    /** The resume hook agreed to this resume; cleared whenever the gate closes again or reopens. Guarded by LOCK. */
    private static boolean resumeAgreed;
    /** The pause hook ran for the current pause. Guarded by LOCK. */
    private static boolean pausePrepared;

    /** Bounds of the interval at which the control thread re-reads the workers while waiting for quiet. */
    private static final long MIN_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private Gate() {
    }

    // ---------------------------------------------------------------------------------------------- training threads

    /** Returns the calling thread's worker, for {@link #exit(Worker)}. */
    static Worker enter(Class<?> type, Object self) {
        Worker w = Workers.current();
        Object trainer = self != null ? self : type;
        if (!w.hasSeen(trainer)) {
            if (!w.joined) {
                join(w);
            }
            TrainerEvents.seen(w, type, trainer);
        }
        // Only the entry of an outermost step is a boundary: a nested entry is inside an outer step, and the state there
        // (half an epoch, half a recursion) is no place to pause or checkpoint. So nested calls skip the read, too.
        if (w.enterStep() && attention != 0) {
            atClosedBoundary(w);
        }
        return w;
    }

    static void exit() {
        exit(Workers.current());
    }

    /** {@code w}: the calling thread's worker, as its step's {@link #enter} returned it. */
    static void exit(Worker w) {
        if (w.exitStep()) {
            long done = w.done + 1;
            if (done < w.limit) {
                w.count(done); // this thread's own counter: no atomic, no fence
                w.leftOutermost(); // only now: a controller that sees depth 0 sees this step counted
            } else {
                long s = countAtLimit(w, done);
                if (s >= stepTrigger) {
                    stepTriggerReached(s);
                }
            }
            if (attention != 0) {
                atClosedBoundary(w);
            }
        }
    }

    /** A thread's first outermost entry: the step limits are worked out again with it among the workers. */
    private static void join(Worker w) {
        w.joined = true;
        LOCK.lock();
        try {
            updateLimits();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
    }

    /**
     * Counts a step whose exit reached the thread's limit: under the lock, so that Step is exact where a step trigger
     * may fire. Returns the Step this exit completed.
     */
    private static long countAtLimit(Worker w, long done) {
        long s;
        LOCK.lock();
        try {
            w.count(done);
            s = steps();
            w.leftOutermost();
            updateLimits();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
        return s;
    }

    /**
     * Call under LOCK. Sets each worker's limit: no trigger armed, none counts under the lock; one live worker counts on
     * its own until the step at {@link #stepTrigger}; several live workers with a trigger armed all count under the
     * lock (Step must be exact at the trigger). A limit lowered for another thread is published by
     * {@link #serializeLoweredLimits()} (after the lock is released): until that thread is serialized it may still read
     * the old limit, and count a step past the trigger, which then fires at its next exit.
     */
    private static void updateLimits() {
        Worker[] all = Workers.all();
        long trigger = stepTrigger;
        Worker sole = null;
        int live = 0;
        for (Worker w : all) {
            if (w.thread.isAlive()) {
                live++;
                sole = w;
            }
        }
        long now = trigger == Long.MAX_VALUE || live != 1 ? 0 : steps();
        for (Worker w : all) {
            long limit;
            if (trigger == Long.MAX_VALUE) {
                limit = Long.MAX_VALUE;
            } else if (w == sole && live == 1) {
                // the exit that completes Step 'trigger' is the one whose own count reaches this
                long own = w.observedDone();
                limit = trigger - now > Long.MAX_VALUE - own ? Long.MAX_VALUE : own + (trigger - now);
            } else {
                limit = Long.MIN_VALUE;
            }
            if (limit < w.limit && w.thread != Thread.currentThread()) {
                LIMIT_LOWERED.add(w.thread);
            }
            w.limit = limit;
        }
    }

    /** Serializes the threads whose limit another thread lowered, so they read it at their next exit. Not under LOCK. */
    private static void serializeLoweredLimits() {
        List<Thread> lowered;
        LOCK.lock();
        try {
            if (LIMIT_LOWERED.isEmpty()) {
                return;
            }
            lowered = new ArrayList<>(LIMIT_LOWERED);
            LIMIT_LOWERED.clear();
        } finally {
            LOCK.unlock();
        }
        if (Handshake.AVAILABLE) {
            for (Thread t : lowered) {
                Handshake.serialize(t);
            }
        }
    }

    /** Call under LOCK. Closes the gate; a new closing when it was open. */
    private static void close() {
        if (attention == 0) {
            closings++;
            attention = 1;
        }
    }

    private static void atClosedBoundary(Worker w) {
        LOCK.lock();
        try {
            if (attention == 0) {
                return;
            }
            w.parked = true;
            WAKE_CONTROLLER.signal();
            while (attention != 0) {
                REOPENED.awaitUninterruptibly(); // keeps the thread's interrupt status for the app
            }
        } finally {
            w.parked = false;
            LOCK.unlock();
        }
    }

    private static void stepTriggerReached(long s) {
        java.util.function.LongConsumer ring = null;
        Runnable stopping = null;
        LOCK.lock();
        try {
            if (stopAtStep >= 0 && s >= stopAtStep) {
                stopAtStep = -1;
                stopping = onStopAtStep;
                onStopAtStep = null;
                stopRequested = true;
                close(); // close now, so this very thread parks at the exit of step s and no step starts again
                moveTo(GateState.STOPPING);
                WAKE_CONTROLLER.signal();
            }
            if (pauseAtStep >= 0 && s >= pauseAtStep) {
                pauseAtStep = -1;
                pauseRequested = true;
                close(); // close now, so this very thread parks at the exit of step s
                WAKE_CONTROLLER.signal();
            }
            if (holdAtStep >= 0 && s >= holdAtStep) {
                holdAtStep = -1;
                holding = true;
                close(); // close now, so this very thread parks at the exit of step s
                WAKE_CONTROLLER.signal();
            }
            if (alarmStep >= 0 && s >= alarmStep) {
                alarmStep = -1;
                ring = alarm;
            }
            updateStepTrigger();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
        if (stopping != null) {
            stopping.run(); // starts the stop on a thread of its own, which waits for this thread to park below
        }
        if (ring != null) {
            // On the training thread, at the exit boundary of step s, before it parks for anything the alarm asks.
            ring.accept(s);
            if (attention != 0) {
                atClosedBoundary(Workers.current());
            }
        }
    }

    /** Call under LOCK. */
    private static void updateStepTrigger() {
        long t = Long.MAX_VALUE;
        if (pauseAtStep >= 0) {
            t = pauseAtStep;
        }
        if (alarmStep >= 0) {
            t = Math.min(t, alarmStep);
        }
        if (holdAtStep >= 0) {
            t = Math.min(t, holdAtStep);
        }
        if (stopAtStep >= 0) {
            t = Math.min(t, stopAtStep);
        }
        stepTrigger = t;
        updateLimits();
    }

    /**
     * Arms the one step alarm: {@code onReached} runs on the training thread that completes step {@code step} (at that
     * step's exit boundary). One-shot: re-arm from the callback. A negative step disarms it.
     */
    public static void setStepAlarm(long step, java.util.function.LongConsumer onReached) {
        LOCK.lock();
        try {
            alarmStep = step < 0 ? -1 : step;
            alarm = onReached;
            updateStepTrigger();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
    }

    // ------------------------------------------------------------------------------------------------------ control

    /** Starts the control thread once; later calls do nothing. */
    public static void start() {
        LOCK.lock();
        try {
            if (controller != null) {
                return;
            }
            Thread t = new Thread(Gate::controlLoop, "pauser-gate");
            t.setDaemon(true);
            controller = t;
            t.start();
        } finally {
            LOCK.unlock();
        }
    }

    public static void addListener(GateListener listener) {
        LISTENERS.add(listener);
    }

    /** Sets the work to do as a pause is withdrawn, before the steps run again. */
    public static void setResumeHook(ResumeHook hook) {
        resumeHook = hook;
    }

    /** Sets the work done between quiet and PAUSED. */
    public static void setPauseHook(PauseHook hook) {
        pauseHook = hook;
    }

    /** Asks for a pause; returns at once. Idempotent; ignored while stopping. */
    public static void pause() {
        request(() -> pauseRequested = true);
    }

    /** Withdraws a pause; returns at once. Idempotent; ignored while stopping. */
    public static void resume() {
        request(() -> pauseRequested = false);
    }

    /**
     * Closes the gate for good: in-flight steps run to their next boundary and no step starts again. Follow with
     * {@link #awaitQuiet} and then whatever must happen before the JVM exits.
     */
    public static void stop() {
        request(() -> stopRequested = true);
    }

    /**
     * Runs {@code work} on the control thread once every step thread is held at a boundary, then reopens the gate (or
     * leaves it paused if a pause was asked for). The state is CHECKPOINTING while it runs, except in a pause that has
     * taken effect: then it stays PAUSED and no state change is announced.
     */
    public static void atSafePoint(Runnable work) {
        request(() -> SAFE_POINT_WORK.add(work));
    }

    /** Pauses once Step reaches {@code step}; a negative value clears it. */
    public static void pauseAtStep(long step) {
        request(() -> {
            pauseAtStep = step < 0 ? -1 : step;
            if (step >= 0 && steps() >= step) {
                pauseAtStep = -1;
                pauseRequested = true;
            }
            updateStepTrigger();
        });
    }

    /**
     * Stops the run once Step reaches {@code step}: the gate closes for good at the exit of that step, so the thread
     * that completed it is held there and no step starts again, and {@code onReached} runs once, on that thread, to
     * start the stop (which waits for in-flight steps of other threads, as {@link #stop} does). A run whose Step is
     * already at or past {@code step} stops at the exit of its next step. A negative step clears it.
     */
    public static void stopAtStep(long step, Runnable onReached) {
        LOCK.lock();
        try {
            stopAtStep = step < 0 ? -1 : step;
            onStopAtStep = step < 0 ? null : onReached;
            updateStepTrigger();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
    }

    /**
     * Holds the step threads at the exit of the next step to complete, without pausing: the state stays as it is, no
     * pause hook runs and no listener hears of it; work asked for with {@link #atSafePoint} still runs, and a pause
     * asked for meanwhile takes effect as usual. Used to keep a worker from running past a step it has promised not to
     * pass while it waits for the step its peers agree on. Returns the highest Step at which the hold can land: the
     * next step, or one more when an exit already under way counts past it (with one step thread; with several, steps
     * in flight on other threads still end). A step thread that never ends another step is never held. Lifted by
     * {@link #releaseHold}. Any thread; returns at once.
     */
    public static long holdAtNextStep() {
        long target;
        LOCK.lock();
        try {
            target = steps() + 1;
            holdAtStep = target;
            updateStepTrigger();
        } finally {
            LOCK.unlock();
        }
        // Once the step threads are serialized they read the new limit at their next exit: the hold lands there.
        serializeLoweredLimits();
        return Math.max(target, steps() + 1);
    }

    /** Lifts a hold from {@link #holdAtNextStep}, landed or not; the steps go on unless something else holds them. */
    public static void releaseHold() {
        request(() -> {
            holding = false;
            holdAtStep = -1;
            updateStepTrigger();
        });
    }

    /** Whether a hold from {@link #holdAtNextStep} has landed and is not lifted yet. */
    public static boolean held() {
        LOCK.lock();
        try {
            return holding;
        } finally {
            LOCK.unlock();
        }
    }

    public static long pauseAtStep() {
        LOCK.lock();
        try {
            return pauseAtStep;
        } finally {
            LOCK.unlock();
        }
    }

    private static void request(Runnable change) {
        LOCK.lock();
        try {
            change.run();
            if (stopRequested || pauseRequested || holding || !SAFE_POINT_WORK.isEmpty()) {
                close();
            }
            // Show the request at once, so a caller reading State right after pause() or stop() sees it taken.
            if (stopRequested) {
                moveTo(GateState.STOPPING);
            } else if (pauseRequested && state == GateState.RUNNING) {
                moveTo(GateState.PAUSING);
            }
            WAKE_CONTROLLER.signal();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
    }

    /**
     * Waits until the gate reaches one of {@code targets} or the timeout ends.
     *
     * @return the state at return
     */
    public static GateState awaitState(long timeoutMillis, GateState... targets) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
        LOCK.lock();
        try {
            while (true) {
                GateState s = state;
                for (GateState t : targets) {
                    if (s == t) {
                        return s;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return s;
                }
                STATE_CHANGED.awaitNanos(left);
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * After {@link #stop}: waits until no thread is inside a step unparked, or the timeout ends.
     *
     * @return true when quiet, false when the time ran out with a step still in flight
     */
    public static boolean awaitQuiet(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
        LOCK.lock();
        try {
            while (!quiet()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                STATE_CHANGED.awaitNanos(Math.min(left, MAX_POLL_NANOS));
            }
            return true;
        } finally {
            LOCK.unlock();
        }
    }

    public static GateState state() {
        return state;
    }

    /** Completed outermost steps, summed over all threads (each counts its own; see {@link Worker#done}). */
    public static long steps() {
        return stepBase + Workers.completedSteps();
    }

    /** Sets the Step counter, before the first step of a resumed run. */
    public static void setSteps(long value) {
        LOCK.lock();
        try {
            stepBase = value - Workers.completedSteps();
            updateLimits();
        } finally {
            LOCK.unlock();
        }
        serializeLoweredLimits();
    }

    /** Wall-clock time (ms since the epoch) the gate became PAUSED, or -1 when it is not paused. */
    public static long pausedSinceMillis() {
        return pausedSinceMillis;
    }

    /**
     * Whether no thread has entered a {@code @TrainStep} method in this JVM yet. Then a pause holds nothing: the gate
     * is closed and the first step will wait at its entry, but a program training in methods that were never
     * instrumented runs on. Reporters say so rather than "paused at step N".
     */
    public static boolean beforeFirstStep() {
        return !Workers.anyRegistered();
    }

    /** Live threads that have run at least one step. */
    public static int trainerThreads() {
        return Workers.liveCount();
    }

    // ------------------------------------------------------------------------------------------ the control thread

    private static void controlLoop() {
        long pollNanos = MIN_POLL_NANOS;
        while (true) {
            List<Runnable> work = null;
            ResumeHook resumeCheck = null;
            List<Worker> toSerialize = null;
            long closing = -1;
            LOCK.lock();
            try {
                boolean closed = stopRequested || pauseRequested || holding || !SAFE_POINT_WORK.isEmpty();
                boolean quiet = true;
                if (!closed && (pausePrepared || state == GateState.PAUSED) && !resumeAgreed && resumeHook != null) {
                    // Leaving a pause: the hook runs (outside the lock) while the threads are still held.
                    resumeCheck = resumeHook;
                } else if (!closed) {
                    resumeAgreed = false;
                    pausePrepared = false;
                    if (attention != 0) {
                        attention = 0;
                        REOPENED.signalAll();
                    }
                    moveTo(GateState.RUNNING);
                } else {
                    resumeAgreed = false;
                    close();
                    quiet = quiet();
                    if (!UNSERIALIZED.isEmpty()) {
                        toSerialize = new ArrayList<>(UNSERIALIZED);
                        closing = closings;
                    }
                    if (stopRequested) {
                        moveTo(GateState.STOPPING);
                    } else if (quiet && !SAFE_POINT_WORK.isEmpty()) {
                        work = new ArrayList<>(SAFE_POINT_WORK);
                        SAFE_POINT_WORK.clear();
                        // While PAUSED the threads are already held: the work runs inside the pause, which goes on
                        // (paused since, the open JFR pause, the state listeners all stay as they were).
                        if (state != GateState.PAUSED) {
                            moveTo(GateState.CHECKPOINTING);
                        }
                    } else if (pauseRequested) {
                        PauseHook hook = pauseHook;
                        if (quiet && !pausePrepared && hook != null && hook.needed()) {
                            work = List.of(hook::run);
                            moveTo(GateState.CHECKPOINTING);
                        } else {
                            moveTo(quiet ? GateState.PAUSED : GateState.PAUSING);
                        }
                        pausePrepared |= quiet;
                    }
                }
                if (work == null && resumeCheck == null && toSerialize == null && UNDELIVERED.isEmpty()) {
                    // While waiting for quiet, poll with a growing interval: a thread leaving its outermost step does
                    // not wake us (that would cost the hot path a fence), a thread parking at a boundary does.
                    if (!quiet) {
                        WAKE_CONTROLLER.awaitNanos(pollNanos);
                        pollNanos = Math.min(pollNanos * 2, MAX_POLL_NANOS);
                        STATE_CHANGED.signalAll(); // lets awaitQuiet re-check
                    } else {
                        pollNanos = MIN_POLL_NANOS;
                        WAKE_CONTROLLER.awaitNanos(TimeUnit.SECONDS.toNanos(1));
                    }
                }
            } catch (InterruptedException e) {
                // the control thread is never interrupted by us; keep serving
            } finally {
                LOCK.unlock();
            }
            deliverEvents();
            if (toSerialize != null) {
                serializeIdle(toSerialize, closing);
            }
            if (work != null) {
                runSafePointWork(work);
            }
            if (resumeCheck != null) {
                boolean agreed = runResumeHook(resumeCheck);
                LOCK.lock();
                try {
                    if (agreed) {
                        resumeAgreed = true;
                    } else {
                        pauseRequested = true; // stays PAUSED; a later resume asks the hook again
                    }
                } finally {
                    LOCK.unlock();
                }
            }
        }
    }

    private static boolean runResumeHook(ResumeHook hook) {
        try {
            return hook.beforeResume();
        } catch (Throwable t) {
            try {
                System.err.println("pauser: the work before resuming failed, staying paused: " + t);
            } catch (Throwable noMemoryForTheLine) {
                // stays paused all the same
            }
            return false;
        }
    }

    private static void runSafePointWork(List<Runnable> work) {
        for (Runnable r : work) {
            try {
                r.run();
            } catch (Throwable t) {
                try {
                    System.err.println("pauser: safe-point work failed: " + t);
                } catch (Throwable noMemoryForTheLine) {
                    // the control thread must live on to reopen the gate, even when the line can't be printed
                }
            }
        }
    }

    /**
     * Every thread is outside its steps or parked; threads park only at outermost boundaries, so none is held inside an
     * outer step. A thread seen outside its steps counts only once it has been serialized since the gate closed (or
     * fences its entries): until then its entry may not have seen {@link #attention} yet. Those are left in
     * {@link #UNSERIALIZED} for the control thread. Call under LOCK.
     */
    private static boolean quiet() {
        UNSERIALIZED.clear();
        boolean quiet = true;
        for (Worker w : Workers.all()) {
            if (w.parked || !w.thread.isAlive()) {
                continue;
            }
            if (w.observedDepth() > 0) {
                quiet = false;
            } else if (!w.fenced && w.serializedFor != closings) {
                UNSERIALIZED.add(w);
                quiet = false;
            }
        }
        return quiet;
    }

    /**
     * Serializes workers seen outside their steps with the control thread (not under LOCK: a worker may be blocked on
     * it, which is a safe state the handshake does not wait for), then records it for the closing they were seen in.
     */
    private static void serializeIdle(List<Worker> idle, long closing) {
        for (Worker w : idle) {
            Handshake.serialize(w.thread);
        }
        LOCK.lock();
        try {
            if (closings == closing) {
                for (Worker w : idle) {
                    w.serializedFor = closing;
                }
            }
        } finally {
            LOCK.unlock();
        }
    }

    /** Call under LOCK. Records the change for the listeners, which are called outside the lock. */
    private static void moveTo(GateState next) {
        GateState prev = state;
        if (prev == next) {
            return;
        }
        long now = System.nanoTime();
        long millisInPrev = TimeUnit.NANOSECONDS.toMillis(now - stateSinceNanos);
        state = next;
        stateSinceNanos = now;
        pausedSinceMillis = next == GateState.PAUSED ? System.currentTimeMillis() : -1;
        UNDELIVERED.add(new Object[] {prev, next, steps(), millisInPrev});
        STATE_CHANGED.signalAll();
    }

    private static void deliverEvents() {
        List<Object[]> events;
        LOCK.lock();
        try {
            if (UNDELIVERED.isEmpty()) {
                return;
            }
            events = new ArrayList<>(UNDELIVERED);
            UNDELIVERED.clear();
        } finally {
            LOCK.unlock();
        }
        for (Object[] e : events) {
            for (GateListener l : LISTENERS) {
                try {
                    l.stateChanged((GateState) e[0], (GateState) e[1], (long) e[2], (long) e[3]);
                } catch (Throwable t) {
                    System.err.println("pauser: a state listener failed: " + t);
                }
            }
        }
    }
}
