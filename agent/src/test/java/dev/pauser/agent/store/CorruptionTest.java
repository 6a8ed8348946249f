package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints are untrusted: every kind of damage is caught with a message naming the checkpoint and the field. */
class CorruptionTest {
    @TempDir
    Path tmp;
    Path dir;
    byte[] originalManifest;

    /** Puts the manifest back as written, between the cases of one test. */
    private void restore() throws Exception {
        Fixtures.writeManifestBytes(dir, originalManifest);
        assertTrue(CheckpointReader.verify(dir).ok());
    }

    @BeforeEach
    void writeOne() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            dir = store.commit(120, Map.of(), List.of(
                    Fixtures.tensor("weights", DType.F32, true, 1, 64, 64),
                    Fixtures.tensor("bias", DType.F64, false, 2, 64),
                    Fixtures.json("optimizer", "{\"lr\":0.01,\"step\":120}"),
                    Fixtures.json("epoch", "3"))).dir();
        }
        assertTrue(CheckpointReader.verify(dir).ok());
        originalManifest = Files.readAllBytes(dir.resolve("manifest.json"));
    }

    private long offsetOf(String key) throws Exception {
        var m = Fixtures.JSON.readTree(dir.resolve("manifest.json").toFile());
        for (var e : m.get("entries")) {
            if (e.get("key").asText().equals(key)) {
                return e.get("offset").asLong();
            }
        }
        throw new AssertionError(key);
    }

    private CorruptCheckpointException loadFails() {
        return assertThrows(CorruptCheckpointException.class, () -> CheckpointReader.load(dir));
    }

    @Test
    void flippedByteInATensorNamesTheField() throws Exception {
        Fixtures.flipByte(dir.resolve("state.safetensors"), offsetOf("weights") + 1000);
        CorruptCheckpointException e = loadFails();
        assertEquals("weights", e.fieldKey());
        assertTrue(e.getMessage().matches(".*ckpt-000000000120: field 'weights': CRC32C mismatch \\(stored [0-9a-f]{8}, "
                + "computed [0-9a-f]{8}\\)"), e.getMessage());
        VerifyReport v = CheckpointReader.verify(dir);
        assertFalse(v.ok());
        assertEquals(1, v.problems().size(), v.render());
        assertTrue(v.fields().stream().filter(f -> !f.ok()).map(VerifyReport.FieldResult::key).toList()
                .equals(List.of("weights")), v.render());
        assertTrue(v.render().contains("FAIL  weights"), v.render());
    }

    @Test
    void aTensorReadInSeveralChunksLoadsWholeAndAFlipInItsLastPartialChunkIsCaught() throws Exception {
        // two full read chunks and a partial third: 2 * 8 MiB + 12 345 floats' worth of bytes is not a multiple of it
        long floats = 2L * CheckpointReader.READ_CHUNK / Float.BYTES + 12_345;
        TensorEntry big = Fixtures.tensor("big", DType.F32, false, 9, floats);
        Path bigDir;
        try (CheckpointStore store = CheckpointStore.open(tmp.resolve("big"))) {
            bigDir = store.commit(7, Map.of(), List.of(big, Fixtures.tensor("small", DType.F32, true, 3, 16))).dir();
        }
        Fixtures.assertSameEntries(List.of(big), List.of(CheckpointReader.load(bigDir).byKey().get("big")));

        var m = Fixtures.JSON.readTree(bigDir.resolve("manifest.json").toFile());
        long offset = -1;
        for (var e : m.get("entries")) {
            if (e.get("key").asText().equals("big")) {
                offset = e.get("offset").asLong();
            }
        }
        Fixtures.flipByte(bigDir.resolve("state.safetensors"), offset + big.byteLength() - 3);
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
                () -> CheckpointReader.load(bigDir));
        assertEquals("big", e.fieldKey());
        assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
    }

    @Test
    void flippedByteInAJsonValueNamesTheField() throws Exception {
        Fixtures.flipByte(dir.resolve("values.json"), offsetOf("optimizer") + 3);
        CorruptCheckpointException e = loadFails();
        assertEquals("optimizer", e.fieldKey());
        assertTrue(e.getMessage().contains("field 'optimizer': CRC32C mismatch"), e.getMessage());
        assertFalse(CheckpointReader.verify(dir).ok());
    }

    @Test
    void flippedByteOutsideTheFieldValuesIsCaughtToo() throws Exception {
        // the safetensors metadata and the values.json keys are not field bytes, but every byte is covered
        String header = new String(Files.readAllBytes(dir.resolve("state.safetensors")), 0, 200,
                java.nio.charset.StandardCharsets.ISO_8859_1);
        Fixtures.flipByte(dir.resolve("state.safetensors"), header.indexOf("pauser-checkpoint") + 2);
        CorruptCheckpointException e = loadFails();
        assertTrue(e.getMessage().contains("state.safetensors header: CRC32C mismatch"), e.getMessage());
        Fixtures.flipByte(dir.resolve("state.safetensors"), header.indexOf("pauser-checkpoint") + 2);
        assertTrue(CheckpointReader.verify(dir).ok());

        String values = Files.readString(dir.resolve("values.json"));
        Fixtures.flipByte(dir.resolve("values.json"), values.indexOf("optimizer") + 1);
        e = loadFails();
        assertTrue(e.getMessage().contains("values.json: CRC32C mismatch outside the field values"), e.getMessage());
        VerifyReport v = CheckpointReader.verify(dir);
        assertEquals(1, v.problems().size(), v.render());
        assertTrue(v.fields().stream().allMatch(VerifyReport.FieldResult::ok));
    }

    @Test
    void flippedByteInTheManifestIsCaught() throws Exception {
        Fixtures.flipByte(dir.resolve("manifest.json"), 30);
        CorruptCheckpointException e = loadFails();
        assertTrue(e.getMessage().contains("manifest.json: CRC32C mismatch"), e.getMessage());
        assertFalse(CheckpointReader.verify(dir).ok());
        assertThrows(CorruptCheckpointException.class, () -> CheckpointReader.inspect(dir));
    }

    @Test
    void flippedByteInTheSafetensorsHeaderIsCaught() throws Exception {
        Fixtures.flipByte(dir.resolve("state.safetensors"), 20);
        CorruptCheckpointException e = loadFails();
        assertTrue(e.getMessage().contains("state.safetensors"), e.getMessage());
    }

    @Test
    void truncatedTensorFile() throws Exception {
        try (FileChannel ch = FileChannel.open(dir.resolve("state.safetensors"), StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 100);
        }
        CorruptCheckpointException e = loadFails();
        assertTrue(e.getMessage().contains("state.safetensors is ") && e.getMessage().contains("(truncated)"),
                e.getMessage());
        assertFalse(CheckpointReader.verify(dir).ok());
    }

    @Test
    void missingOrEmptyFiles() throws Exception {
        Files.write(dir.resolve("values.json"), new byte[0]);
        assertTrue(loadFails().getMessage().contains("values.json is 0 bytes"));
        Files.delete(dir.resolve("manifest.crc"));
        assertTrue(loadFails().getMessage().contains("manifest.crc is missing"));
    }

    @Test
    void unparsableManifestWithMatchingCrc() throws Exception {
        Fixtures.writeManifestBytes(dir, "{\"format\": \"pauser-checkpoint\", \"entries\": [".getBytes());
        CorruptCheckpointException e = loadFails();
        assertTrue(e.getMessage().contains("manifest.json is not valid JSON"), e.getMessage());
        VerifyReport v = CheckpointReader.verify(dir);
        assertFalse(v.ok());
        assertEquals(-1, v.step());
    }

    @Test
    void unknownFormatOrVersion() throws Exception {
        Fixtures.rewriteManifest(dir, m -> m.put("formatVersion", 2));
        assertTrue(loadFails().getMessage().contains("format version 2 is not supported"));
        Fixtures.rewriteManifest(dir, m -> m.put("formatVersion", 1).put("format", "something-else"));
        assertTrue(loadFails().getMessage().contains("not a Pauser checkpoint"));
    }

    @Test
    void pathEscapingFileNameIsRejected() throws Exception {
        Fixtures.rewriteManifest(dir, m -> Fixtures.entry(m, "weights").put("file", "../x"));
        CorruptCheckpointException e = loadFails();
        assertEquals("weights", e.fieldKey());
        assertTrue(e.getMessage().contains("file name '../x' is not allowed"), e.getMessage());
        for (String bad : new String[] {"/etc/passwd", "sub/state.safetensors", "..", "manifest.json"}) {
            restore();
            Fixtures.rewriteManifest(dir, m -> Fixtures.entry(m, "epoch").put("file", bad));
            assertTrue(loadFails().getMessage().contains("file name '" + bad + "' is not allowed"), bad);
        }
        restore();
        Fixtures.rewriteManifest(dir, m -> {
            ((com.fasterxml.jackson.databind.node.ObjectNode) m.get("files")).putObject("../../evil").put("bytes", 1);
        });
        assertTrue(loadFails().getMessage().contains("file name '../../evil' is not allowed"));
    }

    @Test
    void shapeWhoseElementCountOverflowsIsRejectedBeforeAllocation() throws Exception {
        Fixtures.rewriteManifest(dir, m -> {
            var e = Fixtures.entry(m, "weights");
            e.putArray("shape").add(1L << 40).add(1L << 40);
        });
        CorruptCheckpointException e = loadFails();
        assertEquals("weights", e.fieldKey());
        assertTrue(e.getMessage().contains("more elements than a long holds"), e.getMessage());

        restore();
        Fixtures.rewriteManifest(dir, m -> {
            var en = Fixtures.entry(m, "weights");
            en.putArray("shape").add(1L << 61);
        });
        assertTrue(loadFails().getMessage().contains("more bytes than a long holds"));
    }

    @Test
    void byteLengthBeyondTheFileIsRejectedBeforeAllocation() throws Exception {
        long tib = 1L << 40;
        Fixtures.rewriteManifest(dir, m -> {
            var e = Fixtures.entry(m, "weights");
            e.putArray("shape").add(tib / 4);
            e.put("byteLength", tib);
        });
        CorruptCheckpointException e = loadFails();
        assertEquals("weights", e.fieldKey());
        assertTrue(e.getMessage().contains("lie beyond the end of state.safetensors"), e.getMessage());

        restore();
        Fixtures.rewriteManifest(dir, m -> Fixtures.entry(m, "epoch").put("offset", Long.MAX_VALUE));
        assertTrue(loadFails().getMessage().contains("beyond the end of values.json"));

        restore();
        Fixtures.rewriteManifest(dir, m -> Fixtures.entry(m, "epoch").put("offset", -5));
        assertTrue(loadFails().getMessage().contains("offset is negative"));
    }

    @Test
    void byteLengthThatDisagreesWithShapeIsRejected() throws Exception {
        Fixtures.rewriteManifest(dir, m -> Fixtures.entry(m, "bias").put("byteLength", 8));
        CorruptCheckpointException e = loadFails();
        assertEquals("bias", e.fieldKey());
        assertTrue(e.getMessage().contains("does not match shape [64] of F64 (512 bytes)"), e.getMessage());
    }

    @Test
    void manifestThatDisagreesWithTheSafetensorsHeaderIsRejected() throws Exception {
        Fixtures.rewriteManifest(dir, m -> Fixtures.entry(m, "weights").put("dtype", "I32"));
        CorruptCheckpointException e = loadFails();
        assertEquals("weights", e.fieldKey());
        assertTrue(e.getMessage().contains("says dtype F32, manifest says I32"), e.getMessage());
    }

    @Test
    void absurdSafetensorsHeaderLengthIsRejected() throws Exception {
        try (FileChannel ch = FileChannel.open(dir.resolve("state.safetensors"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L), 0);
        }
        CorruptCheckpointException e = loadFails();
        assertTrue(e.getMessage().contains("header length 18446744073709551615 is not sane"), e.getMessage());
    }

    @Test
    void oversizedManifestIsRefusedUnread() throws Exception {
        try (FileChannel ch = FileChannel.open(dir.resolve("manifest.json"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {' '}), Manifest.MAX_MANIFEST_BYTES + 1); // sparse
        }
        assertTrue(loadFails().getMessage().contains("more than the 67108864 accepted"));
    }

    @Test
    void duplicateKeysInTheManifestAreRejected() throws Exception {
        String m = Files.readString(dir.resolve("manifest.json"));
        Fixtures.writeManifestBytes(dir, m.replaceFirst("\"step\" : 120", "\"step\" : 120, \"step\" : 121").getBytes());
        assertTrue(loadFails().getMessage().contains("not valid JSON"));
    }

    @Test
    void symlinkedDataFileIsRejected() throws Exception {
        Path real = tmp.resolve("elsewhere.json");
        Files.move(dir.resolve("values.json"), real);
        Files.createSymbolicLink(dir.resolve("values.json"), real);
        assertTrue(loadFails().getMessage().contains("values.json is missing or not a regular file"));
    }
}
