package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {
    @TempDir
    Path tmp;

    @Test
    void everyDtypeShapeAndJsonValueComesBackBitForBit() throws Exception {
        List<Entry> entries = Fixtures.everything();
        List<Integer> positions = new ArrayList<>();
        for (Entry e : entries) {
            if (e instanceof TensorEntry t) {
                positions.add(t.data().position());
            }
        }
        Path root = tmp.resolve("pauser");
        CheckpointStore.CommitResult r;
        try (CheckpointStore store = CheckpointStore.open(root)) {
            r = store.commit(1234, Map.of("trainer", "com.example.Trainer"), entries);
        }
        assertEquals(root.toAbsolutePath().resolve("ckpt-000000001234"), r.dir());
        assertTrue(r.bytes() > 13_000_000);
        // the store never moves the caller's buffers
        int i = 0;
        for (Entry e : entries) {
            if (e instanceof TensorEntry t) {
                assertEquals(positions.get(i++), t.data().position());
            }
        }

        LoadedCheckpoint loaded = CheckpointReader.load(r.dir());
        assertEquals(1234, loaded.step());
        assertEquals("com.example.Trainer", loaded.info().get("trainer"));
        Fixtures.assertSameEntries(entries, loaded.entries());
        TensorEntry big = (TensorEntry) loaded.byKey().get("bigDirect");
        assertTrue(big.data().isDirect());

        VerifyReport v = CheckpointReader.verify(r.dir());
        assertTrue(v.ok(), v.render());
        assertEquals(entries.size(), v.fields().size());

        assertEquals(r.dir(), CheckpointStore.latest(root.toAbsolutePath()).orElseThrow());
        assertEquals("ckpt-000000001234\n", Files.readString(root.resolve("latest")));
    }

    @Test
    void valuesJsonIsOneObjectOfTheValues() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            Path dir = store.commit(5, Map.of(), List.of(Fixtures.json("a", "{\"x\":[1,2]}"), Fixtures.json("b", "\"s\"")))
                    .dir();
            JsonNode values = Fixtures.JSON.readTree(dir.resolve("values.json").toFile());
            assertEquals(2, values.get("a").get("x").get(1).asInt());
            assertEquals("s", values.get("b").asText());
        }
    }

    @Test
    void noEntriesAtAllIsAValidCheckpoint() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            Path dir = store.commit(0, Map.of(), List.of()).dir();
            assertTrue(CheckpointReader.verify(dir).ok());
            assertEquals(0, CheckpointReader.load(dir).entries().size());
        }
    }

    @Test
    void manifestRecordsOriginAndPerFieldLayout() throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults().withClock(clock))) {
            Path dir = store.commit(7, Map.of("k", "v"), List.of(Fixtures.tensor("w", DType.F32, false, 1, 2, 3))).dir();
            JsonNode m = Fixtures.JSON.readTree(dir.resolve("manifest.json").toFile());
            assertEquals("pauser-checkpoint", m.get("format").asText());
            assertEquals(1, m.get("formatVersion").asInt());
            assertEquals(7, m.get("step").asLong());
            assertEquals("2026-01-02T03:04:05Z", m.get("wallTime").asText());
            assertEquals(System.getProperty("java.version"), m.get("jvm").get("version").asText());
            assertFalse(m.get("host").asText().isEmpty());
            JsonNode e = m.get("entries").get(0);
            assertEquals("w", e.get("key").asText());
            assertEquals("F32", e.get("dtype").asText());
            assertEquals(24, e.get("byteLength").asLong());
            assertEquals("state.safetensors", e.get("file").asText());
            assertTrue(e.get("crc32c").asText().matches("[0-9a-f]{8}"));

            CheckpointSummary s = CheckpointReader.inspect(dir,
                    Clock.offset(clock, Duration.ofMinutes(5)));
            assertEquals(Duration.ofMinutes(5), s.age());
            String table = s.render();
            assertTrue(table.contains("step       7"), table);
            assertTrue(table.contains("(300s ago)") || table.contains("(5m ago)"), table);
            assertTrue(table.lines().anyMatch(l -> l.startsWith("w ") && l.contains("F32") && l.contains("[2, 3]")
                    && l.contains("24")), table);
        }
    }

    @Test
    void sameStepCommittedAgainReplacesTheOldOne() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            store.commit(10, Map.of(), List.of(Fixtures.json("v", "1")));
            Path dir = store.commit(10, Map.of(), List.of(Fixtures.json("v", "2"))).dir();
            assertEquals("2", ((JsonEntry) CheckpointReader.load(dir).entries().get(0)).json());
            try (var s = Files.list(store.root())) {
                assertEquals(List.of(".lock", "ckpt-000000000010", "latest"),
                        s.map(p -> p.getFileName().toString()).sorted().toList());
            }
        }
    }

    @Test
    void inconsistentEntriesAreRefusedBeforeAnythingIsWritten() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            TensorEntry shortData = new TensorEntry("w", "C", "float[]", DType.F32, new long[] {4}, ByteBuffer.allocate(12));
            assertThrows(IllegalArgumentException.class, () -> store.commit(1, Map.of(), List.of(shortData)));
            assertThrows(IllegalArgumentException.class, () -> store.commit(1, Map.of(),
                    List.of(Fixtures.json("a", "1"), Fixtures.json("a", "2"))));
            assertThrows(IllegalArgumentException.class, () -> store.commit(1, Map.of(),
                    List.of(Fixtures.json("a", "{\"x\":"))));
            assertThrows(IllegalArgumentException.class, () -> store.commit(1, Map.of(),
                    List.of(Fixtures.json("a", "1 2"))));
            assertThrows(IllegalArgumentException.class, () -> store.commit(-1, Map.of(), List.of()));
            assertEquals(List.of(), store.list());
        }
    }

    @Test
    void secondStoreOnTheSameDirectoryIsRefused() throws Exception {
        CheckpointStore first = CheckpointStore.open(tmp);
        try {
            CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointStore.open(tmp));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        } finally {
            first.close();
        }
        CheckpointStore.open(tmp).close();
    }
}
