package dev.pauser.agent.checkpoint;

import dev.pauser.agent.Log;
import dev.pauser.agent.snapshot.CheckpointException;
import dev.pauser.agent.snapshot.CheckpointStore;
import dev.pauser.agent.snapshot.Crc32c;
import dev.pauser.agent.snapshot.Entry;
import dev.pauser.agent.snapshot.MemoryLimits;
import dev.pauser.agent.state.StateException;
import dev.pauser.boot.Gate;
import dev.pauser.boot.PauseHook;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Takes checkpoints: capture at a safe point (every step thread held at a boundary), then a durable write.
 *
 * <h2>Asynchronous by default</h2>
 * The capture copies every registered trainer's {@code @TrainState} into reusable staging buffers on the gate's control
 * thread while the training threads are held; then the gate reopens and the writer thread ("pauser-writer") commits
 * the checkpoint. There is one staging set, so at most one write is in flight: a request made while a write is in
 * flight is <em>coalesced</em> — all requests made meanwhile are served by one capture taken as soon as that write is
 * durable. With {@code async=false} the write happens at the safe point too, training held until it is durable.
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

    private final CheckpointStore store;
    private final Trainers trainers;
    private final boolean async;
    private final boolean checkpointOnPause;
    private final Listener listener;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(daemon("pauser-writer"));
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("pauser-timer"));

    // Status, read by JMX without locks.
    private volatile long lastStep = -1;
    private volatile String lastPath = "";
    private volatile long lastBytes;
    private volatile long lastMillis;
    private volatile long lastStallMillis;
    private volatile long lastTimeMillis = -1;
    private volatile String lastError = "";
    /** The step whose state is already durable (a resumed run starts with the checkpoint it resumed from). */
    private volatile long durableStep = -1;
    private volatile long everySteps;
    /** Field CRCs of the checkpoint this run resumed from, until this run commits one; null otherwise. */
    private volatile Map<String, Integer> resumedCrcs;

    // Coordination, guarded by this.
    private CompletableFuture<CheckpointResult> next;
    private String nextReason;
    private boolean captureScheduled;
    private boolean writeInFlight;
    /** Read lock-free by the gate's control thread (under the gate's lock): never take this object's lock there. */
    private volatile boolean disabled;

    Checkpointer(CheckpointStore store, Trainers trainers, boolean async, boolean checkpointOnPause, Listener listener) {
        this.store = store;
        this.trainers = trainers;
        this.async = async;
        this.checkpointOnPause = checkpointOnPause;
        this.listener = listener;
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
            request("every " + n + " steps");
            arm(reached);
        });
    }

    /** Checkpoint at this wall-clock interval, when a step has completed since the last durable checkpoint. */
    void setInterval(Duration interval) {
        if (interval == null) {
            return;
        }
        long ms = interval.toMillis();
        timer.scheduleAtFixedRate(() -> {
            if (Gate.steps() != durableStep) {
                request("interval " + interval);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** The hook that checkpoints between quiet and PAUSED, so a paused job can be killed safely. */
    PauseHook pauseHook() {
        return new PauseHook() {
            @Override
            public boolean needed() {
                return checkpointOnPause && needsCheckpoint();
            }

            @Override
            public void run() {
                checkpointHeld("pause");
            }
        };
    }

    /** There is state that is not durable yet. */
    boolean needsCheckpoint() {
        return !disabled && trainers.anyState() && Gate.steps() != durableStep;
    }

    /** No checkpoint is written from now on (a fatal error: the state in memory must not replace a good one). */
    void disable() {
        disabled = true;
    }

    // ---------------------------------------------------------------------------------------------- requests

    /**
     * Asks for a checkpoint at the next safe point; returns at once. The future completes when it is durable (or
     * failed, or found unnecessary).
     */
    public synchronized CompletableFuture<CheckpointResult> request(String reason) {
        if (disabled) {
            return CompletableFuture.completedFuture(
                    CheckpointResult.failed(Gate.steps(), "checkpoints are disabled after a fatal error"));
        }
        if (next == null) {
            next = new CompletableFuture<>();
            nextReason = reason;
        }
        CompletableFuture<CheckpointResult> f = next;
        scheduleIfIdle();
        return f;
    }

    /** Call holding this. */
    private void scheduleIfIdle() {
        if (next != null && !writeInFlight && !captureScheduled) {
            captureScheduled = true;
            Gate.atSafePoint(this::captureAtSafePoint);
        }
    }

    /** Runs on the gate's control thread with every step thread held. */
    private void captureAtSafePoint() {
        CompletableFuture<CheckpointResult> f;
        String reason;
        synchronized (this) {
            captureScheduled = false;
            f = next;
            reason = nextReason;
            next = null;
            if (f == null) {
                return;
            }
            writeInFlight = true;
        }
        // Any Throwable (an OutOfMemoryError staging a big tensor) fails this checkpoint only: the flags are reset and
        // the future completed in every case, else no checkpoint would run again and stop and exit would wait forever.
        Snapshot snap;
        try {
            snap = capture(reason);
        } catch (Throwable e) {
            finish(f, failSafely(Gate.steps(), reason, e, "while capturing the state"));
            return;
        }
        if (snap == null) {
            finish(f, unchanged());
            return;
        }
        if (async) {
            try {
                writer.execute(() -> finish(f, writeSafely(snap)));
            } catch (Throwable e) {
                // rejected, or no memory for the writer thread: nothing was handed over
                finish(f, failSafely(snap.step, reason, e, "while handing the checkpoint to the writer"));
            }
        } else {
            snap.heldForWrite = true;
            finish(f, writeSafely(snap));
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
            return fail(Gate.steps(), reason, "the checkpoint in flight was still being written after "
                    + TimeUnit.MILLISECONDS.toSeconds(waitMillis) + " s; no " + reason + " checkpoint, the last durable "
                    + "one stands");
        }
        CompletableFuture<CheckpointResult> f = new CompletableFuture<>();
        try {
            Snapshot snap = capture(reason);
            if (snap != null && sameAsResumed(snap.entries)) {
                // A finished run started again: its loop called the step once to learn it is done. Nothing changed;
                // writing would only add an identical checkpoint under a new step number at every restart.
                Log.debug("state identical to the checkpoint resumed from; nothing written at " + reason);
                snap = null;
            }
            if (snap != null) {
                snap.heldForWrite = true;
            }
            finish(f, snap == null ? unchanged() : writeSafely(snap));
        } catch (Throwable e) {
            finish(f, failSafely(Gate.steps(), reason, e, "while capturing the state"));
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

    // --------------------------------------------------------------------------------------- capture and write

    /** What one capture took: the entries (views of the staging buffers) and where they belong. */
    private static final class Snapshot {
        final long step;
        final List<Entry> entries;
        final Map<String, String> info;
        final long captureNanos;
        final String reason;
        boolean heldForWrite;

        Snapshot(long step, List<Entry> entries, Map<String, String> info, long captureNanos, String reason) {
            this.step = step;
            this.entries = entries;
            this.info = info;
            this.captureNanos = captureNanos;
            this.reason = reason;
        }
    }

    /** Null when there is nothing new to save. Throws StateException when a field can't be captured. */
    private Snapshot capture(String reason) {
        long step = Gate.steps();
        List<Trainers.Registered> regs = trainers.registered();
        if (regs.isEmpty() || step == durableStep) {
            return null;
        }
        String instances = trainers.instancesMismatch();
        if (instances != null) {
            // A run with fewer trainers than the checkpoint it resumed from: writing would drop the others' state.
            disabled = true;
            trainers.fatalLater(instances);
            throw new IllegalStateException("the trainers of the code do not match the checkpoint resumed from");
        }
        // The checkpoint this run resumed from holds as much direct memory as the staging needs: once every trainer is
        // restored, its buffers become the staging, so a resumed run never holds both.
        Map<String, java.nio.ByteBuffer> loaded = trainers.releaseResumeSource();
        if (!loaded.isEmpty()) {
            long taken = 0;
            for (Trainers.Registered r : regs) {
                taken += r.adopt(loaded);
            }
            Log.debug("reusing " + MemoryLimits.mib(taken) + " of the resumed checkpoint's buffers as capture staging");
        }
        long t0 = System.nanoTime();
        List<Entry> entries = new ArrayList<>();
        // every registered trainer, each instance under its own entry names
        for (Trainers.Registered r : regs) {
            try {
                entries.addAll(r.captureEntries());
            } catch (StateException e) {
                throw new IllegalStateException(e.getMessage().replace(System.lineSeparator(), " "), e);
            }
        }
        Map<String, String> info = Trainers.info(regs);
        info.put("reason", reason);
        return new Snapshot(step, entries, info, System.nanoTime() - t0, reason);
    }

    /** {@link #write}, with any Throwable turned into a failed result; on the writer thread or the caller's. */
    private CheckpointResult writeSafely(Snapshot snap) {
        try {
            return write(snap);
        } catch (Throwable e) {
            return failSafely(snap.step, snap.reason, e, "while writing the checkpoint");
        }
    }

    private CheckpointResult write(Snapshot snap) {
        ProgressLine progress = new ProgressLine(snap.step, tensorBytes(snap.entries));
        java.util.concurrent.ScheduledFuture<?> ticker =
                timer.scheduleAtFixedRate(progress, 2, 2, TimeUnit.SECONDS);
        try {
            CheckpointStore.CommitResult c = store.commit(snap.step, snap.info, snap.entries);
            long millis = TimeUnit.NANOSECONDS.toMillis(snap.captureNanos + c.nanos());
            lastStep = c.step();
            lastPath = c.dir().toString();
            lastBytes = c.bytes();
            lastMillis = millis;
            // async: training waited for the copy only; otherwise (and for held checkpoints) for the write too
            lastStallMillis = TimeUnit.NANOSECONDS.toMillis(snap.captureNanos + (snap.heldForWrite ? c.nanos() : 0));
            lastTimeMillis = System.currentTimeMillis();
            lastError = "";
            durableStep = c.step();
            resumedCrcs = null;
            trainers.forgetResumeSource();
            for (String w : c.warnings()) {
                Log.warn(w);
            }
            CheckpointResult r = new CheckpointResult(c.step(), lastPath, c.bytes(), millis, true, "");
            Log.info("checkpoint " + r.describe() + " [" + snap.reason + "; held training "
                    + TimeUnit.NANOSECONDS.toMillis(snap.captureNanos) + " ms]"
                    + (c.deleted().isEmpty() ? "" : "; removed " + c.deleted().size() + " old"));
            event(snap, c.bytes(), c.nanos(), lastPath, "");
            listener.checkpointed(r, snap.reason);
            return r;
        } catch (CheckpointException | RuntimeException e) {
            return fail(snap.step, snap.reason, e.getMessage());
        } catch (OutOfMemoryError e) {
            return fail(snap.step, snap.reason, outOfMemory(e, "while writing the checkpoint"));
        } finally {
            ticker.cancel(false);
            progress.done();
        }
    }

    /**
     * {@link #fail} for any Throwable; never throws (a failure to report, e.g. no memory left for the message, still
     * yields a failed result so the caller can reset its flags).
     */
    private CheckpointResult failSafely(long step, String reason, Throwable e, String phase) {
        try {
            String message;
            if (e instanceof OutOfMemoryError) {
                message = outOfMemory((OutOfMemoryError) e, phase);
            } else if (e instanceof RuntimeException || e instanceof CheckpointException) {
                message = e.getMessage() == null ? e.toString() : e.getMessage();
            } else {
                message = e.toString();
            }
            return fail(step, reason, message);
        } catch (Throwable again) {
            lastError = "checkpoint failed: " + e;
            return CheckpointResult.failed(step, lastError);
        }
    }

    /** One line: what ran short, in which phase, and what to raise. */
    private static String outOfMemory(OutOfMemoryError e, String phase) {
        return "out of " + (MemoryLimits.isDirect(e) ? "direct buffer memory" : "heap") + " " + phase + " ("
                + e.getMessage() + "); " + MemoryLimits.raiseFor(e);
    }

    private CheckpointResult fail(long step, String reason, String message) {
        String line = message == null ? "unknown error" : message.replace(System.lineSeparator(), " ");
        lastError = line;
        Log.error("checkpoint (" + reason + ") failed: " + line + "; training goes on, earlier checkpoints are kept");
        CheckpointResult r = CheckpointResult.failed(step, line);
        try {
            CheckpointEvents.CheckpointEvent e = new CheckpointEvents.CheckpointEvent();
            e.step = step;
            e.reason = reason;
            e.error = line;
            e.commit();
        } catch (LinkageError noJfr) {
            // JFR absent from this runtime
        }
        listener.checkpointed(r, reason);
        return r;
    }

    private CheckpointResult unchanged() {
        return new CheckpointResult(durableStep, lastPath, lastBytes, 0, false, "");
    }

    /** The bytes of tensor data among the entries. */
    static long tensorBytes(List<Entry> entries) {
        long n = 0;
        for (Entry e : entries) {
            if (e instanceof dev.pauser.agent.snapshot.TensorEntry) {
                n += ((dev.pauser.agent.snapshot.TensorEntry) e).data().remaining();
            }
        }
        return n;
    }

    private static void event(Snapshot snap, long bytes, long writeNanos, String path, String error) {
        try {
            CheckpointEvents.CheckpointEvent e = new CheckpointEvents.CheckpointEvent();
            e.step = snap.step;
            e.bytes = bytes;
            e.captureNanos = snap.captureNanos;
            e.writeNanos = writeNanos;
            e.path = path;
            e.reason = snap.reason;
            e.error = error;
            e.commit();
        } catch (LinkageError noJfr) {
            // JFR absent from this runtime
        }
    }

    /** A console line every two seconds while a long checkpoint is written. */
    private static final class ProgressLine implements Runnable {
        private final long step;
        private final long bytes;
        private final long t0 = System.nanoTime();
        private volatile boolean printed;

        ProgressLine(long step, long bytes) {
            this.step = step;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            printed = true;
            Log.info("writing checkpoint of step " + step + " (" + bytes / (1 << 20) + " MiB of tensors): "
                    + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) + " s so far");
        }

        void done() {
            if (printed) {
                Log.info("checkpoint of step " + step + " written in "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- status

    /**
     * A resumed run: the state at {@code step} is already durable in {@code path} (written at {@code wallTimeMillis},
     * {@code bytes} of files), with these field CRCs. It is the newest checkpoint until this run writes one; how long it
     * took is unknown here, so those figures stay 0.
     */
    void resumedFrom(long step, String path, long wallTimeMillis, long bytes, Map<String, Integer> fieldCrcs) {
        durableStep = step;
        lastStep = step;
        lastPath = path;
        lastTimeMillis = wallTimeMillis;
        lastBytes = bytes;
        resumedCrcs = fieldCrcs;
    }

    /** Every captured entry has the same key and CRC32C as in the checkpoint this run resumed from. */
    private boolean sameAsResumed(List<Entry> entries) {
        Map<String, Integer> crcs = resumedCrcs;
        if (crcs == null || crcs.size() != entries.size()) {
            return false;
        }
        for (Entry e : entries) {
            Integer stored = crcs.get(e.key());
            if (stored == null || stored != Crc32c.ofField(e)) {
                return false;
            }
        }
        return true;
    }

    public long lastStep() {
        return lastStep;
    }

    public String lastPath() {
        return lastPath;
    }

    public long lastBytes() {
        return lastBytes;
    }

    public long lastMillis() {
        return lastMillis;
    }

    public long lastStallMillis() {
        return lastStallMillis;
    }

    public long lastTimeMillis() {
        return lastTimeMillis;
    }

    public String lastError() {
        return lastError;
    }
}
