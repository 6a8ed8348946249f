package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Where a step boundary is: pauses and checkpoints happen only at the outermost boundaries of every thread. */
class StepBoundaryIT {
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
        String steps = "150";
        String expected;
        try (ChildJvm reference = ChildJvm.builder().noAgent()
                .main(NestedStepTrainer.class, "--steps", steps, "--delay-ms", "0", "--mode", mode).start()) {
            assertEquals(0, reference.awaitExit(Duration.ofSeconds(90)), reference.output());
            expected = counts(reference.output());
        }
        assertEquals("450,450,450,450", expected, "the uninterrupted run without the agent");

        String options = "every=1,keep=100000";
        try (ChildJvm first = Checkpoints.builder(dir, options)
                .main(NestedStepTrainer.class, "--steps", steps, "--delay-ms", "2", "--mode", mode).start()) {
            first.awaitLine("^ready$", Duration.ofSeconds(30));
            Checkpoints.awaitCheckpoints(dir, 6, first);
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(30));
            assertFalse(first.output().contains("counts="), "the first run was to be killed before it finished; "
                    + "output:\n" + first.output());
        }
        List<Path> beforeResume = Checkpoints.list(dir);
        assertConsistent(beforeResume);

        try (ChildJvm second = Checkpoints.builder(dir, options)
                .main(NestedStepTrainer.class, "--steps", steps, "--delay-ms", "0", "--mode", mode).start()) {
            assertEquals(0, second.awaitExit(Duration.ofSeconds(120)), second.output());
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

    private static String counts(String output) {
        Matcher m = COUNTS.matcher(output);
        assertTrue(m.find(), "no counts line; output:\n" + output);
        return m.group(1);
    }
}
