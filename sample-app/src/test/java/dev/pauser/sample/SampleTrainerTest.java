package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SampleTrainerTest {
    /** Small enough to run in a second or two. */
    static final String[] SMALL = {"--steps", "300", "--hidden", "32", "--layers", "2", "--train-rows", "2000",
        "--test-rows", "500", "--log-every", "100"};

    @Test
    void defaultsReachNinetyPercent() throws Exception {
        long start = System.nanoTime();
        List<String> lines = TrainerRuns.run();
        double seconds = (System.nanoTime() - start) / 1e9;
        double accuracy = Double.parseDouble(TrainerRuns.result(lines, "accuracy"));
        System.out.printf("defaults: accuracy %.4f in %.1f s%n", accuracy, seconds);
        assertTrue(accuracy >= 0.9, "accuracy " + accuracy + " with the defaults; output:\n" + String.join("\n", lines));
        assertTrue(lines.get(lines.size() - 2).matches("accuracy=[01]\\.\\d{6}"), lines.get(lines.size() - 2));
        assertTrue(lines.get(lines.size() - 1).matches("final-weights-sha256=[0-9a-f]{64}"), lines.get(lines.size() - 1));
        // progress lines: step, loss, test accuracy, steps/s
        assertTrue(lines.stream().anyMatch(l -> l.matches(
                "step 3000/3000 epoch \\d+ loss \\d+\\.\\d+ test-accuracy \\d\\.\\d{4} steps/s \\d+\\.\\d")),
                String.join("\n", lines));
    }

    @Test
    void sameOptionsGiveTheSameHashAndAnotherSeedAnother() throws Exception {
        List<String> a = TrainerRuns.run(SMALL);
        List<String> b = TrainerRuns.run(SMALL);
        assertEquals(TrainerRuns.result(a, "final-weights-sha256"), TrainerRuns.result(b, "final-weights-sha256"));
        assertEquals(TrainerRuns.result(a, "accuracy"), TrainerRuns.result(b, "accuracy"));

        String[] otherSeed = java.util.Arrays.copyOf(SMALL, SMALL.length + 2);
        otherSeed[SMALL.length] = "--seed";
        otherSeed[SMALL.length + 1] = "7";
        List<String> c = TrainerRuns.run(otherSeed);
        assertNotEquals(TrainerRuns.result(a, "final-weights-sha256"), TrainerRuns.result(c, "final-weights-sha256"));
    }

    @Test
    void theLossFallsAndTheModelLearns() throws Exception {
        Options o = Options.parse(SMALL);
        try (SampleTrainer t = new SampleTrainer(o)) {
            double before = t.testAccuracy();
            double firstLoss = 0;
            for (int i = 0; i < 20; i++) {
                t.trainStep();
                firstLoss += t.lastLoss() / 20;
            }
            while (t.step < 280) {
                t.trainStep();
            }
            double lastLoss = 0;
            for (int i = 0; i < 20; i++) {
                t.trainStep();
                lastLoss += t.lastLoss() / 20;
            }
            assertEquals(300, t.step);
            assertTrue(lastLoss < firstLoss / 2, "loss " + firstLoss + " -> " + lastLoss);
            assertTrue(t.testAccuracy() > before + 0.3, "accuracy " + before + " -> " + t.testAccuracy());
        }
    }

    @Test
    void aFinishedTrainerTrainsNoMore() throws Exception {
        Options o = Options.parse("--steps", "5", "--hidden", "8", "--train-rows", "200", "--test-rows", "50");
        try (SampleTrainer t = new SampleTrainer(o)) {
            while (t.step < o.steps()) {
                t.trainStep();
            }
            String hash = t.weightsSha256();
            t.trainStep();
            assertEquals(5, t.step);
            assertEquals(hash, t.weightsSha256());
        }
    }
}
