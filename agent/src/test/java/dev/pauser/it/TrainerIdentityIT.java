package dev.pauser.it;

import static dev.pauser.it.Checkpoints.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.AddedTrainerMain;
import dev.pauser.fixture.SchemaTrainer;
import dev.pauser.fixture.TwinTrainer;
import dev.pauser.fixture.TwinTrainersMain;
import dev.pauser.fixture.TwoLoadersMain;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several trainers of one class: two objects trained in two threads, and two class loaders' copies of one class, are
 * checkpointed each and restored each into its own (identity = class name + construction order); a changed number of
 * them is a mismatch; a trainer class added to the program starts fresh while the others resume.
 */
class TrainerIdentityIT {
    private static final String TWIN = TwinTrainer.class.getName();
    /** Steps per trainer: long enough that a kill lands mid-run on a busy machine. */
    private static final String TOTAL = "150";
    private static final String DELAY = "20";

    @TempDir
    Path dir;

    @Test
    void twoInstancesInTwoThreadsKilledMidRunEachEndWithTheHashOfAnUninterruptedRun() throws Exception {
        List<String> reference = hashes(uninterrupted(TwinTrainersMain.class, "2", TOTAL, "0"), 2);
        try (ChildJvm first = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "2", TOTAL, DELAY)
                .start()) {
            awaitCheckpointAtOrAfter(60, first);
            first.process().destroyForcibly(); // SIGKILL
            first.awaitExit(Duration.ofSeconds(30));
        }
        try (ChildJvm again = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "2", TOTAL, DELAY)
                .start()) {
            assertEquals(0, again.awaitExit(Duration.ofSeconds(120)), again.output());
            String out = again.output();
            assertTrue(Checkpoints.resumedStep(out) >= 60, out);
            assertEquals(reference, hashes(out, 2), "each trainer ends as in an uninterrupted run:\n" + out);
            assertTrue(start(out, 0) + start(out, 1) > 0, "the trainers continued where they were:\n" + out);
            assertContains(out, "restored 3 @TrainState fields of " + TWIN + " from", "the first trainer restored");
            assertContains(out, "restored 3 @TrainState fields of " + TWIN + "#1 from", "the second trainer restored");
        }
        // Started again once finished, both trainers are restored and nothing changed: no checkpoint is added.
        List<Long> before = Checkpoints.steps(dir);
        try (ChildJvm finished = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "2", TOTAL, DELAY)
                .start()) {
            assertEquals(0, finished.awaitExit(Duration.ofSeconds(120)), finished.output());
            assertEquals(reference, hashes(finished.output(), 2), finished.output());
            assertEquals(before, Checkpoints.steps(dir), "no new checkpoint:\n" + finished.output());
        }
    }

    @Test
    void aRunWithOneMoreInstanceThanTheCheckpointStopsWithOneMismatchLine() throws Exception {
        try (ChildJvm two = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "2", "30", "0").start()) {
            assertEquals(0, two.awaitExit(Duration.ofSeconds(60)), two.output());
        }
        List<Long> before = Checkpoints.steps(dir);
        try (ChildJvm three = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "3", "30", "0")
                .start()) {
            assertEquals(2, three.awaitExit(Duration.ofSeconds(60)), three.output());
            String out = three.output();
            assertContains(out, "the checkpoint does not match the trainers of the code (1 mismatch", "one message");
            assertEquals(1, count(out, "instances: the checkpoint holds 2 trainers of class " + TWIN
                    + ", this run has more (" + TWIN + "#2 runs steps)"), "one mismatch line:\n" + out);
            assertFalse(out.contains("hash0="), "training must not finish:\n" + out);
            assertEquals(before, Checkpoints.steps(dir), "no checkpoint may replace the good ones:\n" + out);
        }
    }

    @Test
    void aRunWithOneInstanceFewerThanTheCheckpointStopsAtItsFirstCheckpoint() throws Exception {
        // long enough that the one resumed trainer is still mid-run at its first checkpoint
        try (ChildJvm first = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "2", "400", DELAY)
                .start()) {
            awaitCheckpointAtOrAfter(40, first);
            first.process().destroyForcibly(); // SIGKILL
            first.awaitExit(Duration.ofSeconds(30));
        }
        List<Long> before = Checkpoints.steps(dir);
        try (ChildJvm one = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "1", "400", DELAY)
                .start()) {
            assertEquals(2, one.awaitExit(Duration.ofSeconds(60)), one.output());
            String out = one.output();
            assertEquals(1, count(out, "instances: the checkpoint holds 2 trainers of class " + TWIN
                    + ", this run has 1"), "one mismatch line:\n" + out);
            assertFalse(out.contains("hash0="), "training must not finish:\n" + out);
            assertEquals(before, Checkpoints.steps(dir), "no checkpoint may replace the good ones:\n" + out);
        }
    }

    @Test
    void onMismatchWarnLetsAnExtraInstanceStartFresh() throws Exception {
        List<String> reference = hashes(uninterrupted(TwinTrainersMain.class, "3", "30", "0"), 3);
        try (ChildJvm two = Checkpoints.builder(dir, "every=10").main(TwinTrainersMain.class, "2", "30", "0").start()) {
            assertEquals(0, two.awaitExit(Duration.ofSeconds(60)), two.output());
        }
        try (ChildJvm three = Checkpoints.builder(dir, "every=10,onMismatch=warn")
                .main(TwinTrainersMain.class, "3", "30", "0").start()) {
            assertEquals(0, three.awaitExit(Duration.ofSeconds(60)), three.output());
            String out = three.output();
            assertContains(out, "onMismatch=warn: instances: the checkpoint holds 2 trainers of class " + TWIN
                    + ", this run has more (" + TWIN + "#2 runs steps); it starts fresh", "the warning");
            assertEquals(reference, hashes(out, 3), out);
            assertTrue(out.contains("ran0=0") && out.contains("ran1=0") && out.contains("ran2=30"),
                    "the two checkpointed trainers resumed finished, the extra one trained:\n" + out);
        }
    }

    @Test
    void anAddedTrainerClassStartsFreshWhileTheOldOneResumes() throws Exception {
        String oldHash;
        try (ChildJvm old = Checkpoints.builder(dir, "every=10").main(AddedTrainerMain.class, "old", "40", "0")
                .start()) {
            assertEquals(0, old.awaitExit(Duration.ofSeconds(60)), old.output());
            oldHash = hashes(old.output(), 1).get(0);
        }
        try (ChildJvm both = Checkpoints.builder(dir, "every=10").main(AddedTrainerMain.class, "both", "40", "0")
                .start()) {
            assertEquals(0, both.awaitExit(Duration.ofSeconds(60)), both.output());
            String out = both.output();
            String added = AddedTrainerMain.class.getName() + "$Added";
            assertEquals(1, count(out, "new trainer " + added + " (not in "), "one line for the new class:\n" + out);
            assertContains(out, ": starts fresh", "the new class starts fresh");
            assertFalse(out.contains("removed:"), out);
            assertContains(out, "added-start=0", "the added trainer starts at 0");
            assertContains(out, "restored 3 @TrainState fields of " + TWIN + " from", "the old trainer restored");
            assertEquals(List.of(oldHash), hashes(out, 1), out);
            assertContains(out, "ran0=0", "the old trainer, finished, runs no step again");
        }
        // The next run holds both: the added trainer resumes too.
        try (ChildJvm again = Checkpoints.builder(dir, "every=10").main(AddedTrainerMain.class, "both", "40", "0")
                .start()) {
            assertEquals(0, again.awaitExit(Duration.ofSeconds(60)), again.output());
            assertContains(again.output(), "added-start=40", "the added trainer resumed");
            assertFalse(again.output().contains("new trainer"), again.output());
        }
    }

    @Test
    void theSameClassInTwoClassLoadersIsCheckpointedAndResumedAsTwoTrainers() throws Exception {
        List<String> reference = hashes(uninterrupted(TwinTrainersMain.class, "2", TOTAL, "0"), 2);
        String cp = ChildJvm.fixtureClassPath();
        try (ChildJvm first = Checkpoints.builder(dir, "every=10").main(TwoLoadersMain.class, cp, TOTAL, DELAY)
                .start()) {
            awaitCheckpointAtOrAfter(60, first);
            first.process().destroyForcibly(); // SIGKILL
            first.awaitExit(Duration.ofSeconds(30));
        }
        try (ChildJvm again = Checkpoints.builder(dir, "every=10").main(TwoLoadersMain.class, cp, TOTAL, DELAY)
                .start()) {
            assertEquals(0, again.awaitExit(Duration.ofSeconds(120)), again.output());
            String out = again.output();
            assertFalse(out.contains("is also a key of"), out);
            assertContains(out, "restored 3 @TrainState fields of " + TWIN + " from", "the first loader's trainer");
            assertContains(out, "restored 3 @TrainState fields of " + TWIN + "#1 from", "the second loader's trainer");
            assertTrue(start(out, 0) + start(out, 1) > 0, "the trainers continued where they were:\n" + out);
            assertEquals(reference, hashes(out, 2), out);
        }
    }

    @Test
    void onMismatchWarnCountsOnlyTheFieldsRestored() throws Exception {
        try (ChildJvm v1 = Checkpoints.builder(dir, "every=5").main(SchemaTrainer.class, "--version", "1").start()) {
            assertEquals(0, v1.awaitExit(Duration.ofSeconds(60)), v1.output());
        }
        try (ChildJvm v2 = Checkpoints.builder(dir, "onMismatch=warn").main(SchemaTrainer.class, "--version", "2")
                .start()) {
            assertEquals(0, v2.awaitExit(Duration.ofSeconds(60)), v2.output());
            String out = v2.output();
            assertContains(out, "onMismatch=warn: removed: 'momentum'", "the skipped fields are listed");
            // V2 shares 'step' and 'weights' with V1; 'lr' is retyped and 'decay' added, so two fields are restored
            assertContains(out, "restored 2 @TrainState fields of " + SchemaTrainer.class.getName() + "$V2 from",
                    "only the restored fields are counted");
        }
    }

    private static String uninterrupted(Class<?> main, String... args) throws Exception {
        try (ChildJvm child = ChildJvm.builder().noAgent().main(main, args).start()) {
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
            return child.output();
        }
    }

    /** Waits for a committed checkpoint of {@code step} or later; fails at once if the run ended first. */
    private void awaitCheckpointAtOrAfter(long step, ChildJvm child) throws InterruptedException {
        Steps.await("a checkpoint at step " + step + " or later in " + dir, 60_000, () -> {
            try {
                List<Long> steps = Checkpoints.steps(dir);
                if (!steps.isEmpty() && steps.get(steps.size() - 1) >= step) {
                    return true;
                }
            } catch (IOException e) {
                // the directory is being written; look again
            }
            assertTrue(child.process().isAlive(), "the run ended before a checkpoint at step " + step
                    + "; output:\n" + child.output());
            return false;
        });
    }

    private static List<String> hashes(String output, int n) {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            Matcher m = Pattern.compile("(?m)^hash" + i + "=(\\S+)").matcher(output);
            assertTrue(m.find(), "no hash" + i + " line:\n" + output);
            out[i] = m.group(1);
        }
        return List.of(out);
    }

    private static long start(String output, int i) {
        Matcher m = Pattern.compile("(?m)^start" + i + "=(\\d+)$").matcher(output);
        assertTrue(m.find(), "no start" + i + " line:\n" + output);
        return Long.parseLong(m.group(1));
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
