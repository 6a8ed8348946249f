package dev.pauser.agent.control;

import dev.pauser.agent.log.Log;
import dev.pauser.gate.Gate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * The graceful stop, shared by SIGTERM/SIGINT and the {@code stop} operation: close the gate, let in-flight steps run
 * to their boundary (bounded by {@code graceSeconds}), run the stop hooks with every step thread held, exit.
 *
 * <p>It runs on its own thread, not in a shutdown hook: {@code System.exit} inside a hook blocks forever, and app threads
 * keep running during hooks. The exit itself then runs the app's shutdown hooks as usual.
 */
public final class Stopper {
    private final long graceMillis;
    private final AtomicBoolean started = new AtomicBoolean();
    private final List<Runnable> hooks = new CopyOnWriteArrayList<>();
    /** Takes stop requests for a job of several JVMs; null when this JVM trains alone. */
    private volatile BiConsumer<String, Integer> job;
    private final AtomicBoolean askedJob = new AtomicBoolean();

    public Stopper(int graceSeconds) {
        this.graceMillis = graceSeconds * 1000L;
    }

    /** Work to do at the final safe point before the JVM exits (the final checkpoint is written here). */
    public void addHook(Runnable hook) {
        hooks.add(hook);
    }

    boolean started() {
        return started.get();
    }

    /**
     * Sends later {@link #request}s to the job this JVM is a worker of, which stops every worker at one step; it calls
     * {@link #stop} here when the step is agreed (or when the job can't be reached).
     */
    public void routeTo(BiConsumer<String, Integer> jobStop) {
        job = jobStop;
    }

    /**
     * A stop asked of this JVM (a signal, the stop operation): to the job when there is one (once: asked again, this JVM
     * stops at once), else {@link #stop}. Any thread; returns at once.
     */
    public void request(String reason, int exitStatus) {
        BiConsumer<String, Integer> j = job;
        if (j != null && askedJob.compareAndSet(false, true)) {
            j.accept(reason, exitStatus);
        } else {
            stop(reason, exitStatus);
        }
    }

    /** Starts the stop of this JVM once; later calls do nothing. Returns at once. */
    public void stop(String reason, int exitStatus) {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> run(reason, exitStatus), "pauser-stop");
        t.setDaemon(false); // keeps the JVM alive until the exit, even if main returns meanwhile
        t.start();
    }

    private void run(String reason, int exitStatus) {
        Log.stderr(reason + ": finishing in-flight steps (grace " + graceMillis / 1000 + " s)");
        Gate.stop();
        boolean quiet;
        try {
            quiet = Gate.awaitQuiet(graceMillis);
        } catch (InterruptedException e) {
            quiet = false;
        }
        if (quiet) {
            for (Runnable hook : hooks) {
                try {
                    hook.run();
                } catch (Throwable t) {
                    Log.stderr("stop hook failed: " + t);
                }
            }
            Log.stderr("stopped at step " + Gate.steps() + "; exiting with status " + exitStatus);
        } else {
            Log.stderr("a step was still running after the grace time of " + graceMillis / 1000
                    + " s; exiting without the stop hook at step " + Gate.steps()
                    + " (raise graceSeconds if steps take longer)");
        }
        System.exit(exitStatus);
    }
}
