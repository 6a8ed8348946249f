package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.InheritedStepTrainer;
import dev.pauser.fixture.NestedStepTrainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a step is and where its boundaries are: a method implementing or overriding a {@code @TrainStep} method is a step;
 * pauses and checkpoints happen only at the outermost boundaries of every thread; and a pause where no step has run yet
 * says so rather than claiming to hold training.
 */
class StepBoundaryIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern COUNT_LINE = Pattern.compile("(?m)^count=(\\d+)$");
    private static final Pattern COUNTER = Pattern.compile("\"a(\\d)\"\\s*:\\s*(\\d+)");
    private static final Pattern COUNTS = Pattern.compile("(?m)^counts=(\\S+)$");

    @TempDir
    Path dir;

    /**
     * Four threads whose outermost step contains a nested step (another annotated method, or itself recursively), with a
     * checkpoint asked for at every step: each checkpoint must show every thread between two outermost steps, and a run
     * killed with {@code kill -9} and started again must end exactly like an uninterrupted one.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nested", "recursive"})
    void checkpointsHoldEveryThreadAtAnOutermostBoundaryAndResumeExactly(String mode) throws Exception {
        // Enough steps that the first run is still training when it is killed, however busy the machine.
        String steps = "3000";
        String expected;
        try (ChildJvm reference = ChildJvm.builder().noAgent()
                .main(NestedStepTrainer.class, "--steps", steps, "--delay-ms", "0", "--mode", mode).start()) {
            assertEquals(0, reference.awaitExit(Duration.ofSeconds(90)), reference.output());
            expected = counts(reference.output());
        }
        assertEquals("9000,9000,9000,9000", expected, "the uninterrupted run without the agent");

        String options = "every=1,keep=100000";
        try (ChildJvm first = Checkpoints.builder(dir, options)
                .main(NestedStepTrainer.class, "--steps", steps, "--delay-ms", "2", "--mode", mode).start()) {
            first.awaitLine("^ready$", Duration.ofSeconds(60));
            // Generous: the first checkpoint loads the whole capture path, slow on a loaded machine.
            Steps.await("3 checkpoints in " + dir, 180_000, () -> {
                try {
                    return Checkpoints.list(dir).size() >= 3;
                } catch (IOException e) {
                    return false;
                }
            });
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(60));
            assertFalse(first.output().contains("counts="), "the first run was to be killed before it finished; "
                    + "output:\n" + first.output());
        }
        List<Path> beforeResume = Checkpoints.list(dir);
        assertConsistent(beforeResume);

        try (ChildJvm second = Checkpoints.builder(dir, options)
                .main(NestedStepTrainer.class, "--steps", steps, "--delay-ms", "0", "--mode", mode).start()) {
            assertEquals(0, second.awaitExit(Duration.ofSeconds(300)), second.output());
            assertTrue(Checkpoints.resumedStep(second.output()) > 0, "the second run resumed; output:\n"
                    + second.output());
            assertEquals(expected, counts(second.output()), "the resumed run's counters; output:\n" + second.output());
        }
        assertConsistent(Checkpoints.list(dir));
    }

    /** Every counter of every checkpoint is a whole number of outermost steps. */
    private static void assertConsistent(List<Path> checkpoints) throws IOException {
        assertFalse(checkpoints.isEmpty(), "no checkpoint to look at");
        List<String> inside = new ArrayList<>();
        for (Path c : checkpoints) {
            String values = Files.readString(c.resolve("values.json"), StandardCharsets.UTF_8);
            Matcher m = COUNTER.matcher(values);
            int found = 0;
            StringBuilder line = new StringBuilder();
            boolean whole = true;
            while (m.find()) {
                found++;
                long v = Long.parseLong(m.group(2));
                whole &= v % NestedStepTrainer.PER_STEP == 0;
                line.append(" a").append(m.group(1)).append('=').append(v);
            }
            assertEquals(NestedStepTrainer.THREADS, found, c + ": " + values);
            if (!whole) {
                inside.add(c.getFileName() + ":" + line);
            }
        }
        assertTrue(inside.isEmpty(), inside.size() + " of " + checkpoints.size()
                + " checkpoints were taken with a thread inside an outermost step (a counter not a multiple of "
                + NestedStepTrainer.PER_STEP + "): " + inside);
    }

    /**
     * The step is annotated only on a supertype's method (an interface, an abstract method, a generic interface, a
     * concrete method the subclass replaces) and called through the supertype: the implementation is a step, so a pause
     * holds it at a boundary, the pause checkpoint holds its {@code @TrainState}, and it runs on after resume.
     */
    @ParameterizedTest
    @ValueSource(strings = {"class", "abstract", "anonymous", "generic", "override"})
    void aStepAnnotatedOnASupertypeMethodIsAStepInItsImplementation(String kind) throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(InheritedStepTrainer.class, "--kind", kind, "--steps", "100000", "--delay-ms", "5").start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.await("a first step", 60_000, () -> pauser.getStep() > 0);
            assertEquals("PAUSED", pauser.pauseAndWait(60_000), child.output());
            assertFalse(pauser.isBeforeFirstStep());
            long step = pauser.getStep();
            Steps.assertStepHeld(pauser, 500);
            // Held at a boundary: the implementation printed exactly the steps counted, and nothing since.
            assertEquals(step, lastCount(child.output()), "count lines while PAUSED:\n" + child.output());
            assertEquals(step, pauser.getLastCheckpointStep(), "the pause checkpoint");
            String values = Files.readString(Path.of(pauser.getLastCheckpointPath()).resolve("values.json"));
            assertEquals(step, JSON.readTree(values).get("count").asLong(), values);
            pauser.resume();
            Steps.await("a step after " + step, 60_000, () -> pauser.getStep() > step);
        }
    }

    /**
     * On a late {@code pauser attach}, the implementation of a generic interface's step, already loaded and running, is
     * retransformed into a step: it is counted and a pause holds it.
     */
    @Test
    void aLateAttachMakesTheRunningImplementationAStep() throws Exception {
        try (ChildJvm child = ChildJvm.builder().noAgent()
                .main(InheritedStepTrainer.class, "--kind", "generic", "--steps", "100000", "--delay-ms", "5").start()) {
            child.awaitLine("^count=3$", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            CliIT.Result attached = CliIT.pauser("attach", pid, "dir=" + dir);
            assertEquals(0, attached.exit(), attached.toString());
            PauserMXBean pauser = child.pauser();
            Steps.await("a step counted after the attach", 60_000, () -> pauser.getStep() > 0);
            assertEquals("PAUSED", pauser.pauseAndWait(60_000), child.output());
            assertFalse(pauser.isBeforeFirstStep());
            Steps.assertStepHeld(pauser, 300);
            long count = lastCount(child.output());
            Thread.sleep(500);
            assertEquals(count, lastCount(child.output()), "the implementation ran on while PAUSED");
            pauser.resume();
            child.awaitLine("^count=" + (count + 3) + "$", Duration.ofSeconds(60));
        }
    }

    /**
     * A lambda implementing the {@code @TrainStep} interface method is a hidden class that no agent can change: no step
     * ever runs. A pause is accepted, but {@code pauser pause --wait} and {@code pauser status} say that no step has run
     * and nothing is held, instead of "PAUSED at step 0" while the program trains on.
     */
    @Test
    void aPauseWhereNoStepHasRunSaysNothingIsHeld() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(InheritedStepTrainer.class, "--kind", "lambda", "--steps", "100000", "--delay-ms", "5").start()) {
            child.awaitLine("^count=3$", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            CliIT.Result paused = CliIT.pauser("pause", pid, "--wait=30s");
            assertEquals(0, paused.exit(), paused.toString());
            assertTrue(paused.out().contains("is PAUSED before the first step"), paused.toString());
            assertTrue(paused.out().contains("not instrumented"), paused.toString());
            assertFalse(paused.out().contains("at step"), paused.toString());

            CliIT.Result status = CliIT.pauser("status", pid);
            assertTrue(status.out().contains("before the first step"), status.toString());
            JsonNode json = JSON.readTree(CliIT.pauser("status", pid, "--json").out());
            assertEquals("PAUSED", json.get("state").asText());
            assertTrue(json.get("beforeFirstStep").asBoolean(), json.toString());
            assertEquals(0, json.get("trainerThreads").asInt(), json.toString());

            // Training was never held, and the agent said why when the interface loaded.
            long before = lastCount(child.output());
            child.awaitLine("^count=" + (before + 3) + "$", Duration.ofSeconds(60));
            Checkpoints.assertContains(child.output(), InheritedStepTrainer.Steppable.class.getName()
                    + ".step is a @TrainStep interface method", "the agent's note on lambdas");
        }
    }

    /** A pause taken before the first step is accepted and holds that step at its entry once it comes. */
    @Test
    void aPauseBeforeTheFirstStepHoldsThatStepWhenItComes() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(InheritedStepTrainer.class, "--kind", "class", "--steps", "5", "--delay-ms", "1",
                        "--start-on-stdin").start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            assertEquals("PAUSED", pauser.pauseAndWait(60_000));
            assertTrue(pauser.isBeforeFirstStep());
            child.awaitLine("PAUSED at step 0 \\(before the first step", Duration.ofSeconds(60));

            child.process().getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
            child.process().getOutputStream().flush();
            Steps.await("the first step to arrive", 60_000, () -> !pauser.isBeforeFirstStep());
            Steps.await("the first step's thread to be held", 60_000, () -> pauser.getTrainerThreads() == 1);
            assertEquals("PAUSED", pauser.getState());
            Thread.sleep(300);
            assertFalse(COUNT_LINE.matcher(child.output()).find(), "a step ran while PAUSED:\n" + child.output());
            assertEquals(0, pauser.getStep());

            pauser.resume();
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
            Checkpoints.assertContains(child.output(), "done count=5", "the run after resume");
        }
    }

    private static long lastCount(String output) {
        Matcher m = COUNT_LINE.matcher(output);
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    private static String counts(String output) {
        Matcher m = COUNTS.matcher(output);
        assertTrue(m.find(), "no counts line; output:\n" + output);
        return m.group(1);
    }
}
