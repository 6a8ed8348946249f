package dev.pauser.agent.checkpoint;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.gate.Gate;
import dev.pauser.gate.PauseHook;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Decides when checkpoints are taken and hands each from capture to write: the triggers (every N steps, an interval,
 * JMX and the CLI, pause, stop, exit) ask for one; a capture at a safe point (every step thread held at a boundary,
 * {@link CheckpointCapture}), then a durable write ({@link CheckpointWriter}). {@link #request} may be called on any
 * thread; the every-N-steps alarm fires on the training thread that completes the step, the interval on
 * "pauser-timer"; the capture runs on the gate's control thread, the write on "pauser-writer". What the last
 * checkpoint was is kept in its {@link CheckpointStatus}.
 *
 * <h2>Asynchronous by default</h2>
 * The capture copies every registered trainer's {@code @TrainState} into reusable staging buffers on the gate's control
 * thread while the training threads are held; then the gate reopens and the writer thread ("pauser-writer") commits
 * the checkpoint. There is one staging set, so at most one write is in flight: a request made while a write is in
 * flight is <em>coalesced</em> — all requests made meanwhile are served by one capture taken as soon as that write is
 * durable. With {@code async=false} the write happens at the safe point too, training held until it is durable.
 *
 * <h2>Prepared in the background</h2>
 * When a trainer registers, {@link #prepare} has the writer thread get the first capture ready, off the training
 * thread: the staging buffers sized from the trainer's tensor fields (allocated, so touched), the classes of the capture
 * and write paths (loaded and initialized), the copy threads and the writer thread itself (started). It allocates only
 * what the direct memory limit leaves room for, and nothing for a resumed run, whose first capture takes the loaded
 * checkpoint's buffers as staging. A checkpoint asked for meanwhile (JMX, the CLI, the interval) waits for the
 * preparation before the gate closes, so the steps are held for the copy only. One whose step is part of its meaning
 * (an {@code every} checkpoint, taken at its multiple; a held checkpoint, whose steps are held already) is taken at
 * once: it uses what is ready and allocates the rest itself, as without preparation (a slot being allocated by the
 * preparation is waited for, not allocated twice).
 *
 * <h2>Held checkpoints</h2>
 * On pause, stop and exit the caller already holds every step thread; {@link #checkpointHeld} waits for a write in
 * flight, captures and writes synchronously, so pause and stop report the checkpoint done only once it is durable.
 */
public final class Checkpointer {

    /** Told of every checkpoint written or failed (JMX notifications). */
    public interface Listener {
        void checkpointed(CheckpointResult result, String reason);
    }

    private final TrainerRegistry registry;
    private final boolean async;
    private final boolean checkpointOnPause;
    /** Null unless {@code releaseGpuOnPause}. */
    private final GpuReleaseOnPause gpuRelease;
    private final ExecutorService writerThread = Executors.newSingleThreadExecutor(daemon("pauser-writer"));
    /** Gets the first capture ready on the writer thread. */
    private final CheckpointPreparation preparation;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("pauser-timer"));
    private final CheckpointStatus status = new CheckpointStatus();
    private final CheckpointCapture capture;
    private final CheckpointWriter writer;
    private volatile long everySteps;
    private volatile boolean exactEverySteps;
    private final CheckpointStore store;

    // Coordination, guarded by this.
    private CompletableFuture<CheckpointResult> next;
    private String nextReason;
    /** The next capture serves a request whose step is part of its meaning ({@code every}): it must not wait. */
    private boolean nextAtItsStep;
    /** A capture waits for the background preparation; it is scheduled when that is done. */
    private boolean waitingForPreparation;
    private boolean captureScheduled;
    private boolean writeInFlight;
    /** Read lock-free by the gate's control thread (under the gate's lock): never take this object's lock there. */
    private volatile boolean disabled;

    Checkpointer(CheckpointStore store, TrainerRegistry registry, TrainerRestorer restorer, boolean async,
            boolean checkpointOnPause, boolean releaseGpuOnPause, Listener listener) {
        this.registry = registry;
        this.store = store;
        this.preparation = new CheckpointPreparation(writerThread, restorer, () -> disabled);
        this.async = async;
        this.checkpointOnPause = checkpointOnPause;
        this.gpuRelease = releaseGpuOnPause ? new GpuReleaseOnPause(registry) : null;
        this.capture = new CheckpointCapture(registry, restorer, status, this::disable,
                () -> gpuRelease != null && gpuRelease.holding());
        this.writer = new CheckpointWriter(store, restorer, status, listener, timer);
    }

    /** Keeps the checkpoint of {@code step} through retention, for a job; {@link CheckpointStore#pin}. */
    public void pin(long step) {
        store.pin(step);
    }

    public void unpin(long step) {
        store.unpin(step);
    }

    /** Applies retention now (after unpinning); {@link CheckpointStore#retainNow}. Any thread. */
    public void retainNow() {
        store.retainNow().forEach(Log::warn);
    }

    /** The newest checkpoint and the last attempt's outcome, as JMX shows them. */
    public CheckpointStatus status() {
        return status;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    // ------------------------------------------------------------------------------------------------- triggers

    /** Checkpoint every {@code n} steps (counted by Step); 0 or less turns it off. Live. */
    public void setEverySteps(long n) {
        everySteps = Math.max(0, n);
        arm(Gate.steps());
    }

    public long everySteps() {
        return everySteps;
    }

    private void arm(long fromStep) {
        long n = everySteps;
        if (n <= 0) {
            Gate.setStepAlarm(-1, null);
            return;
        }
        Gate.setStepAlarm((fromStep / n + 1) * n, reached -> {
            if (exactEverySteps) {
                awaitNoWriteInFlight();
            }
            request("every " + n + " steps", true);
            arm(reached);
        });
    }

    /**
     * Every-N checkpoints are taken exactly at their step, never later: a worker of a job of several JVMs commits a job
     * checkpoint of a step only when every worker has one of that step. The step's thread then waits, at that step,
     * for the previous checkpoint's write to end instead of training on while it ends (as it does alone).
     */
    public void setExactEverySteps(boolean exact) {
        exactEverySteps = exact;
    }

    /** On the training thread, at the exit of an every-N step (outside its step): until no write is in flight. */
    private synchronized void awaitNoWriteInFlight() {
        while (writeInFlight && !disabled) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the app's interrupt: keep it, and take the checkpoint later
                return;
            }
        }
    }

    /** Checkpoint at this wall-clock interval, when a step has completed since the last durable checkpoint. */
    void setInterval(Duration interval) {
        if (interval == null) {
            return;
        }
        long ms = interval.toMillis();
        timer.scheduleAtFixedRate(() -> {
            if (Gate.steps() != status.durableStep()) {
                request("interval " + interval);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /**
     * The hook that checkpoints between quiet and PAUSED, so a paused job can be killed safely; with
     * {@code releaseGpuOnPause}, it then gives the GPU fields' memory back (not when the pause checkpoint failed: the
     * memory would be all that holds the state).
     */
    PauseHook pauseHook() {
        return new PauseHook() {
            @Override
            public boolean needed() {
                return checkpointOnPause && needsCheckpoint() || gpuRelease != null && gpuRelease.wanted();
            }

            @Override
            public void run() {
                boolean durable = true;
                if (checkpointOnPause && needsCheckpoint()) {
                    durable = checkpointHeld("pause").ok();
                }
                if (gpuRelease != null) {
                    if (durable) {
                        gpuRelease.release();
                    } else {
                        Log.warn("the pause checkpoint failed: the GPU memory stays allocated during this pause");
                    }
                }
            }
        };
    }

    /** The gate's resume hook: takes released GPU memory back first; null without {@code releaseGpuOnPause}. */
    dev.pauser.gate.ResumeHook resumeHook() {
        return gpuRelease;
    }

    /** Device bytes freed by the pause in effect now; 0 when running or without {@code releaseGpuOnPause}. */
    public long deviceBytesReleased() {
        return gpuRelease == null ? 0 : gpuRelease.releasedBytes();
    }

    /** Why taking GPU memory back at the last resume failed; empty otherwise. */
    public String deviceReleaseError() {
        return gpuRelease == null ? "" : gpuRelease.error();
    }

    /** There is state that is not durable yet. */
    boolean needsCheckpoint() {
        return !disabled && registry.anyState() && Gate.steps() != status.durableStep();
    }

    /** No checkpoint is written from now on (a fatal error: the state in memory must not replace a good one). */
    void disable() {
        disabled = true;
    }

    /**
     * Gets the first capture of {@code r} ready in the background (see the class comment); returns at once. Called on
     * the thread registering the trainer (a training thread before its first step, or a constructing thread).
     */
    void prepare(RegisteredTrainer r) {
        preparation.prepare(r);
    }

    // ---------------------------------------------------------------------------------------------- requests

    /**
     * Asks for a checkpoint at the next safe point; returns at once. The future completes when it is durable (or
     * failed, or found unnecessary).
     */
    public CompletableFuture<CheckpointResult> request(String reason) {
        return request(reason, false);
    }

    /**
     * As {@link #request(String)}; {@code atItsStep}: the step it is taken at is part of its meaning (an {@code every}
     * checkpoint), so it is not delayed for the background preparation.
     */
    synchronized CompletableFuture<CheckpointResult> request(String reason, boolean atItsStep) {
        if (disabled) {
            return CompletableFuture.completedFuture(
                    CheckpointResult.failed(Gate.steps(), "checkpoints are disabled after a fatal error"));
        }
        if (next == null) {
            next = new CompletableFuture<>();
            nextReason = reason;
        }
        nextAtItsStep |= atItsStep;
        CompletableFuture<CheckpointResult> f = next;
        scheduleIfIdle();
        return f;
    }

    /** Call holding this. */
    private void scheduleIfIdle() {
        if (next != null && !writeInFlight && !captureScheduled) {
            CompletableFuture<Void> ready = preparation.ready();
            if (nextAtItsStep || ready.isDone()) {
                captureScheduled = true;
                Gate.atSafePoint(this::captureAtSafePoint);
            } else if (!waitingForPreparation) {
                // the gate closes once the preparation is done, so the steps are held for the copy only; an every-N
                // request arriving meanwhile schedules at once (request calls this again)
                waitingForPreparation = true;
                ready.whenComplete((v, e) -> {
                    synchronized (this) {
                        waitingForPreparation = false;
                        try {
                            scheduleIfIdle();
                        } catch (Throwable t) {
                            captureScheduled = false; // retried by the next request
                        }
                    }
                });
            }
        }
    }

    /** Runs on the gate's control thread with every step thread held. */
    private void captureAtSafePoint() {
        CheckpointEvents.CheckpointEvent event = CheckpointEvents.begin(); // first: the event covers the whole hold
        long heldSince = System.nanoTime();
        CompletableFuture<CheckpointResult> f;
        String reason;
        synchronized (this) {
            captureScheduled = false;
            f = next;
            reason = nextReason;
            next = null;
            nextAtItsStep = false;
            if (f == null) {
                return;
            }
            writeInFlight = true;
        }
        // Any Throwable (an OutOfMemoryError staging a big tensor) fails this checkpoint only: the flags are reset and
        // the future completed in every case, else no checkpoint would run again and stop and exit would wait forever.
        CheckpointCapture.Snapshot snap;
        try {
            snap = capture.capture(reason, heldSince, event);
        } catch (Throwable e) {
            finish(f, writer.failSafely(Gate.steps(), reason, e, "while capturing the state"));
            return;
        }
        if (snap == null) {
            finish(f, status.unchanged());
            return;
        }
        if (async) {
            try {
                writerThread.execute(() -> finish(f, writer.writeSafely(snap)));
            } catch (Throwable e) {
                // rejected, or no memory for the writer thread: nothing was handed over
                finish(f, writer.failSafely(snap.step, reason, e, "while handing the checkpoint to the writer"));
            }
        } else {
            snap.heldForWrite = true;
            finish(f, writer.writeSafely(snap));
        }
    }

    /**
     * Checkpoints now, synchronously. The caller guarantees that every step thread is held at a boundary (the pause
     * hook on the gate's control thread, the stopper on "pauser-stop", the exit hook on "pauser-exit"). Waits for a
     * write in flight first (the staging buffers are reused), however long it takes.
     */
    public CheckpointResult checkpointHeld(String reason) {
        return checkpointHeld(reason, Long.MAX_VALUE);
    }

    /**
     * As {@link #checkpointHeld(String)}, but waits at most {@code waitMillis} for a write in flight: the stop and exit
     * hooks must not hold the JVM past its grace time behind a write that does not finish.
     */
    public CheckpointResult checkpointHeld(String reason, long waitMillis) {
        boolean stillWriting;
        synchronized (this) {
            if (disabled) {
                return CheckpointResult.failed(Gate.steps(), "checkpoints are disabled after a fatal error");
            }
            long deadline = System.currentTimeMillis() + Math.min(waitMillis, Long.MAX_VALUE / 4);
            while (writeInFlight) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    break;
                }
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return CheckpointResult.failed(Gate.steps(), "interrupted while waiting for the checkpoint in flight");
                }
            }
            stillWriting = writeInFlight;
            writeInFlight = true;
        }
        if (stillWriting) {
            // reported outside this object's lock: the listener sends a JMX notification
            return writer.fail(Gate.steps(), reason, "the checkpoint in flight was still being written after "
                    + TimeUnit.MILLISECONDS.toSeconds(waitMillis) + " s; no " + reason + " checkpoint, the last durable "
                    + "one stands");
        }
        CompletableFuture<CheckpointResult> f = new CompletableFuture<>();
        try {
            CheckpointCapture.Snapshot snap = capture.capture(reason);
            if (snap != null && status.sameAsResumed(snap.entries)) {
                // A finished run started again: its loop called the step once to learn it is done. Nothing changed;
                // writing would only add an identical checkpoint under a new step number at every restart.
                Log.debug("state identical to the checkpoint resumed from; nothing written at " + reason);
                snap = null;
            }
            finish(f, snap == null ? status.unchanged() : writer.writeSafely(snap));
        } catch (Throwable e) {
            finish(f, writer.failSafely(Gate.steps(), reason, e, "while capturing the state"));
        }
        return f.join();
    }

    /** Waits for a write in flight, at most {@code millis}; true when none is left. */
    synchronized boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (writeInFlight || captureScheduled) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Clears the in-flight flag, wakes waiters and completes {@code f}, whatever fails on the way. */
    private void finish(CompletableFuture<CheckpointResult> f, CheckpointResult result) {
        try {
            synchronized (this) {
                writeInFlight = false;
                notifyAll();
                try {
                    scheduleIfIdle();
                } catch (Throwable e) {
                    // a coalesced request stays queued and is retried by the next request
                    captureScheduled = false;
                }
            }
        } finally {
            f.complete(result);
        }
    }
}
