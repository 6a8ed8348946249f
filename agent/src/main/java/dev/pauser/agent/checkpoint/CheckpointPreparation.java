package dev.pauser.agent.checkpoint;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.store.MemoryLimits;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Gets a trainer's first checkpoint ready in the background, on "pauser-writer", once the trainer registers: its
 * staging buffers sized from its tensor fields (allocated, so touched), within what the direct memory limit leaves
 * room for and not for a resumed run (whose first capture adopts the loaded checkpoint's buffers); the copy threads;
 * the JSON fields' writers; and the classes the first checkpoint would otherwise load while the steps are held
 * (capture) and before it is durable (write), loaded and initialized ahead. The class list is what the first
 * checkpoint of a trainer with tensor and JSON fields loads (seen with {@code -Xlog:class+load}); a name missing here
 * is only loaded later, at the checkpoint, as without preparation. The JFR event class is the
 * costly one: loading it registers the event with JFR (hundreds of milliseconds on two busy cores).
 */
final class CheckpointPreparation {
    private static final String[] CLASSES = {
        "dev.pauser.agent.checkpoint.CheckpointEvents",
        "dev.pauser.agent.checkpoint.CheckpointEvents$CheckpointEvent",
        "dev.pauser.agent.checkpoint.CheckpointCapture$Snapshot",
        "dev.pauser.agent.checkpoint.CheckpointResult",
        "dev.pauser.agent.checkpoint.CheckpointWriter$ProgressLine",
        "dev.pauser.agent.device.DeviceStaging$Report",
        "dev.pauser.agent.store.TensorEntry",
        "dev.pauser.agent.store.JsonEntry",
        "dev.pauser.agent.store.HostName",
        "dev.pauser.agent.store.CheckpointLayout",
        "dev.pauser.agent.store.Safetensors",
        "dev.pauser.agent.store.Manifest",
        "dev.pauser.agent.store.Manifest$Field",
        "dev.pauser.agent.store.Manifest$Kind",
        "dev.pauser.agent.store.Crc32c",
        "dev.pauser.agent.store.Reading",
        "dev.pauser.agent.store.Retention",
        "dev.pauser.agent.store.Retention$Candidate",
        "dev.pauser.agent.store.CheckpointStore$CommitResult",
        "dev.pauser.agent.store.CheckpointCommit",
        "java.util.zip.CRC32C",
        "java.time.LocalDateTime",
        "java.nio.file.StandardCopyOption",
        "java.nio.file.SimpleFileVisitor",
        "java.nio.file.FileTreeWalker",
        "java.time.format.DateTimePrintContext",
        "sun.nio.fs.LinuxFileStore",
        "sun.security.provider.SecureRandom",
    };

    private final ExecutorService writerThread;
    private final TrainerRestorer restorer;
    /** True once checkpoints are turned off: nothing is worth preparing then. */
    private final BooleanSupplier disabled;
    /**
     * Completes once every preparation asked for so far has finished; never completes exceptionally. Guarded by this.
     */
    private CompletableFuture<Void> prepared = CompletableFuture.completedFuture(null);

    CheckpointPreparation(ExecutorService writerThread, TrainerRestorer restorer, BooleanSupplier disabled) {
        this.writerThread = writerThread;
        this.restorer = restorer;
        this.disabled = disabled;
    }

    /**
     * Gets the first capture of {@code r} ready in the background; returns at once. Called on the thread registering the
     * trainer (a training thread before its first step, or a constructing thread).
     */
    void prepare(RegisteredTrainer r) {
        synchronized (this) {
            try {
                prepared = prepared.thenRunAsync(() -> prepareNow(r), writerThread).exceptionally(e -> null);
            } catch (Throwable e) {
                // no memory for it: the first checkpoint prepares itself
            }
        }
    }

    /** Completes when the preparations asked for so far are done (whatever became of them). */
    synchronized CompletableFuture<Void> ready() {
        return prepared;
    }

    /** Runs on "pauser-writer". Whatever fails here only leaves more to do at the first capture. */
    private void prepareNow(RegisteredTrainer r) {
        try {
            // the staging first: it is the largest part of a first capture
            long t0 = System.nanoTime();
            long staged = 0;
            // a resumed run's first capture adopts the loaded checkpoint's buffers as staging
            if (!disabled.getAsBoolean() && !restorer.resuming()) {
                Map<String, Long> sizes = r.capture.stagingSizes(r.self);
                long missing = r.capture.stagingMissing(sizes);
                long available = MemoryLimits.availableDirect();
                if (missing > available) {
                    Log.info("not preparing " + MemoryLimits.mib(missing) + " of capture staging for " + r.id
                            + " ahead: " + MemoryLimits.mib(available) + " of direct buffer memory is free; the first "
                            + "checkpoint allocates it while the steps are held");
                } else {
                    r.capture.prepareStaging(sizes);
                    staged = missing;
                }
            }
            StateCapture.startCopyThreads();
            r.capture.prepareJsonWriters();
            loadCaptureAndWriteClasses();
            Log.debug("prepared the first checkpoint of " + r.id + " in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms: " + MemoryLimits.mib(staged)
                    + " of capture staging");
        } catch (Throwable e) {
            Log.debug("preparing the first checkpoint of " + r.id + " failed (" + e + "); it prepares itself");
        }
    }

    /**
     * Loads and initializes {@link #CLASSES}, and runs the capture's copy and JSON paths once on throwaway values; one
     * that can't be loaded is left to the checkpoint.
     */
    private static void loadCaptureAndWriteClasses() {
        dev.pauser.agent.state.StateCapture.warmUp();
        ClassLoader loader = CheckpointPreparation.class.getClassLoader();
        for (String name : CLASSES) {
            try {
                Class.forName(name, true, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                // not in this runtime (JFR absent): the checkpoint does without it
            }
        }
        CheckpointEvents.loaded();
    }
}
