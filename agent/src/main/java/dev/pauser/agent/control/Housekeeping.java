package dev.pauser.agent.control;

import dev.pauser.agent.log.Log;
import dev.pauser.gate.Gate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Periodic work off the training threads, on one daemon thread: watching the pause file, and sampling the step counter
 * for {@code StepsPerSecond}.
 */
public final class Housekeeping {
    /** The rate is averaged over this many one-second samples. */
    private static final int RATE_WINDOW = 10;

    private final Path pauseFile;
    private final long[] sampleSteps = new long[RATE_WINDOW + 1];
    private final long[] sampleNanos = new long[RATE_WINDOW + 1];
    private int samples;
    private volatile double stepsPerSecond;
    private boolean pausedByFile;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pauser-housekeeping");
        t.setDaemon(true);
        return t;
    });

    public Housekeeping(Path pauseFile) {
        this.pauseFile = pauseFile;
    }

    public void start() {
        // The first look at the pause file happens before main: a run started with PAUSE present waits before step 1.
        checkPauseFile();
        executor.scheduleWithFixedDelay(this::checkPauseFile, 250, 250, TimeUnit.MILLISECONDS);
        executor.scheduleAtFixedRate(this::sampleRate, 0, 1, TimeUnit.SECONDS);
    }

    Path pauseFile() {
        return pauseFile;
    }

    public double stepsPerSecond() {
        return stepsPerSecond;
    }

    /**
     * Edge-triggered: the file appearing pauses, disappearing resumes. So a resume from JMX while the file exists is
     * not undone a quarter second later; deleting the file then is harmless.
     */
    private void checkPauseFile() {
        boolean exists = Files.exists(pauseFile);
        if (exists && !pausedByFile) {
            pausedByFile = true;
            Log.info("pause file " + pauseFile + " appeared: pausing");
            PauseRequests.pause("the pause file");
        } else if (!exists && pausedByFile) {
            pausedByFile = false;
            Log.info("pause file " + pauseFile + " removed: resuming");
            PauseRequests.resume("the pause file");
        }
    }

    private void sampleRate() {
        int slot = samples % sampleSteps.length;
        sampleSteps[slot] = Gate.steps();
        sampleNanos[slot] = System.nanoTime();
        samples++;
        int n = Math.min(samples, sampleSteps.length);
        if (n < 2) {
            return;
        }
        int oldest = samples >= sampleSteps.length ? samples % sampleSteps.length : 0;
        double seconds = (sampleNanos[slot] - sampleNanos[oldest]) / 1e9;
        stepsPerSecond = seconds > 0 ? (sampleSteps[slot] - sampleSteps[oldest]) / seconds : 0;
    }
}
