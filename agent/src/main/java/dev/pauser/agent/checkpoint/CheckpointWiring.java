package dev.pauser.agent.checkpoint;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.StateRestore;
import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.Resume;
import dev.pauser.gate.Gate;
import dev.pauser.gate.TrainerEvents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Sets up checkpointing before {@code main}: opens (and locks) the store, picks the checkpoint to resume from, and
 * connects the triggers (every N steps, an interval, pause, stop, the end of the run) to the {@link Checkpointer}.
 */
public final class CheckpointWiring {

    /** The options this part needs, read from the agent's configuration. */
    public record Settings(Path dir, String resume, StateRestore.OnMismatch onMismatch, int keep, Duration keepEvery,
            long every, Duration interval, boolean async, boolean checkpointOnPause, int graceSeconds,
            boolean releaseGpuOnPause) {
    }

    /** How long the exit hook waits for a step in flight. */
    private static final int EXIT_WAIT_SECONDS = 3;

    private CheckpointWiring() {
    }

    /**
     * The checkpoint directory cannot be used (not a directory, another user could write it, another process holds its
     * lock, an I/O error); nothing in it was changed. The message is one line, {@code pauser: ...}, naming it and the fix.
     */
    public static final class DirectoryRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DirectoryRefused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Runs on the thread that loads the agent (premain's main thread, or the attach listener). Order: open the store
     * (trust checks, then the lock, then crash debris cleaned under it), and only while holding the lock read the
     * checkpoint to resume from and set newer ones aside; so a second process pointed at a live run's directory reads,
     * moves and deletes nothing there.
     *
     * @param fatal prints the line(s) and ends the JVM; must not return normally in production
     * @param addStopHook registers work for the graceful stop's final safe point
     * @param opened runs once the store is open, before anything is said about the checkpoints in it (the agent's
     *        start line)
     * @param afterExit runs on {@code pauser-exit} as the JVM exits, after the exit checkpoint (if any) is durable
     * @throws DirectoryRefused when the directory cannot be used; the caller reports it (premain: exit 2)
     */
    public static Checkpointer start(Settings s, Checkpointer.Listener listener, Consumer<String> fatal,
            Consumer<Runnable> addStopHook, Runnable opened, Runnable afterExit) {
        CheckpointStore store;
        try {
            store = CheckpointStore.open(s.dir(), CheckpointStore.Options.defaults().withRetention(s.keep(), s.keepEvery()));
        } catch (CheckpointException e) {
            throw new DirectoryRefused("pauser: " + e.getMessage(), e);
        }
        opened.run();
        for (String line : store.openReport()) {
            Log.warn(line);
        }
        LoadedCheckpoint from = chooseResume(store, s, fatal);
        setAsideNewer(store, from == null ? -1 : from.step());
        Checkpointer[] holder = new Checkpointer[1];
        Consumer<String> fatalAtRuntime = message -> {
            if (holder[0] != null) {
                holder[0].disable(); // the state in memory must never replace a good checkpoint
            }
            fatal.accept(message);
        };
        TrainerRegistry registry = new TrainerRegistry();
        TrainerSightings sightings = new TrainerSightings();
        TrainerRestorer restorer = new TrainerRestorer(from, s.onMismatch(), registry, sightings, fatalAtRuntime,
                CheckpointWiring::restored);
        Checkpointer checkpointer = new Checkpointer(store, registry, restorer, s.async(), s.checkpointOnPause(),
                s.releaseGpuOnPause(), listener);
        holder[0] = checkpointer;
        registry.onAdd(checkpointer::prepare);
        if (from != null) {
            store.protect(from.dir());
            Gate.setSteps(from.step());
            checkpointer.status().resumedFrom(from, filesBytes(from.dir()));
            Log.info("resuming from " + from.dir() + " at step " + from.step() + " (written "
                    + from.wallTime() + ")");
        }
        TrainerEvents.setListener(new TrainerDiscovery(registry, sightings, restorer, fatalAtRuntime));
        Gate.setPauseHook(checkpointer.pauseHook());
        Gate.setResumeHook(checkpointer.resumeHook());
        addStopHook.accept(() -> {
            if (checkpointer.needsCheckpoint()) {
                // on "pauser-stop"; a write still in flight is waited for at most the grace time
                checkpointer.checkpointHeld("stop", TimeUnit.SECONDS.toMillis(s.graceSeconds()));
            } else {
                awaitIdle(checkpointer, s.graceSeconds());
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            atExit(checkpointer, s.graceSeconds());
            afterExit.run();
        }, "pauser-exit"));
        checkpointer.setEverySteps(s.every() > 0 ? s.every() : 0);
        checkpointer.setInterval(s.interval());
        return checkpointer;
    }

    /**
     * The JVM is exiting without a graceful stop (main returned, System.exit, onSignal=exit): if steps ran since the last
     * checkpoint, hold the gate and write one more, bounded by the grace time.
     */
    private static void atExit(Checkpointer checkpointer, int graceSeconds) {
        if (!checkpointer.needsCheckpoint()) {
            awaitIdle(checkpointer, graceSeconds);
            return;
        }
        Gate.stop();
        try {
            // Bounded tighter than a stop: a step still in flight now is usually the thread that called System.exit
            // from inside it, or a daemon thread the exit will cut anyway; waiting would only delay the exit.
            if (Gate.awaitQuiet(TimeUnit.SECONDS.toMillis(Math.min(graceSeconds, EXIT_WAIT_SECONDS)))) {
                // the checkpointer logs the result, written or failed (to stderr while the JVM shuts down)
                checkpointer.checkpointHeld("exit", TimeUnit.SECONDS.toMillis(graceSeconds));
            } else {
                System.err.println("pauser: at exit, a step was still running; no final checkpoint (the last one "
                        + "stands)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The size of the files of a checkpoint directory; what is unreadable counts 0 (the figure is informational). */
    private static long filesBytes(Path checkpoint) {
        long n = 0;
        try (Stream<Path> files = Files.list(checkpoint)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    n += Files.size(f);
                }
            }
        } catch (IOException e) {
            Log.debug("cannot size " + checkpoint + ": " + e);
        }
        return n;
    }

    private static void awaitIdle(Checkpointer checkpointer, int graceSeconds) {
        try {
            if (!checkpointer.awaitIdle(TimeUnit.SECONDS.toMillis(graceSeconds))) {
                System.err.println("pauser: a checkpoint was still being written after " + graceSeconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Checkpoints with a higher step than the one this run continues from (all of them for a fresh start: resume=never,
     * or nothing valid) belong to another timeline: a corrupt newer one, or a run that went further before a
     * resume=&lt;path&gt;. Left in place they would outrank this run's checkpoints in retention and in the next
     * resume=auto. They are moved, not deleted, into {@code <dir>/aside-<time>/}.
     */
    private static void setAsideNewer(CheckpointStore store, long fromStep) {
        List<Path> newer;
        try {
            newer = store.newerThan(fromStep);
        } catch (IOException e) {
            Log.error("cannot list " + store.root() + " to set aside checkpoints newer than the resume point: " + e
                    + "; retention and resume=auto may prefer them over this run's");
            return;
        }
        if (newer.isEmpty()) {
            return;
        }
        try {
            Path aside = store.setAside(newer);
            Log.warn("moved " + newer.size() + " checkpoint(s) newer than the resume point"
                    + (fromStep < 0 ? " (this run starts afresh)" : " (step " + fromStep + ")") + " to " + aside
                    + ", so they neither outrank this run's checkpoints nor are resumed from by mistake");
        } catch (IOException e) {
            Log.error("cannot move checkpoints newer than the resume point into an aside-* directory of "
                    + store.root() + ": " + e + "; retention and resume=auto may prefer them over this run's");
        }
    }

    /**
     * resume=auto: the store's newest checkpoint that verifies (chosen under its lock); never: none; a path: that one or
     * a fatal error.
     */
    private static LoadedCheckpoint chooseResume(CheckpointStore store, Settings s, Consumer<String> fatal) {
        String mode = s.resume();
        if (mode.equals("never")) {
            return null;
        }
        long t0 = System.nanoTime();
        // A console line every two seconds while a big checkpoint is read and verified.
        java.util.concurrent.ScheduledExecutorService ticker = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "pauser-resume-progress");
                    t.setDaemon(true);
                    return t;
                });
        ticker.scheduleAtFixedRate(() -> Log.info("reading and verifying the checkpoint to resume from: "
                + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) + " s so far"), 2, 2, TimeUnit.SECONDS);
        try {
            return load(store, s, mode, t0, fatal);
        } catch (OutOfMemoryError e) {
            // Thrown out of premain it would abort the JVM ("processing of -javaagent failed"); the reader already turns
            // its own allocations' failures into CheckpointTooLargeException, this is whatever else ran short.
            fatal.accept("pauser: out of memory reading the checkpoint to resume from in " + s.dir() + " ("
                    + e.getMessage() + "); " + dev.pauser.agent.store.MemoryLimits.raiseFor(e)
                    + ", or resume=never to start afresh");
            return null;
        } finally {
            ticker.shutdownNow();
        }
    }

    private static LoadedCheckpoint load(CheckpointStore store, Settings s, String mode, long t0,
            Consumer<String> fatal) {
        if (mode.equals("auto")) {
            Resume.Loaded loaded;
            try {
                loaded = store.loadNewestValid();
            } catch (IOException e) {
                // no directory yet, or unreadable: nothing to resume from
                Log.debug("no checkpoint to resume from in " + s.dir() + ": " + e);
                return null;
            }
            if (loaded.checkpoint().isEmpty() && loaded.tooLarge().isPresent()) {
                // A good checkpoint that needs more memory: starting afresh would set it aside and redo its steps.
                for (Resume.Skipped skipped : loaded.skipped()) {
                    if (!skipped.tooLarge()) {
                        Log.error("NOT resuming from " + skipped.dir() + ": " + skipped.reason());
                    }
                }
                fatal.accept("pauser: cannot resume: " + loaded.tooLarge().get().getMessage()
                        + ", or resume=never to start afresh");
                return null;
            }
            for (Resume.Skipped skipped : loaded.skipped()) {
                Log.error("NOT resuming from " + skipped.dir() + ": " + skipped.reason()
                        + "; trying the previous checkpoint");
            }
            loaded.checkpoint().ifPresent(c -> loadedLine(c, t0));
            if (loaded.checkpoint().isPresent() && loaded.tooLarge().isPresent()) {
                Log.warn("resuming from the older " + loaded.checkpoint().get().dir() + ", which fits in memory: "
                        + loaded.tooLarge().get().checkpointDir() + " is valid but too large for this JVM (moved aside,"
                        + " not deleted); to resume from it, give the JVM the memory named above");
            }
            return loaded.checkpoint().orElse(null);
        }
        Path path = Paths.get(mode);
        try {
            List<Path> candidates = CheckpointReader.resolve(path);
            if (candidates.isEmpty()) {
                fatal.accept("pauser: resume=" + mode + ": no checkpoint there; give a ckpt-<step> directory or "
                        + "a checkpoint dir holding one, or resume=auto");
                return null;
            }
            String untrusted = resumePathProblem(path, candidates.get(0));
            if (untrusted != null) {
                fatal.accept("pauser: resume=" + mode + ": " + untrusted);
                return null;
            }
            LoadedCheckpoint c = CheckpointReader.load(candidates.get(0));
            loadedLine(c, t0);
            return c;
        } catch (dev.pauser.agent.store.CheckpointTooLargeException e) {
            fatal.accept("pauser: resume=" + mode + ": cannot resume: " + e.getMessage()
                    + ", or resume=never to start afresh");
            return null;
        } catch (IOException e) {
            fatal.accept("pauser: resume=" + mode + ": cannot resume from it: " + e.getMessage()
                    + " (resume=auto picks the newest valid one)");
            return null;
        }
    }

    /**
     * A checkpoint named by resume=&lt;path&gt; may lie outside dir=, where the store's checks never looked: the same
     * trust rules apply to it, to the directory it was found in, and (for a path naming a checkpoint itself) to the
     * directory holding it. A link the user typed is followed; links inside are not.
     */
    private static String resumePathProblem(Path given, Path chosen) throws IOException {
        Path real = given.toRealPath();
        String p;
        if (chosen.equals(given)) {
            Path parent = real.getParent();
            p = parent == null ? null : dev.pauser.agent.store.DirectoryTrust.parentProblem(parent);
            if (p == null) {
                p = dev.pauser.agent.store.DirectoryTrust.checkpointProblem(real);
            }
        } else {
            p = dev.pauser.agent.store.DirectoryTrust.rootProblem(real, "resume=");
            if (p == null) {
                p = dev.pauser.agent.store.DirectoryTrust.checkpointProblem(chosen);
            }
        }
        return p;
    }

    private static void loadedLine(LoadedCheckpoint c, long t0) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        String line = "loaded and verified " + c.dir() + " in " + ms + " ms";
        if (ms >= 2000) {
            Log.info(line);
        } else {
            Log.debug(line); // the time a quick one took, for whoever measures restores (log=debug)
        }
    }

    private static void restored(String trainer, LoadedCheckpoint from, int fields, long bytes, long nanos,
            List<String> warnings, CheckpointEvents.RestoreEvent begun) {
        for (String w : warnings) {
            Log.warn("onMismatch=warn: " + w + "; the code's value is kept");
        }
        Log.info("restored " + fields + " @TrainState fields of " + trainer + " from " + from.dir()
                + " (step " + from.step() + ", " + bytes + " bytes of tensors, "
                + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms)");
        try {
            // begun when the restore began: the event spans it
            CheckpointEvents.RestoreEvent e = begun != null ? begun : new CheckpointEvents.RestoreEvent();
            e.step = from.step();
            e.trainer = trainer;
            e.fields = fields;
            e.bytes = bytes;
            e.path = from.dir().toString();
            e.commit();
        } catch (LinkageError noJfr) {
            // JFR absent
        }
    }
}
