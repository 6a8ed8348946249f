package dev.pauser.it;

import static dev.pauser.it.Checkpoints.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.SchemaTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint of {@code SchemaTrainer.V1} resumed by {@code SchemaTrainer.V2} (another class,
 * same {@code @TrainState(name)} keys, one field removed, one added, one retyped) stops with one message listing all
 * three and exit status 2; {@code onMismatch=warn} continues with the fields that match restored.
 */
class CheckpointSchemaIT {
    private static final Pattern RESULT = Pattern.compile("(?m)^result=(.*)$");

    @TempDir
    Path dir;

    private String runV1() throws Exception {
        try (ChildJvm v1 = start("every=5", "1")) {
            assertEquals(0, v1.awaitExit(Duration.ofSeconds(120)), v1.output());
            return result(v1.output());
        }
    }

    @Test
    void removedAddedAndRetypedFieldsStopTheRunWithOneMessageListingEach() throws Exception {
        runV1();
        List<Long> before = Checkpoints.steps(dir);
        assertFalse(before.isEmpty());
        try (ChildJvm v2 = start("", "2")) {
            assertEquals(2, v2.awaitExit(Duration.ofSeconds(120)), v2.output());
            String out = v2.output();
            assertContains(out, "the checkpoint does not match the @TrainState fields of the code (3 mismatches",
                    "one message");
            assertContains(out, "removed: 'momentum'", "removed field");
            assertContains(out, "added: 'decay'", "added field");
            assertContains(out, "retyped: 'lr'", "retyped field");
            assertTrue(out.indexOf("removed: 'momentum'") > out.indexOf("3 mismatches")
                    && out.indexOf("added: 'decay'") > out.indexOf("3 mismatches")
                    && out.indexOf("retyped: 'lr'") > out.indexOf("3 mismatches"), out);
            assertEquals(1, count(out, "3 mismatches"), "a single message:\n" + out);
            assertFalse(out.contains("result="), "training must not run:\n" + out);
            assertEquals(before, Checkpoints.steps(dir), "no checkpoint may replace the good ones:\n" + out);
        }
    }

    @Test
    void onMismatchWarnContinuesWithTheMatchingFieldsRestored() throws Exception {
        String v1Result = runV1();
        try (ChildJvm v2 = start("onMismatch=warn", "2")) {
            assertEquals(0, v2.awaitExit(Duration.ofSeconds(120)), v2.output());
            String out = v2.output();
            assertContains(out, "onMismatch=warn: removed: 'momentum'", "warning for the removed field");
            assertContains(out, "onMismatch=warn: added: 'decay'", "warning for the added field");
            assertContains(out, "onMismatch=warn: retyped: 'lr'", "warning for the retyped field");
            // step and weights were restored: the run is already at its end and has V1's weights
            assertEquals(v1Result, result(out), out);
        }
    }

    @Test
    void aFieldThatCannotBeCheckpointedStopsTheRunAtItsFirstStepNamingClassFieldAndType() throws Exception {
        try (ChildJvm v3 = start("every=1", "3")) {
            assertEquals(2, v3.awaitExit(Duration.ofSeconds(120)), v3.output());
            String out = v3.output();
            String v3Class = SchemaTrainer.class.getName() + "$V3";
            assertContains(out, "2 @TrainState fields of " + v3Class + " can't be checkpointed", "one message");
            assertContains(out, v3Class + ".worker: type java.lang.Thread", "the unsupported type");
            assertContains(out, v3Class + ".LIMIT (int) can't be restored: it is a compile-time constant", "constant");
            assertFalse(out.contains("result="), out);
            assertEquals(List.of(), Checkpoints.steps(dir), out);
        }
    }

    private ChildJvm start(String options, String version) throws Exception {
        return Checkpoints.builder(dir, options).main(SchemaTrainer.class, "--version", version, "--steps", "20")
                .start();
    }

    private static String result(String out) {
        Matcher m = RESULT.matcher(out);
        assertTrue(m.find(), out);
        return m.group(1);
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
