package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.PlainLoopData;
import dev.pauser.fixture.PlainLoopTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A program compiled without any Pauser annotation ({@link PlainLoopTrainer}, run with only its own classes on the
 * class path) made pausable and exactly resumable by agent options alone: {@code step=} and {@code state=}, given
 * directly or in a {@code config=} file; and the one-line errors of names that don't exist.
 */
class NamedStateIT {
    private static final String T = PlainLoopTrainer.class.getName();
    private static final String[] ARGS = {"200", "10"};
    private static final String DATA = PlainLoopData.class.getName();
    private static final String NAMES = "step=" + T + "#runEpoch,state=" + T + "#weights+" + T + "#epoch+" + T
            + "#noise+" + T + "#SHUFFLE+" + DATA + "#ORDER";

    @TempDir
    Path dir;

    private static ChildJvm.Builder plain(ChildJvm.Builder b) {
        // the fixture's classes only: no pauser-runtime, no annotation in the program
        return b.main(ChildJvm.classPathOf(PlainLoopTrainer.class), T, ARGS);
    }

    @Test
    void aPlainProgramPausedOverJmxKilledAndRestartedEndsWithTheUninterruptedResult() throws Exception {
        assertPausedKilledAndResumedExactly(NAMES);
    }

    @Test
    void theSameNamesFromAConfigFile() throws Exception {
        Path file = Files.createTempDirectory("pauser-names").resolve("names.txt");
        Files.writeString(file, "# the loop of the plain trainer\n\n  step=" + T + "#runEpoch\n"
                + "state=" + T + "#weights+" + T + "#epoch\n# its generators\nstate=" + T + "#noise\nstate=" + T
                + "#SHUFFLE\n# a static of another class\nstate=" + DATA + "#ORDER\n");
        assertPausedKilledAndResumedExactly("config=" + file);
    }

    private void assertPausedKilledAndResumedExactly(String options) throws Exception {
        Path ckpts = dir.resolve("ckpt");
        String reference;
        try (ChildJvm alone = plain(ChildJvm.builder().noAgent()).start()) {
            reference = Checkpoints.finish(alone, "uninterrupted run without the agent");
        }
        long pausedAt;
        try (ChildJvm child = plain(Checkpoints.builder(ckpts, options)).start()) {
            child.awaitLine("^first step sees step=0", Duration.ofSeconds(60));
            String out = child.output();
            assertTrue(out.contains("pauser: step=" + T + "#runEpoch: each call is a step"), out);
            child.pauser().pause();
            Steps.await(() -> "paused; output:\n" + child.output(), 120_000, () -> {
                try {
                    return child.pauser().isPaused();
                } catch (Exception e) {
                    return false;
                }
            });
            Checkpoints.awaitCheckpoints(ckpts, 1, child);
            pausedAt = child.pauser().getStep();
            child.process().destroyForcibly(); // SIGKILL while paused
            child.process().waitFor();
        }
        assertTrue(pausedAt > 0 && pausedAt < 200, "paused at " + pausedAt);
        try (ChildJvm resumed = plain(Checkpoints.builder(ckpts, options)).start()) {
            String result = Checkpoints.finish(resumed, "resumed run");
            String out = resumed.output();
            assertEquals(pausedAt, Checkpoints.resumedStep(out), out);
            assertEquals(pausedAt, Checkpoints.firstStepSees(out), "the epoch restored into the trainer\n" + out);
            assertEquals(reference, result, "the final weights after pause, kill -9 and restart differ\n" + out);
        }
    }

    @Test
    void aMethodOrFieldTheClassLacksStopsTheJvmBeforeMainWithOneLineEach() throws Exception {
        String args = "dir=" + dir + ",step=" + T + "#train,state=" + T + "#weigths";
        try (ChildJvm child = plain(ChildJvm.builder().agent(args)).start()) {
            assertEquals(2, child.awaitExit(Duration.ofSeconds(60)));
            String out = child.output();
            List<String> ours = out.lines().filter(l -> l.startsWith("pauser")).collect(Collectors.toList());
            assertEquals(List.of(
                    "pauser: step=" + T + "#train: " + T + " declares no method named train with code; fix the step"
                            + " option (its methods: main, runEpoch, weightsHash)",
                    "pauser: state=" + T + "#weigths: " + T + " declares no field named weigths; fix the state option"
                            + " (its fields: SHUFFLE, delay, epoch, epochs, first, noise, weights)"), ours, out);
            assertFalse(out.contains("ready"), "main ran:\n" + out);
        }
    }

    @Test
    void aClassNotOnTheClassPathIsOneWarningAndTheProgramRuns() throws Exception {
        String args = "dir=" + dir + ",step=org.example.Missing#fit";
        try (ChildJvm child = plain(ChildJvm.builder().agent(args)).start()) {
            Checkpoints.finish(child, "a run naming a missing class");
            String out = child.output();
            assertTrue(out.contains("pauser: WARNING: step=org.example.Missing#fit: no class org.example.Missing on"
                    + " the class path"), out);
        }
    }

    @Test
    void aMalformedNameIsABadValue() throws Exception {
        try (ChildJvm child = plain(ChildJvm.builder().agent("dir=" + dir + ",step=" + T + ".runEpoch")).start()) {
            assertEquals(2, child.awaitExit(Duration.ofSeconds(60)));
            String out = child.output();
            assertTrue(out.contains("pauser: bad value '" + T + ".runEpoch' for option step (agent argument): expected"
                    + " <class>#<method> entries joined by + (empty: none) ('" + T + ".runEpoch' is not"
                    + " <class>#<member>, e.g. org.lib.Trainer#fit)"), out);
        }
    }
}
