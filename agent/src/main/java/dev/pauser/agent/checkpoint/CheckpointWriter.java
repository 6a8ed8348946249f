package dev.pauser.agent.checkpoint;

import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.log.Log;
import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.MemoryLimits;
import dev.pauser.agent.store.TensorEntry;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Makes a captured checkpoint durable in the store and reports each outcome once, written or failed: the log line, the
 * {@link CheckpointStatus}, a JFR event and the {@link Checkpointer.Listener} (JMX notifications). Runs on the writer
 * thread "pauser-writer" for asynchronous checkpoints, else on the capturing thread (the gate's control thread, or that
 * of a held checkpoint); a progress line is printed from "pauser-timer" while a long write runs.
 */
final class CheckpointWriter {
    private final CheckpointStore store;
    private final TrainerRestorer restorer;
    private final CheckpointStatus status;
    private final Checkpointer.Listener listener;
    private final ScheduledExecutorService timer;

    CheckpointWriter(CheckpointStore store, TrainerRestorer restorer, CheckpointStatus status,
            Checkpointer.Listener listener, ScheduledExecutorService timer) {
        this.store = store;
        this.restorer = restorer;
        this.status = status;
        this.listener = listener;
        this.timer = timer;
    }

    /** {@link #write}, with any Throwable turned into a failed result. */
    CheckpointResult writeSafely(CheckpointCapture.Snapshot snap) {
        try {
            return write(snap);
        } catch (Throwable e) {
            return failSafely(snap.step, snap.reason, e, "while writing the checkpoint");
        }
    }

    private CheckpointResult write(CheckpointCapture.Snapshot snap) {
        ProgressLine progress = new ProgressLine(snap.step, tensorBytes(snap.entries));
        ScheduledFuture<?> ticker = timer.scheduleAtFixedRate(progress, 2, 2, TimeUnit.SECONDS);
        try {
            CheckpointStore.CommitResult c = store.commit(snap.step, snap.info, snap.entries);
            long millis = TimeUnit.NANOSECONDS.toMillis(snap.captureNanos + c.nanos());
            // Training waited for the copy, and with async=false for the write too. A held checkpoint (pause, stop,
            // exit) holds the steps for the copy only: they are held by the pause or the stop itself meanwhile.
            status.committed(c, millis, snap.captureNanos + (snap.heldForWrite ? c.nanos() : 0));
            restorer.forgetResumeSource();
            for (String w : c.warnings()) {
                Log.warn(w);
            }
            String path = c.dir().toString();
            CheckpointResult r = new CheckpointResult(c.step(), path, c.bytes(), millis, true, "");
            Log.info("checkpoint " + r.describe() + " [" + snap.reason + "; held training "
                    + TimeUnit.NANOSECONDS.toMillis(snap.captureNanos) + " ms" + gpuNote(snap.device) + "]"
                    + (c.deleted().isEmpty() ? "" : "; removed " + c.deleted().size() + " old"));
            event(snap, c.bytes(), c.nanos(), path, "");
            listener.checkpointed(r, snap.reason);
            return r;
        } catch (CheckpointException | RuntimeException e) {
            return fail(snap.step, snap.reason, e.getMessage(), snap.event);
        } catch (OutOfMemoryError e) {
            return fail(snap.step, snap.reason, outOfMemory(e, "while writing the checkpoint"), snap.event);
        } finally {
            ticker.cancel(false);
            progress.done();
        }
    }

    /**
     * {@link #fail} for any Throwable; never throws (a failure to report, e.g. no memory left for the message, still
     * yields a failed result so the caller can reset its flags).
     */
    CheckpointResult failSafely(long step, String reason, Throwable e, String phase) {
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
            String line = "checkpoint failed: " + e;
            status.failed(line);
            return CheckpointResult.failed(step, line);
        }
    }

    /** One line: what ran short, in which phase, and what to raise. */
    private static String outOfMemory(OutOfMemoryError e, String phase) {
        return "out of " + (MemoryLimits.isDirect(e) ? "direct buffer memory" : "heap") + " " + phase + " ("
                + e.getMessage() + "); " + MemoryLimits.raiseFor(e);
    }

    /** Reports the checkpoint of {@code step} failed with {@code message}; the earlier checkpoints stand. */
    CheckpointResult fail(long step, String reason, String message) {
        return fail(step, reason, message, null);
    }

    /** As {@link #fail(long, String, String)}, closing {@code begun} (the event of the failed capture) if not null. */
    private CheckpointResult fail(long step, String reason, String message, CheckpointEvents.CheckpointEvent begun) {
        String line = message == null ? "unknown error" : message.replace(System.lineSeparator(), " ");
        status.failed(line);
        Log.error("checkpoint (" + reason + ") failed: " + line + "; training goes on, earlier checkpoints are kept");
        CheckpointResult r = CheckpointResult.failed(step, line);
        try {
            CheckpointEvents.CheckpointEvent e = begun != null ? begun : new CheckpointEvents.CheckpointEvent();
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

    /** "; GPU 512 MiB by device shadow, 3 ms of the hold" when the snapshot holds GPU fields, else "". */
    static String gpuNote(DeviceStaging.Report device) {
        if (device.path() == DeviceStaging.Path.NONE) {
            return "";
        }
        return "; GPU " + MemoryLimits.mib(device.bytes()) + " by "
                + (device.path() == DeviceStaging.Path.DEVICE ? "device shadow" : "pinned host copy") + ", "
                + TimeUnit.NANOSECONDS.toMillis(device.copyNanos()) + " ms of the hold";
    }

    /** The bytes of tensor data among the entries. */
    private static long tensorBytes(List<Entry> entries) {
        long n = 0;
        for (Entry e : entries) {
            if (e instanceof TensorEntry) {
                n += ((TensorEntry) e).byteLength();
            }
        }
        return n;
    }

    private static void event(CheckpointCapture.Snapshot snap, long bytes, long writeNanos, String path, String error) {
        try {
            // begun when the capture began, ended now: the event spans the capture and the durable write
            CheckpointEvents.CheckpointEvent e = snap.event != null ? snap.event : new CheckpointEvents.CheckpointEvent();
            e.step = snap.step;
            e.bytes = bytes;
            e.captureNanos = snap.captureNanos;
            e.writeNanos = writeNanos;
            e.path = path;
            e.reason = snap.reason;
            e.error = error;
            e.deviceStaging = snap.device.path().label();
            e.deviceBytes = snap.device.bytes();
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
}
