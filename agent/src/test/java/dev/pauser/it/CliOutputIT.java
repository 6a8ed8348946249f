package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.fixture.TinyStateTrainer;
import dev.pauser.fixture.ValuesTrainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the command line prints about checkpoints it didn't write itself: text from a manifest can't drive the terminal
 * or forge a line, an unreadable checkpoint is a failure for {@code inspect} as for {@code verify}; and what a late
 * attach that can't checkpoint leaves in the target's output.
 */
class CliOutputIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ESC = "\u001b";
    private static final String FORGED_HOST = "evil\nOK: every CRC32C matches (99 fields)" + ESC + "]0;owned\u0007"
            + "\u009b2J";

    @TempDir
    Path dir;

    private Path checkpoint() throws Exception {
        try (ChildJvm run = Checkpoints.builder(dir, "every=5").main(TinyStateTrainer.class, "10", "1").start()) {
            assertEquals(0, run.awaitExit(Duration.ofSeconds(60)), run.output());
        }
        List<Path> all = Checkpoints.list(dir);
        assertFalse(all.isEmpty());
        return all.get(all.size() - 1);
    }

    @Test
    void controlCharactersFromAManifestAreShownAsEscapesByInspectAndVerify() throws Exception {
        Path ckpt = checkpoint();
        ObjectNode m = (ObjectNode) JSON.readTree(Files.readAllBytes(ckpt.resolve("manifest.json")));
        m.put("host", FORGED_HOST);
        ((ObjectNode) m.get("info")).put("note" + ESC + "[2J", "a\rb");
        for (JsonNode e : m.get("entries")) {
            if (e.get("key").asText().equals("step")) { // a value in values.json: its key is the manifest's alone
                ((ObjectNode) e).put("key", "step\nOK: every CRC32C matches (99 fields)" + ESC + "]0;owned\u0007");
            }
        }
        writeManifest(ckpt, JSON.writeValueAsBytes(m));

        CliIT.Result inspect = CliIT.pauser("inspect", ckpt.toString());
        assertEquals(0, inspect.exit(), inspect.toString());
        assertTerminalSafe(inspect.out());
        assertTrue(inspect.out().contains("host       evil\\nOK: every CRC32C matches (99 fields)\\u001b]0;owned"
                + "\\u0007\\u009b2J, Java"), inspect.out());
        assertTrue(inspect.out().contains("info       note\\u001b[2J = a\\rb"), inspect.out());
        assertTrue(inspect.out().contains("step\\nOK: every CRC32C matches (99 fields)\\u001b]0;owned\\u0007"),
                inspect.out());

        CliIT.Result verify = CliIT.pauser("verify", ckpt.toString());
        assertEquals(0, verify.exit(), verify.toString());
        assertTerminalSafe(verify.out());
        assertEquals(1, verify.out().lines().filter(l -> l.startsWith("OK:")).count(), "one verdict:\n" + verify.out());
        assertTrue(verify.out().lines().anyMatch(l -> l.startsWith("  ok    step\\nOK: every CRC32C matches")),
                verify.out());

        // JSON output carries the exact text, escaped
        CliIT.Result json = CliIT.pauser("inspect", ckpt.toString(), "--json");
        assertEquals(0, json.exit(), json.toString());
        assertTerminalSafe(json.out());
        assertEquals(1, json.out().strip().lines().count(), json.out());
        JsonNode parsed = JSON.readTree(json.out());
        boolean exactKey = false;
        for (JsonNode f : parsed.get(0).get("fields")) {
            exactKey |= f.get("key").asText().equals("step\nOK: every CRC32C matches (99 fields)" + ESC + "]0;owned\u0007");
        }
        assertTrue(exactKey, json.out());
        assertEquals("a\rb", parsed.get(0).get("info").get("note" + ESC + "[2J").asText(), json.out());
    }

    @Test
    void inspectOfAnUnreadableCheckpointFailsWithTheVerifyExitStatus() throws Exception {
        Path ckpt = checkpoint();
        Files.writeString(ckpt.resolve("manifest.json"), "{ not json" + ESC + "[2J");
        CliIT.Result inspect = CliIT.pauser("inspect", ckpt.toString());
        assertEquals(6, inspect.exit(), inspect.toString());
        assertTrue(inspect.out().contains("unreadable"), inspect.toString());
        List<String> err = inspect.errLines();
        assertEquals(1, err.size(), inspect.toString());
        assertTrue(err.get(0).startsWith("pauser: ") && err.get(0).contains("manifest.json"), inspect.toString());
        assertTerminalSafe(inspect.out() + inspect.err());

        CliIT.Result all = CliIT.pauser("inspect", dir.toString(), "--json");
        assertEquals(6, all.exit(), all.toString());
        assertTrue(JSON.readTree(all.out()).get(0).has("error"), all.toString());
    }

    /** A path that is no checkpoint: one line saying what is there, exit 3; a directory without checkpoints: exit 6. */
    @Test
    void inspectAndVerifySayOnceWhatAPathThatIsNoCheckpointIs() throws Exception {
        Path missing = dir.resolve("no-such-run");
        for (String command : List.of("inspect", "verify")) {
            CliIT.Result r = CliIT.pauser(command, missing.toString());
            assertEquals(3, r.exit(), r.toString());
            assertEquals("pauser: " + missing + ": no such file or directory", r.oneErrorLine());
        }
        Path file = Files.writeString(dir.resolve("notes.txt"), "not a checkpoint");
        CliIT.Result r = CliIT.pauser("inspect", file.toString());
        assertEquals(3, r.exit(), r.toString());
        assertEquals("pauser: " + file + ": is a file; give a checkpoint (a ckpt-<step> directory) or the directory "
                + "holding them", r.oneErrorLine());
        Path empty = Files.createDirectory(dir.resolve("empty"));
        r = CliIT.pauser("verify", empty.toString());
        assertEquals(6, r.exit(), r.toString());
        assertEquals("pauser: " + empty + ": holds no checkpoint (ckpt-<step> directories)", r.oneErrorLine());
    }

    @Test
    void aLateAttachThatCantCheckpointLeavesOneCleanLineAndTrainingGoesOn() throws Exception {
        // a field no codec takes: checkpoints are off after the attach, training isn't
        try (ChildJvm child = ChildJvm.builder().noAgent().main(ValuesTrainer.class, "--mode", "unsupported", "--steps",
                "3000", "--delay-ms", "10").start()) {
            child.awaitLine("ready", Duration.ofSeconds(30));
            CliIT.Result attached = CliIT.pauser("attach", Long.toString(child.pid()), "dir=" + dir, "every=5");
            assertEquals(0, attached.exit(), attached.toString());
            child.awaitLine(".*checkpoints are off in this JVM.*", Duration.ofSeconds(60));
            assertEquals(0, child.awaitExit(Duration.ofSeconds(180)), child.output());
            String out = child.output();
            List<String> lines = out.lines().filter(l -> l.contains("checkpoints are off")).toList();
            assertEquals(1, lines.size(), out);
            String line = lines.get(0);
            assertTrue(line.startsWith("pauser: ") && !line.startsWith("pauser: pauser:"), line);
            assertTrue(line.contains("can't be checkpointed") && line.contains("java.lang.Thread"), line);
            assertFalse(out.contains("SEVERE"), out);
            assertTrue(out.contains("result="), "training goes on:\n" + out);
        }
    }

    /** Nothing a terminal would act on: no C0 control but the line ends, no DEL, no C1 control. */
    private static void assertTerminalSafe(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c < 0x20 && c != '\n' || c >= 0x7f && c <= 0x9f;
            assertFalse(control, String.format("U+%04X at %d in:%n%s", (int) c, i, text));
        }
    }

    /** Replaces manifest.json and writes the matching manifest.crc, so that only the content checks can object. */
    private static void writeManifest(Path ckpt, byte[] json) throws Exception {
        Files.write(ckpt.resolve("manifest.json"), json);
        CRC32C crc = new CRC32C();
        crc.update(json);
        Files.writeString(ckpt.resolve("manifest.crc"), String.format("%08x manifest.json%n", crc.getValue()),
                StandardCharsets.US_ASCII);
    }
}
