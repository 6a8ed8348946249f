package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: the sample app in child JVMs started as a user starts it ({@code java
 * [-javaagent:pauser.jar=...] -jar sample-app.jar ...}), interrupted in every way a user can interrupt it, always
 * ends with the weights and the accuracy of a run that was never interrupted and never saw the agent.
 *
 * <p>The random interruption points come from one seed, printed at the start and in every failure message; rerun a
 * failure with {@code -Dpauser.test.seed=<seed>}.
 */
class SampleAppIT {
    /** Small enough for seconds per run, long enough (about 4 s at 2 ms a step) to be interrupted at chosen steps. */
    private static final long STEPS = 1500;
    private static final List<String> ARGS = List.of(
            "--steps", Long.toString(STEPS), "--step-delay-ms", "2", "--log-every", "100");
    private static final long EVERY = 100;
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Pattern PROGRESS = Pattern.compile("^step \\d+/\\d+ ");

    private static final long SEED = Long.getLong("pauser.test.seed", System.nanoTime());

    /** The uninterrupted run without the agent: hash H and accuracy A. */
    private static AppProcess.Result uninterrupted;

    @BeforeAll
    static void uninterruptedRunWithoutTheAgent() throws Exception {
        System.out.println("SampleAppIT: seed " + SEED + " (rerun with -Dpauser.test.seed=" + SEED + ")");
        try (AppProcess app = AppProcess.start(null, ARGS)) {
            assertEquals(0, app.awaitExit(WAIT), app.describe());
            uninterrupted = app.result();
            assertFalse(app.output().contains("pauser"), "no agent, no agent output: " + app.describe());
            System.out.println("SampleAppIT: uninterrupted run without the agent: " + uninterrupted + " in "
                    + app.elapsedMillis() + " ms");
        }
    }

    @Test
    void killedTwiceAtRandomStepsAndRestartedEachTimeEndsWithTheUninterruptedWeights(@TempDir Path dir)
            throws Exception {
        Random random = new Random(SEED);
        // The second kill leaves 500 steps (a second of sleeping alone): the run is still going when the kill comes,
        // however long this test's thread waits for the CPU.
        long firstKill = 200 + random.nextInt(500); // 200..699
        long secondKill = firstKill + 200 + random.nextInt((int) (STEPS - 500 - (firstKill + 200))); // ..999
        String agent = "dir=" + dir + ",every=" + EVERY;
        String context = "seed " + SEED + ", kills at steps " + firstKill + " and " + secondKill + "\n";

        List<Long> resumes = new ArrayList<>();
        AppProcess app = AppProcess.start(agent, ARGS);
        try {
            app.awaitLine("^sample-app: steps=", WAIT);
            for (long killAt : new long[] {firstKill, secondKill}) {
                AppProcess.PauserMXBean pauser = app.pauser();
                long previous = resumes.isEmpty() ? 0 : resumes.get(resumes.size() - 1);
                app.awaitCondition("step >= " + killAt + " and a checkpoint after step " + previous,
                        () -> pauser.getStep() >= killAt && pauser.getLastCheckpointStep() > previous, WAIT);
                long durable = pauser.getLastCheckpointStep();
                long stepBeforeKill = pauser.getStep();
                app.signal("KILL");
                assertEquals(137, app.awaitExit(WAIT), context + app.describe());
                if (resumes.isEmpty()) {
                    assertEquals(0, app.resumedAt(), context + "a fresh start: " + app.describe());
                }
                assertFalse(app.stdout().stream().anyMatch(l -> l.startsWith("final-weights-sha256=")),
                        context + "killed before the end: " + app.describe());
                app.close();

                // The same command again.
                app = AppProcess.start(agent, ARGS);
                long resumedAt = Long.parseLong(app.awaitLine(AppProcess.RESUMING.pattern(), WAIT).group(3));
                app.awaitLine("^sample-app: steps=", WAIT); // main has started: attach (next turn) is safe
                String where = context + "killed at step " + stepBeforeKill + ", last durable checkpoint at "
                        + durable + ": " + app.describe();
                assertTrue(resumedAt > 0, "resumes from a checkpoint: " + where);
                assertTrue(resumedAt >= durable, "resumes from the latest durable checkpoint: " + where);
                assertTrue(resumedAt < STEPS, where);
                resumes.add(resumedAt);
            }
            assertEquals(0, app.awaitExit(WAIT), context + app.describe());
            assertEquals(uninterrupted, app.result(), context + "resumed at " + resumes + ": " + app.describe());
        } finally {
            app.close();
        }
        assertTrue(resumes.get(1) > resumes.get(0), context + "resumed at " + resumes);
        System.out.println("SampleAppIT: " + context.trim() + ": resumed at steps " + resumes);
    }

    @Test
    void pausedOverJmxResumedStoppedWithSigtermAndRestartedEndsWithTheUninterruptedWeights(@TempDir Path dir)
            throws Exception {
        long pauseAt = 200 + new Random(SEED + 1).nextInt(700); // 200..899
        // No periodic checkpoints: the pause writes one (checkpointOnPause), SIGTERM writes the last.
        String agent = "dir=" + dir;
        String context = "seed " + SEED + ", pause at step " + pauseAt + "\n";
        long paused;
        long stopped;
        try (AppProcess app = AppProcess.start(agent, ARGS)) {
            app.awaitLine("^sample-app: steps=", WAIT);
            AppProcess.PauserMXBean pauser = app.pauser();
            app.awaitCondition("step >= " + pauseAt, () -> pauser.getStep() >= pauseAt, WAIT);
            String answer = pauser.pauseAndWait(WAIT.toMillis());
            assertEquals("PAUSED", pauser.getState(), context + "pauseAndWait said: " + answer + "\n" + app.describe());
            paused = pauser.getStep();
            assertTrue(paused >= pauseAt && paused < STEPS, context + app.describe());
            assertEquals(paused, pauser.getLastCheckpointStep(),
                    context + "a pause writes a checkpoint: " + app.describe());
            Thread.sleep(300);
            assertEquals(paused, pauser.getStep(), context + "no step runs while paused: " + app.describe());

            pauser.resume();
            app.awaitCondition("step >= " + (paused + 100) + " after the resume",
                    () -> pauser.getStep() >= paused + 100, WAIT);
            app.signal("TERM");
            assertEquals(143, app.awaitExit(WAIT), context + app.describe());
            Matcher m = app.awaitLine("stopped at step (\\d+); exiting with status 143", Duration.ofSeconds(5));
            stopped = Long.parseLong(m.group(1));
            assertTrue(stopped >= paused + 100 && stopped < STEPS,
                    context + "stopped at " + stopped + " before the end: " + app.describe());
            assertFalse(app.stdout().stream().anyMatch(l -> l.startsWith("final-weights-sha256=")),
                    context + "SIGTERM stops the training: " + app.describe());
        }
        try (AppProcess restart = AppProcess.start(agent, ARGS)) {
            assertEquals(0, restart.awaitExit(WAIT), context + restart.describe());
            long resumedAt = restart.resumedAt();
            String where = context + "paused at step " + paused + ", stopped at step " + stopped + ": "
                    + restart.describe();
            assertTrue(resumedAt >= paused, where);
            assertEquals(stopped, resumedAt, "resumes from the checkpoint SIGTERM wrote: " + where);
            assertEquals(uninterrupted, restart.result(), where);
            System.out.println("SampleAppIT: " + context.trim() + ": paused at " + paused + ", stopped at " + stopped
                    + ", resumed at " + resumedAt);
        }
    }

    @Test
    void defaultsReach90PercentAndTheSameWeightsWithAndWithoutTheAgent(@TempDir Path dir) throws Exception {
        AppProcess.Result plain;
        try (AppProcess app = AppProcess.start(null, List.of())) {
            assertEquals(0, app.awaitExit(WAIT), app.describe());
            plain = app.result();
            System.out.println("SampleAppIT: defaults without the agent: " + plain + " in " + app.elapsedMillis()
                    + " ms");
        }
        try (AppProcess app = AppProcess.start("dir=" + dir, List.of())) {
            assertEquals(0, app.awaitExit(WAIT), app.describe());
            AppProcess.Result withAgent = app.result();
            assertEquals(plain, withAgent, app.describe());
            assertTrue(Double.parseDouble(withAgent.accuracy()) >= 0.9, "accuracy with the defaults: " + app.describe());
            System.out.println("SampleAppIT: defaults with the agent: " + withAgent + " in " + app.elapsedMillis()
                    + " ms");
        }
    }

    @Test
    void startedAgainAfterItFinishedTrainsNothingMoreAndPrintsTheSameLines(@TempDir Path dir) throws Exception {
        String agent = "dir=" + dir + ",every=" + EVERY;
        long firstMillis;
        try (AppProcess app = AppProcess.start(agent, ARGS)) {
            assertEquals(0, app.awaitExit(WAIT), app.describe());
            assertEquals(uninterrupted, app.result(), "uninterrupted under the agent: " + app.describe());
            firstMillis = app.elapsedMillis();
        }
        try (AppProcess again = AppProcess.start(agent, ARGS)) {
            assertEquals(0, again.awaitExit(WAIT), again.describe());
            assertEquals(STEPS, again.resumedAt(), "resumes from the final checkpoint: " + again.describe());
            assertFalse(again.stdout().stream().anyMatch(l -> PROGRESS.matcher(l).find()),
                    "trains nothing more: " + again.describe());
            assertEquals(uninterrupted, again.result(), again.describe());
            System.out.println("SampleAppIT: finished run " + firstMillis + " ms, started again "
                    + again.elapsedMillis() + " ms");
        }
        // And again. The start before called trainStep() once (the loop checks the step before the agent restores it),
        // a call that returned at once but that the agent counts as a step: so it wrote one more checkpoint at exit,
        // labelled step STEPS + 1, and this start resumes from that one. The state in it is still the finished run's.
        try (AppProcess third = AppProcess.start(agent, ARGS)) {
            assertEquals(0, third.awaitExit(WAIT), third.describe());
            assertTrue(third.resumedAt() >= STEPS, "resumes from a final checkpoint: " + third.describe());
            assertFalse(third.stdout().stream().anyMatch(l -> PROGRESS.matcher(l).find()),
                    "trains nothing more: " + third.describe());
            assertEquals(uninterrupted, third.result(), third.describe());
        }
    }


}
