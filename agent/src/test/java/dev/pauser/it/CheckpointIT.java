package dev.pauser.it;

import static dev.pauser.it.Checkpoints.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.store.CheckpointReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code StateTrainer} (every kind of {@code @TrainState}) killed and restarted with the same command ends with the hash
 * of an uninterrupted run; also retention, SIGTERM, the live trigger and the resume modes.
 */
class CheckpointIT {
    private static final String[] ARGS = {"--steps", "120", "--delay-ms", "10"};
    /**
     * Long enough to stop or pause it in the middle: six seconds at the least, so the run is still going after a JMX
     * attach on a busy machine.
     */
    private static final long LONG_STEPS = 600;
    private static final String[] LONG = {"--steps", Long.toString(LONG_STEPS), "--delay-ms", "10"};

    @TempDir
    Path dir;

    @Test
    void uninterruptedRunWithTheAgentMatchesTheRunWithout() throws Exception {
        String h = Checkpoints.reference(ARGS);
        try (ChildJvm child = Checkpoints.start(dir, "every=10", ARGS)) {
            assertEquals(h, Checkpoints.finish(child, "uninterrupted run with the agent"));
            assertEquals(-1, Checkpoints.resumedStep(child.output()), child.output());
            assertEquals(0, Checkpoints.firstStepSees(child.output()), child.output());
        }
        // the checkpoints hold the model: owner-only
        for (Path ckpt : Checkpoints.list(dir)) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ckpt)), ckpt.toString());
            try (var files = Files.list(ckpt)) {
                for (Path f : files.toList()) {
                    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)),
                            f.toString());
                }
            }
        }
        // the run's last checkpoint (at exit) holds the final state: a restart resumes there and ends at once, same hash
        try (ChildJvm again = Checkpoints.start(dir, "every=10", ARGS)) {
            assertEquals(h, Checkpoints.finish(again, "run restarted after the end"));
            Checkpoints.assertResumedAt(121, 120, again.output()); // 120 steps and the one that returned false
        }
    }

    @Test
    void killNineAtRandomMomentsThenRestartEndsWithTheSameHash() throws Exception {
        String h = Checkpoints.reference(ARGS);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        String context = "seed " + seed;
        long lastResumed = -1;
        List<String> kills = new ArrayList<>();
        for (int kill = 0; kill < 4; kill++) {
            try (ChildJvm child = Checkpoints.start(dir, "every=5", ARGS)) {
                if (kill == 0) {
                    Checkpoints.awaitCheckpoints(dir, 1, child);
                } else {
                    child.awaitLine("^ready$", Duration.ofSeconds(60));
                }
                Thread.sleep(random.nextInt(700));
                boolean alive = child.process().isAlive();
                child.process().destroyForcibly(); // SIGKILL
                child.process().waitFor();
                String out = child.output();
                long resumed = Checkpoints.resumedStep(out);
                kills.add("run " + kill + ": resumed at " + resumed + ", killed while alive=" + alive + ", checkpoints "
                        + Checkpoints.steps(dir));
                if (kill > 0) {
                    assertTrue(resumed >= lastResumed, context + ": resumed at " + resumed + " after an earlier run"
                            + " resumed at " + lastResumed + "\n" + kills + "\n" + out);
                    assertTrue(resumed > 0, context + ": a restart must resume: " + kills + "\n" + out);
                    long sees = Checkpoints.firstStepSees(out);
                    assertTrue(sees == -1 || sees == Math.min(resumed, 120), context + ": resumed at " + resumed
                            + " but the first step saw " + sees + "\n" + out);
                }
                lastResumed = resumed;
            }
        }
        try (ChildJvm last = Checkpoints.start(dir, "every=5", ARGS)) {
            String result = Checkpoints.finish(last, context);
            long resumed = Checkpoints.resumedStep(last.output());
            assertTrue(resumed >= lastResumed && resumed > 0, context + " " + kills + "\n" + last.output());
            Checkpoints.assertResumedAt(resumed, 120, last.output());
            assertEquals(h, result, context + ": the final hash after kill -9 and restarts differs; " + kills
                    + "\nlast run:\n" + last.output());
            System.out.println("kill -9 test, " + context + ": " + kills);
        }
    }

    @Test
    void sigtermWritesACheckpointAtTheStopStepAndTheRestartResumesThere() throws Exception {
        String[] args = LONG;
        String h = Checkpoints.reference(args);
        long stoppedAt;
        try (ChildJvm child = Checkpoints.start(dir, "", args)) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            Steps.awaitStepAfter(child.pauser(), 20); // in the middle of the run, whatever the machine's load
            child.signal("TERM");
            assertEquals(143, child.awaitExit(Duration.ofSeconds(60)), child.output());
            Matcher m = Pattern.compile("stopped at step (\\d+)").matcher(child.output());
            assertTrue(m.find(), child.output());
            stoppedAt = Long.parseLong(m.group(1));
            assertTrue(stoppedAt > 0 && stoppedAt < LONG_STEPS, child.output());
            assertEquals(List.of(stoppedAt), Checkpoints.steps(dir), "no every=, so the stop checkpoint alone:\n"
                    + child.output());
        }
        try (ChildJvm again = Checkpoints.start(dir, "", args)) {
            String result = Checkpoints.finish(again, "restart after SIGTERM");
            Checkpoints.assertResumedAt(stoppedAt, LONG_STEPS, again.output());
            assertEquals(h, result, again.output());
        }
    }

    @Test
    void pauseThenKillNineResumesAtThePausedStep() throws Exception {
        String[] args = LONG;
        String h = Checkpoints.reference(args);
        long pausedStep;
        try (ChildJvm child = Checkpoints.start(dir, "", args)) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 20);
            String state = pauser.pauseAndWait(60_000);
            assertEquals("PAUSED", state, child.output());
            pausedStep = pauser.getStep();
            assertEquals(pausedStep, pauser.getLastCheckpointStep(), "checkpointOnPause: durable when PAUSED");
            Steps.assertStepHeld(pauser, 200);
            child.process().destroyForcibly();
            child.process().waitFor();
            assertEquals(List.of(pausedStep), Checkpoints.steps(dir), child.output());
        }
        try (ChildJvm again = Checkpoints.start(dir, "", args)) {
            String result = Checkpoints.finish(again, "restart after pause and kill -9");
            Checkpoints.assertResumedAt(pausedStep, LONG_STEPS, again.output());
            assertEquals(h, result, again.output());
        }
    }

    @Test
    void checkpointAndWaitOverJmxIsDurableOnReturnThenKillNineResumesThere() throws Exception {
        String h = Checkpoints.reference(LONG);
        long step;
        // Training goes on while the checkpoint is written, which on a busy disk may take longer than the rest of the
        // run: a pause near the end (writing nothing) keeps the JVM there to be read over JMX and killed.
        String holdNearTheEnd = "pauseAtStep=" + (LONG_STEPS - 10) + ",checkpointOnPause=false";
        try (ChildJvm child = Checkpoints.start(dir, holdNearTheEnd, LONG)) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            List<String> notifications = new java.util.concurrent.CopyOnWriteArrayList<>();
            child.jmx().addNotificationListener(new javax.management.ObjectName(PauserMXBean.OBJECT_NAME),
                    (n, handback) -> notifications.add(n.getType() + " " + n.getMessage()), null, null);
            Steps.awaitStepAfter(pauser, 30);
            String done = pauser.checkpointAndWait(60_000);
            step = pauser.getLastCheckpointStep();
            Path path = Path.of(pauser.getLastCheckpointPath());
            assertEquals(dir.resolve(String.format("ckpt-%012d", step)), path, done);
            assertTrue(done.startsWith(path + " (step " + step + ", "), done);
            assertTrue(CheckpointReader.verify(path).ok(), "durable and complete when checkpointAndWait returns");
            assertTrue(pauser.getLastCheckpointBytes() > 0 && pauser.getLastCheckpointTimeMillis() > 0, done);
            assertEquals("", pauser.getLastError());
            Steps.await("the written notification", 60_000,
                    () -> notifications.stream().anyMatch(n -> n.startsWith(PauserMXBean.CHECKPOINT_WRITTEN)));
            child.process().destroyForcibly();
            child.process().waitFor();
            assertEquals(List.of(step), Checkpoints.steps(dir), child.output());
        }
        try (ChildJvm again = Checkpoints.start(dir, "", LONG)) {
            String result = Checkpoints.finish(again, "restart after checkpointAndWait and kill -9");
            Checkpoints.assertResumedAt(step, LONG_STEPS, again.output());
            assertEquals(h, result, again.output());
        }
    }

    @Test
    void checkpointEveryStepsSetOverJmxTakesEffectLive() throws Exception {
        // far more steps than the test needs, so the run is still going when the trigger is switched off
        String[] endless = {"--steps", "1000000", "--delay-ms", "10"};
        try (ChildJvm child = Checkpoints.start(dir, "keep=1000", endless)) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            assertEquals(0, pauser.getCheckpointEverySteps());
            Steps.awaitStepAfter(pauser, 5);
            assertEquals(List.of(), Checkpoints.steps(dir), "no trigger yet");
            pauser.setCheckpointEverySteps(15);
            assertEquals(15, pauser.getCheckpointEverySteps());
            // A checkpoint is captured at the step whose end rang the alarm, unless a write was still in flight then
            // (requests made meanwhile are coalesced into one capture at a later step), so on a busy machine some land
            // past a multiple of 15: wait for one that landed on one.
            Steps.await(() -> "a checkpoint at a multiple of 15: " + Checkpoints.describe(dir), 120_000, () -> {
                try {
                    return Checkpoints.steps(dir).stream().anyMatch(s -> s % 15 == 0);
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            List<Long> on = Checkpoints.steps(dir);
            for (Path p : Checkpoints.list(dir)) {
                assertEquals("every 15 steps", CheckpointReader.readManifest(p).info().get("reason"),
                        "written by the trigger set over JMX: " + p + "; checkpoints " + on);
            }

            pauser.setCheckpointEverySteps(0);
            assertEquals(0, pauser.getCheckpointEverySteps());
            long offAt = pauser.getStep();
            // An alarm that rang just before the switch makes its request on the training thread before that thread
            // ends its next step; a request made now is served after every earlier one (one write at a time, later
            // requests coalesced): once it is durable nothing the trigger asked for is pending.
            Steps.awaitStepAfter(pauser, offAt + 1);
            String barrier = pauser.checkpointAndWait(120_000);
            assertFalse(barrier.startsWith("checkpoint failed"), barrier);
            List<Long> off = Checkpoints.steps(dir);
            Steps.awaitStepAfter(pauser, pauser.getStep() + 45); // three multiples of 15 pass
            // A write the trigger started may not be committed yet: a second barrier waits for it. With the trigger
            // off, the only checkpoint after the first barrier is the second one's own.
            String second = pauser.checkpointAndWait(120_000);
            assertFalse(second.startsWith("checkpoint failed"), second);
            List<Long> expected = new ArrayList<>(off);
            expected.add(pauser.getLastCheckpointStep());
            assertEquals(expected, Checkpoints.steps(dir), "CheckpointEverySteps=0 turns the trigger off; output:\n"
                    + child.output());
        }
    }

    @Test
    void intervalCheckpointsThenKillNineResumeExactly() throws Exception {
        String h = Checkpoints.reference(LONG);
        try (ChildJvm child = Checkpoints.start(dir, "interval=300ms,keep=20", LONG)) {
            Checkpoints.awaitCheckpoints(dir, 3, child);
            child.process().destroyForcibly();
            child.process().waitFor();
        }
        List<Long> steps = Checkpoints.steps(dir);
        try (ChildJvm again = Checkpoints.start(dir, "interval=300ms,keep=20", LONG)) {
            String result = Checkpoints.finish(again, "restart after interval checkpoints and kill -9");
            Checkpoints.assertResumedAt(steps.get(steps.size() - 1), LONG_STEPS, again.output());
            assertEquals(h, result, again.output());
        }
    }

    @Test
    void aCheckpointCommittedWhileTheJvmExitsIsStillLogged() throws Exception {
        // a 64 MiB state: the asynchronous write of step 20 is still going when main returns
        String[] args = {"--steps", "25", "--delay-ms", "10", "--big-mb", "64"};
        try (ChildJvm child = Checkpoints.start(dir, "every=20,keep=10", args)) {
            Checkpoints.finish(child, "run");
            String out = child.output();
            List<Path> ckpts = Checkpoints.list(dir);
            assertEquals(List.of(20L, 26L), Checkpoints.steps(dir), out);
            for (Path p : ckpts) {
                assertEquals(1, count(out, "checkpoint " + p + " (step "),
                        "one log line names the committed checkpoint " + p + ":\n" + out);
            }
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void resumeNeverIgnoresCheckpointsAndResumePathTakesThatOne() throws Exception {
        String h = Checkpoints.reference(ARGS);
        try (ChildJvm child = Checkpoints.start(dir, "every=20,keep=10", ARGS)) {
            assertEquals(h, Checkpoints.finish(child, "first run"));
        }
        // The alarm at 20 finds no write in flight, the exit writes the last one; the ones between may be coalesced.
        List<Long> written = Checkpoints.steps(dir);
        assertEquals(20, written.get(0), written.toString());
        assertEquals(121, written.get(written.size() - 1), written.toString());
        try (ChildJvm fresh = Checkpoints.start(dir, "every=20,keep=10,resume=never", ARGS)) {
            assertEquals(h, Checkpoints.finish(fresh, "resume=never"));
            assertEquals(-1, Checkpoints.resumedStep(fresh.output()), fresh.output());
            assertFalse(fresh.output().contains("@TrainState fields of"), fresh.output());
            assertEquals(0, Checkpoints.firstStepSees(fresh.output()), fresh.output());
        }
        List<Path> ckpts = Checkpoints.list(dir);
        Path older = ckpts.get(ckpts.size() - 2); // not the newest, which a plain restart would take
        long olderStep = Checkpoints.step(older);
        assertTrue(olderStep >= 20 && olderStep <= 120, ckpts.toString());
        try (ChildJvm chosen = Checkpoints.start(dir, "every=20,keep=10,resume=" + older, ARGS)) {
            assertEquals(h, Checkpoints.finish(chosen, "resume=<path>"));
            assertEquals(older, Checkpoints.resumedFrom(chosen.output()), chosen.output());
            Checkpoints.assertResumedAt(olderStep, 120, chosen.output());
        }
    }

    @Test
    void resumePathThatIsNotACheckpointStopsWithStatus2() throws Exception {
        Path missing = dir.resolve("nowhere");
        try (ChildJvm child = Checkpoints.start(dir.resolve("ckpts"), "resume=" + missing, ARGS)) {
            assertEquals(2, child.awaitExit(Duration.ofSeconds(60)), child.output());
            assertContains(child.output(), "resume=" + missing, "resume of a missing path");
            assertFalse(child.output().contains("result="), child.output());
        }
    }

    @Test
    void retentionOverTwentyFiveCheckpointsKeepsExactlyTheThreeNewest() throws Exception {
        String[] args = {"--steps", "24", "--delay-ms", "5"};
        String h = Checkpoints.reference(args);
        try (ChildJvm child = Checkpoints.start(dir, "every=1,keep=3,async=false", args)) {
            assertEquals(h, Checkpoints.finish(child, "retention run"));
            Matcher m = Pattern.compile("checkpoint \\S+ckpt-(\\d+) \\(step").matcher(child.output());
            List<Long> written = new ArrayList<>();
            while (m.find()) {
                written.add(Long.parseLong(m.group(1)));
            }
            assertTrue(written.size() >= 25, "expected 25 checkpoints written, got " + written + "\n" + child.output());
            List<Long> newest = written.subList(written.size() - 3, written.size());
            assertEquals(newest, Checkpoints.steps(dir), "keep=3 keeps exactly the 3 newest of " + written);
            for (Path p : Checkpoints.list(dir)) {
                assertTrue(CheckpointReader.verify(p).ok(), CheckpointReader.verify(p).render());
            }
        }
    }
}
