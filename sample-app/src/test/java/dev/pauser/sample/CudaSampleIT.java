package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pauser.testkit.ChildJvmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, {@code java [-javaagent:pauser.jar=...] -jar sample-app.jar --device cuda}: without a usable GPU it says
 * why in one line and exits with 2 (on every machine: where a GPU is, the child is shown none with {@code
 * CUDA_VISIBLE_DEVICES=-1}); with a GPU (skipped by assumption elsewhere) a run killed with {@code kill -9} and started
 * again under the agent, and a run paused with {@code releaseGpuOnPause=true} and resumed, end with the weights of a
 * run that was never interrupted and never saw the agent.
 *
 * <p>The random kill step comes from one seed, printed at the start and in every failure message; rerun a failure
 * with {@code -Dpauser.test.seed=<seed>}.
 */
class CudaSampleIT {
    private static final long STEPS = 1500;
    private static final List<String> ARGS = List.of("--device", "cuda",
            "--steps", Long.toString(STEPS), "--step-delay-ms", "2", "--log-every", "100");
    private static final long EVERY = 100;
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String NO_GPU = "sample-app: --device cuda needs an NVIDIA GPU and its driver: ";
    private static final Pattern PARAMETERS = Pattern.compile("^sample-app: steps=.* device=cuda parameters=(\\d+)$");
    private static final long SEED = Long.getLong("pauser.test.seed", System.nanoTime());

    /** The uninterrupted GPU run without the agent, made by the first test that needs it. */
    private static AppProcess.Result uninterrupted;

    @Test
    void withoutAUsableGpuItSaysWhyInOneLineOnStandardErrorAndExitsWith2() throws Exception {
        CudaDevices.Availability here = CudaDevices.availability();
        Map<String, String> env = here == CudaDevices.Availability.USABLE
                ? Map.of("CUDA_VISIBLE_DEVICES", "-1") // the driver then shows the process no device
                : Map.of();
        try (AppProcess app = AppProcess.start(null, ARGS, env)) {
            assertEquals(2, app.awaitExit(WAIT), app.describe());
            assertEquals(List.of(), app.stdout(), "nothing on standard output: " + app.describe());
            List<String> err = standardError(app);
            assertEquals(1, err.size(), "one line on standard error: " + app.describe());
            String line = err.get(0);
            assertTrue(line.startsWith(NO_GPU), app.describe());
            String reason = line.substring(NO_GPU.length());
            if (here == CudaDevices.Availability.NO_DRIVER) {
                assertTrue(reason.startsWith("libcuda.so.1: cannot open shared object file"),
                        "names the missing driver library: " + app.describe());
            } else {
                assertTrue(reason.contains("CUDA_ERROR_NO_DEVICE") || reason.contains("no CUDA device"),
                        "says the driver has no device: " + app.describe());
            }
        }
    }

    @Test
    void killedWithKill9AndStartedAgainUnderTheAgentEndsWithTheUninterruptedWeights(@TempDir Path dir)
            throws Exception {
        AppProcess.Result expected = uninterrupted();
        long killAt = 200 + new Random(SEED).nextInt(700); // 200..899: at least 600 steps (over a second) remain
        String agent = "dir=" + dir + ",every=" + EVERY;
        String context = "seed " + SEED + ", kill at step " + killAt + "\n";
        long durable;
        try (AppProcess app = AppProcess.start(agent, ARGS)) {
            app.awaitLine("^sample-app: steps=", WAIT);
            AppProcess.PauserMXBean pauser = app.pauser();
            app.awaitCondition("step >= " + killAt + " and a checkpoint",
                    () -> pauser.getStep() >= killAt && pauser.getLastCheckpointStep() > 0, WAIT);
            durable = pauser.getLastCheckpointStep();
            app.signal("KILL");
            assertEquals(137, app.awaitExit(WAIT), context + app.describe());
            assertFalse(app.stdout().stream().anyMatch(l -> l.startsWith("final-weights-sha256=")),
                    context + "killed before the end: " + app.describe());
        }
        try (AppProcess again = AppProcess.start(agent, ARGS)) {
            assertEquals(0, again.awaitExit(WAIT), context + again.describe());
            long resumedAt = again.resumedAt();
            assertTrue(resumedAt > 0, context + "resumes from a checkpoint: " + again.describe());
            String where = context + "last durable checkpoint at " + durable + ", resumed at " + resumedAt + ": "
                    + again.describe();
            assertTrue(resumedAt >= durable && resumedAt < STEPS, where);
            assertEquals(expected, again.result(), where);
            System.out.println("CudaSampleIT: " + context.trim() + ": resumed at step " + resumedAt);
        }
    }

    @Test
    void pausedWithReleaseGpuOnPauseGivesTheStateMemoryBackAndResumesToTheUninterruptedWeights(@TempDir Path dir)
            throws Exception {
        AppProcess.Result expected = uninterrupted();
        long pauseAt = 200 + new Random(SEED + 1).nextInt(700); // 200..899
        String context = "seed " + SEED + ", pause at step " + pauseAt + "\n";
        try (AppProcess app = AppProcess.start("dir=" + dir + ",releaseGpuOnPause=true", ARGS)) {
            Matcher start = app.awaitLine(PARAMETERS.pattern(), WAIT);
            long stateBytes = 3L * Float.BYTES * Long.parseLong(start.group(1)); // params, adamM, adamV
            AppProcess.PauserMXBean pauser = app.pauser();
            app.awaitCondition("step >= " + pauseAt, () -> pauser.getStep() >= pauseAt, WAIT);
            String answer = pauser.pauseAndWait(WAIT.toMillis());
            assertEquals("PAUSED", pauser.getState(), context + "pauseAndWait said: " + answer + "\n" + app.describe());
            long paused = pauser.getStep();
            app.awaitCondition("the pause gives back the " + stateBytes + " bytes of the device state",
                    () -> pauser.getDeviceBytesReleased() >= stateBytes, WAIT);
            assertEquals(paused, pauser.getStep(), context + "no step runs while paused: " + app.describe());
            assertTrue(List.of("device", "host").contains(pauser.getDeviceStaging()),
                    context + "the pause's checkpoint holds device state: " + pauser.getDeviceStaging());

            pauser.resume();
            app.awaitCondition("step >= " + (paused + 100) + " after the resume",
                    () -> pauser.getStep() >= paused + 100, WAIT);
            assertEquals(0, pauser.getDeviceBytesReleased(), context + app.describe());
            assertEquals("", pauser.getDeviceReleaseError(), context + app.describe());
            assertEquals(0, app.awaitExit(WAIT), context + app.describe());
            assertEquals(expected, app.result(), context + "paused at step " + paused + ": " + app.describe());
        }
    }

    /** The GPU run without the agent, once per test run; skips the calling test where no GPU is usable. */
    private static synchronized AppProcess.Result uninterrupted() throws Exception {
        assumeTrue(CudaDevices.usable(), "no usable CUDA device here: " + CudaDevices.availability());
        if (uninterrupted == null) {
            try (AppProcess app = AppProcess.start(null, ARGS)) {
                assertEquals(0, app.awaitExit(WAIT), app.describe());
                uninterrupted = app.result();
                System.out.println("CudaSampleIT: uninterrupted GPU run without the agent: " + uninterrupted + " in "
                        + app.elapsedMillis() + " ms");
            }
        }
        return uninterrupted;
    }

    private static List<String> standardError(ChildJvmProcess app) {
        return app.output().lines().filter(l -> l.startsWith(ChildJvmProcess.STANDARD_ERROR_PREFIX))
                .map(l -> l.substring(ChildJvmProcess.STANDARD_ERROR_PREFIX.length())).toList();
    }

}
