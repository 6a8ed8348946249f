package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointLayoutTest {
    private static final Instant WALL = Instant.parse("2026-11-30T10:15:30.123Z");

    @TempDir
    Path tmp;

    @Test
    void everyFieldPointsAtItsOwnBytesWithTheChecksumOfThem() throws Exception {
        List<Entry> entries = Fixtures.everything();
        CheckpointLayout laidOut = CheckpointLayout.of(42, Map.of("trainer", "com.example.Trainer"), entries, WALL,
                "host-a");
        for (Manifest.Field f : laidOut.model().fields()) {
            if (f.kind() == Manifest.Kind.TENSOR) {
                assertEquals(0, f.crc32c(), f.key() + ": a tensor's CRC32C is filled in as it is written");
            }
        }
        CheckpointLayout layout = withTensorCrcs(laidOut, entries);
        assertEquals(laidOut.manifest().length, layout.manifest().length);

        assertEquals("ckpt-000000000042", layout.name());
        assertEquals(List.of(CheckpointNames.VALUES, CheckpointNames.MANIFEST, CheckpointNames.MANIFEST_CRC),
                List.copyOf(layout.smallFiles().keySet()));
        Manifest m = Manifest.parse(tmp, layout.manifest());
        assertEquals(42, m.step());
        assertEquals(WALL, m.wallTime());
        assertEquals("host-a", m.host());
        assertEquals(entries.size(), m.fields().size());
        assertEquals(Manifest.crcHex(Crc32c.of(layout.manifest())) + " manifest.json\n",
                new String(layout.manifestCrc(), StandardCharsets.UTF_8));
        assertEquals(layout.tensorsHeader().length, m.tensorsHeaderBytes());
        assertEquals(Crc32c.of(layout.values()), m.valuesFileCrc32c());

        byte[] tensorsFile = tensorsFile(layout);
        assertEquals(layout.tensorsBytes(), tensorsFile.length);
        Map<String, Entry> byKey = new HashMap<>();
        entries.forEach(e -> byKey.put(e.key(), e));
        for (Manifest.Field f : m.fields()) {
            Entry e = byKey.get(f.key());
            byte[] file = f.kind() == Manifest.Kind.TENSOR ? tensorsFile : layout.values();
            byte[] expected = e instanceof TensorEntry t ? bytes(t.data()) : Crc32c.valueBytes((JsonEntry) e);
            assertArrayEquals(expected, slice(file, f.offset(), f.byteLength()), f.key());
            assertEquals(Crc32c.ofField(e), f.crc32c(), f.key());
            assertEquals(Crc32c.of(expected), f.crc32c(), f.key());
        }
        long files = layout.tensorsBytes() + layout.values().length + layout.manifest().length
                + layout.manifestCrc().length;
        assertEquals(files + "ckpt-000000000042\n".length(), layout.totalBytes());
    }

    @Test
    void theStoreWritesExactlyTheLaidOutFiles() throws Exception {
        List<Entry> entries = Fixtures.everything();
        CheckpointStore.Options options = CheckpointStore.Options.defaults()
                .withClock(Clock.fixed(WALL, ZoneOffset.UTC));
        CheckpointStore.CommitResult r;
        try (CheckpointStore store = CheckpointStore.open(tmp, options)) {
            r = store.commit(7, Map.of("reason", "test"), entries);
        }
        CheckpointLayout layout = withTensorCrcs(
                CheckpointLayout.of(7, Map.of("reason", "test"), entries, WALL, HostName.get()), entries);
        assertArrayEquals(tensorsFile(layout), Files.readAllBytes(r.dir().resolve(CheckpointNames.TENSORS)));
        for (Map.Entry<String, byte[]> f : layout.smallFiles().entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(r.dir().resolve(f.getKey())), f.getKey());
        }
        assertEquals(layout.totalBytes(), r.bytes());
    }

    /** The layout as the commit completes it: every tensor's CRC32C computed from its bytes. */
    private static CheckpointLayout withTensorCrcs(CheckpointLayout layout, List<Entry> entries) {
        Map<String, Integer> crcs = new HashMap<>();
        for (Entry e : entries) {
            if (e instanceof TensorEntry t) {
                crcs.put(t.key(), Crc32c.ofField(t));
            }
        }
        return layout.withTensorCrcs(crcs);
    }

    @Test
    void theChecksumOfAFieldLeavesItsBufferWhereItWas() {
        TensorEntry t = Fixtures.tensor("w", DType.F32, true, 3, 4, 5);
        int position = t.data().position();
        int first = Crc32c.ofField(t);
        assertEquals(position, t.data().position());
        assertEquals(first, Crc32c.ofField(t));
    }

    @Test
    void inconsistentEntriesAreRefusedBeforeAnythingIsLaidOut() {
        TensorEntry t = Fixtures.tensor("w", DType.F32, false, 1, 4);
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> CheckpointLayout.of(1, Map.of(), List.of(t, Fixtures.json("w", "1")), WALL, "h"));
        assertEquals("empty or duplicate key 'w'", dup.getMessage());
        TensorEntry shortData = new TensorEntry("s", "C", "float[]", DType.F32, new long[] {5}, t.data());
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> CheckpointLayout.of(1, Map.of(), List.of(shortData), WALL, "h"));
        assertEquals("field 's': 16 bytes of data for F32[5] (20 expected)", len.getMessage());
        IllegalArgumentException json = assertThrows(IllegalArgumentException.class,
                () -> CheckpointLayout.of(1, Map.of(), List.of(Fixtures.json("j", "1 2")), WALL, "h"));
        assertEquals("field 'j': more than one JSON value", json.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CheckpointLayout.of(1, Map.of(),
                List.of(Fixtures.json("j", "{")), WALL, "h")).getMessage().startsWith("field 'j': invalid JSON: "));
    }

    /** {@code state.safetensors} as the commit streams it: the header, then each tensor's bytes in layout order. */
    private static byte[] tensorsFile(CheckpointLayout layout) {
        ByteBuffer out = ByteBuffer.allocate((int) layout.tensorsBytes());
        out.put(layout.tensorsHeader());
        for (TensorEntry t : layout.tensors()) {
            out.put(t.data().duplicate());
        }
        return out.array();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static byte[] slice(byte[] file, long offset, long length) {
        byte[] a = new byte[(int) length];
        System.arraycopy(file, (int) offset, a, 0, (int) length);
        return a;
    }
}
