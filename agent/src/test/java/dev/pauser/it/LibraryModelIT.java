package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.fixture.EncogXorTrainer;
import dev.pauser.fixture.GraphRefusalTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.encog.neural.networks.BasicNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A library's model and trainer in {@code @TrainState} fields with no codec written for them: Encog's XOR example
 * ({@link EncogXorTrainer}), killed with SIGKILL at random moments (the seed is printed) and restarted with the same
 * command, ends with the weights of an uninterrupted run; its checkpoints read with {@code pauser inspect}.
 */
class LibraryModelIT {
    private static final String[] ARGS = {"300", "10"};
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static ChildJvm.Builder encog(ChildJvm.Builder b) {
        return b.main(ChildJvm.fixtureClassPath() + java.io.File.pathSeparator
                + ChildJvm.classPathOf(BasicNetwork.class), EncogXorTrainer.class.getName(), ARGS);
    }

    @Test
    void anEncogNetworkAndItsTrainerKilledAtRandomStepsEndWithTheUninterruptedWeights() throws Exception {
        String reference;
        try (ChildJvm plain = encog(ChildJvm.builder().noAgent()).start()) {
            reference = Checkpoints.finish(plain, "uninterrupted run without the agent");
        }
        long seed = System.nanoTime();
        Random random = new Random(seed);
        String context = "seed " + seed;
        List<String> kills = new ArrayList<>();
        long lastResumed = -1;
        for (int kill = 0; kill < 3; kill++) {
            try (ChildJvm child = encog(Checkpoints.builder(dir, "every=5")).start()) {
                if (kill == 0) {
                    Checkpoints.awaitCheckpoints(dir, 1, child);
                } else {
                    child.awaitLine("^first step sees step=", Duration.ofSeconds(60));
                }
                Thread.sleep(random.nextInt(700));
                child.process().destroyForcibly(); // SIGKILL
                child.process().waitFor();
                String out = child.output();
                long resumed = Checkpoints.resumedStep(out);
                kills.add("run " + kill + ": resumed at " + resumed + ", checkpoints " + Checkpoints.steps(dir));
                if (kill > 0) {
                    assertTrue(resumed > 0 && resumed >= lastResumed, context + ": " + kills + "\n" + out);
                    assertEquals(Math.min(resumed, 300), Checkpoints.firstStepSees(out), context
                            + ": the epoch restored into the trainer\n" + out);
                }
                lastResumed = resumed;
            }
        }
        try (ChildJvm last = encog(Checkpoints.builder(dir, "every=5")).start()) {
            String result = Checkpoints.finish(last, context);
            assertTrue(Checkpoints.resumedStep(last.output()) >= lastResumed, context + " " + kills + "\n"
                    + last.output());
            assertEquals(reference, result, context + ": the final weights after kill -9 and restarts differ; " + kills
                    + "\nlast run:\n" + last.output());
            System.out.println("Encog kill -9 test, " + context + ": " + kills);
        }

        CliIT.Result inspect = CliIT.pauser("inspect", dir.toString(), "--json");
        assertEquals(0, inspect.exit(), inspect.toString());
        String text = inspect.out();
        assertTrue(text.contains("\"network\"") && text.contains("\"train\""), text);
        assertTrue(text.contains("network/packed.F64"), "the network's small arrays share a tensor:\n" + text);
        JsonNode all = JSON.readTree(text);
        assertTrue(all.isArray() && all.size() > 0, text);
    }

    @Test
    void objectsThatCantBeStateStopTheRunBeforeItsFirstStepEachNamedByItsPath() throws Exception {
        try (ChildJvm child = Checkpoints.builder(dir, "").main(GraphRefusalTrainer.class).start()) {
            assertEquals(2, child.awaitExit(Duration.ofSeconds(120)), child.output());
            String out = child.output();
            String t = GraphRefusalTrainer.class.getName();
            Checkpoints.assertContains(out, t + ".pool: pool.worker: a java.lang.Thread is a thread, which is not state",
                    "a thread");
            Checkpoints.assertContains(out, t + ".pool: pool.in: a java.io.ByteArrayInputStream is a stream", "a stream");
            Checkpoints.assertContains(out, t + ".plugin: plugin.loader: a ", "a class loader");
            assertTrue(!out.contains("finished"), "no step may run:\n" + out);
            assertTrue(Checkpoints.list(dir).isEmpty(), "no checkpoint is written:\n" + out);
        }
    }
}
