package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.TinyStateTrainer;
import dev.pauser.fixture.ValuesTrainer;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint commands of the command line: checkpoint --wait, inspect, verify. */
class CheckpointCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void checkpointWaitThenInspectAndVerifyAndACorruptByteIsNamed() throws Exception {
        Path ckpt;
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(TinyStateTrainer.class, "100000", "5").start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 3);

            CliIT.Result r = CliIT.pauser("checkpoint", Long.toString(child.pid()), "--wait=60s", "--json");
            assertEquals(0, r.exit(), r.toString());
            JsonNode done = JSON.readTree(r.out());
            ckpt = Paths.get(done.get("path").asText());
            assertTrue(Files.isDirectory(ckpt), r.toString());
            long step = done.get("step").asLong();
            assertTrue(step >= 3, r.toString());
            assertEquals(step, pauser.getLastCheckpointStep());
            assertEquals(ckpt.toString(), pauser.getLastCheckpointPath());
            assertEquals("", pauser.getLastError());

            CliIT.Result status = CliIT.pauser("status", Long.toString(child.pid()), "--json");
            assertEquals(step, JSON.readTree(status.out()).get("lastCheckpointStep").asLong(), status.toString());
        }

        CliIT.Result inspect = CliIT.pauser("inspect", dir.toString(), "--json");
        assertEquals(0, inspect.exit(), inspect.toString());
        JsonNode first = JSON.readTree(inspect.out()).get(0);
        assertEquals(ckpt.toString(), first.get("dir").asText());
        assertEquals("weights", first.get("fields").get(0).get("key").asText());
        assertEquals("F32", first.get("fields").get(0).get("dtype").asText());
        assertEquals(256, first.get("fields").get(0).get("shape").get(0).asInt());
        CliIT.Result table = CliIT.pauser("inspect", ckpt.toString());
        assertTrue(table.out().contains("weights") && table.out().contains("java.util.Random"), table.toString());

        CliIT.Result ok = CliIT.pauser("verify", ckpt.toString());
        assertEquals(0, ok.exit(), ok.toString());
        assertTrue(ok.out().contains("OK: every CRC32C matches"), ok.toString());

        flipFirstTensorByte(ckpt.resolve("state.safetensors"));
        CliIT.Result bad = CliIT.pauser("verify", ckpt.toString());
        assertEquals(6, bad.exit(), bad.toString());
        assertTrue(bad.out().contains("CORRUPT"), bad.toString()); // the report on stdout, the verdict on stderr
        assertEquals(1, bad.errLines().size(), bad.toString());
        String line = bad.errLines().get(0);
        assertTrue(line.startsWith("pauser: ") && line.contains("'weights'") && line.contains("CRC32C"), line);
    }

    @Test
    void verifyOfADirectoryWithoutCheckpointsFails() throws Exception {
        CliIT.Result r = CliIT.pauser("verify", dir.toString());
        assertEquals(6, r.exit(), r.toString());
        assertTrue(r.oneErrorLine().contains("holds no checkpoint"), r.toString());
    }

    /** A step that outlasts the wait: exit 4 (timed out), one line saying so; the checkpoint stays asked for. */
    @Test
    void checkpointWaitOutlastedByARunningStepTimesOut() throws Exception {
        // each step sleeps ten minutes: once the first has begun, no safe point comes while the command waits
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(TinyStateTrainer.class, "100000", "600000").start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.await("the first step to begin", 60_000, () -> !pauser.isBeforeFirstStep());

            String pid = Long.toString(child.pid());
            CliIT.Result r = CliIT.pauser("checkpoint", pid, "--wait=2s");
            assertEquals(4, r.exit(), r.toString());
            String line = r.oneErrorLine();
            assertTrue(line.startsWith("pauser: JVM " + pid + ": checkpoint failed: not durable within 2000 ms"), line);
            assertTrue(line.endsWith("it is still requested"), line);
            assertEquals(-1, pauser.getLastCheckpointStep(), "nothing was written");
        }
    }

    /** A checkpoint that can't be taken (a field no codec takes, attached late): exit 1, one line with the reason. */
    @Test
    void checkpointWaitThatCannotCheckpointFailsWithTheReason() throws Exception {
        try (ChildJvm child = ChildJvm.builder().noAgent()
                .main(ValuesTrainer.class, "--mode", "unsupported", "--steps", "100000", "--delay-ms", "5").start()) {
            child.awaitLine("ready", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            CliIT.Result attached = CliIT.pauser("attach", pid, "dir=" + dir);
            assertEquals(0, attached.exit(), attached.toString());
            // training goes on, checkpoints are off
            child.awaitLine(".*checkpoints are off in this JVM.*", Duration.ofSeconds(60));

            CliIT.Result r = CliIT.pauser("checkpoint", pid, "--wait=60s");
            assertEquals(1, r.exit(), r.toString());
            String line = r.oneErrorLine();
            assertTrue(line.startsWith("pauser: JVM " + pid + ": checkpoint failed: "), line);
            assertEquals("", r.out(), r.toString());
        }
    }

    /** Flips one bit of the first byte of tensor data (right after the safetensors header). */
    static void flipFirstTensorByte(Path safetensors) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(safetensors.toFile(), "rw")) {
            byte[] len = new byte[8];
            f.readFully(len);
            long headerLength = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            long at = 8 + headerLength;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
    }
}
