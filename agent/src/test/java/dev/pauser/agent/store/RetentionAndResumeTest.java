package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionAndResumeTest {
    @TempDir
    Path tmp;

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private static List<Entry> state(long step) {
        return List.of(Fixtures.tensor("w", DType.F32, false, step, 16), Fixtures.json("step", Long.toString(step)));
    }

    private static Set<Long> steps(CheckpointStore store) throws Exception {
        return store.list().stream().map(p -> CheckpointNames.parseStep(p.getFileName().toString()).getAsLong())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void keepThreeOverTwentyFiveCommits() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp.resolve("root"))) {
            // things retention must never touch
            Files.writeString(store.root().resolve("notes.txt"), "x");
            Files.createDirectory(store.root().resolve("ckpt-abc"));
            Files.createDirectory(store.root().resolve("ckpt-5.bak"));
            Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
            Files.createSymbolicLink(store.root().resolve("ckpt-000000000000"), elsewhere);
            for (long s = 1; s <= 25; s++) {
                CheckpointStore.CommitResult r = store.commit(s * 100, Map.of(), state(s));
                assertEquals(List.of(), r.warnings());
                Set<Long> expected = new TreeSet<>();
                for (long k = Math.max(1, s - 2); k <= s; k++) {
                    expected.add(k * 100);
                }
                assertEquals(expected, steps(store), "after commit " + s);
                if (s > 3) {
                    assertEquals(List.of(store.root().resolve(CheckpointNames.dirName((s - 3) * 100))), r.deleted());
                }
            }
            assertTrue(Files.exists(store.root().resolve("notes.txt")));
            assertTrue(Files.isDirectory(store.root().resolve("ckpt-abc")));
            assertTrue(Files.isDirectory(store.root().resolve("ckpt-5.bak")));
            assertTrue(Files.isSymbolicLink(store.root().resolve("ckpt-000000000000")));
            assertTrue(Files.isDirectory(elsewhere));
            for (Path p : store.list()) {
                assertTrue(CheckpointReader.verify(p).ok());
            }
            assertThrows(CheckpointException.class, () -> store.deleteCheckpoint(store.root().resolve("ckpt-abc")));
            assertThrows(CheckpointException.class, () -> store.deleteCheckpoint(
                    store.root().resolve("ckpt-000000000000")));
        }
    }

    @Test
    void keepEveryKeepsTheOldestOfEachPeriodPlusTheNewest() throws Exception {
        TestClock clock = new TestClock();
        CheckpointStore.Options o = CheckpointStore.Options.defaults().withClock(clock)
                .withRetention(2, Duration.ofHours(1));
        try (CheckpointStore store = CheckpointStore.open(tmp, o)) {
            // step s written at minute 10*(s-1): hours hold steps 1-6, 7-12, 13-18, 19-24, 25
            for (long s = 1; s <= 25; s++) {
                clock.now = Instant.parse("2026-01-01T00:00:00Z").plus(Duration.ofMinutes(10 * (s - 1)));
                store.commit(s, Map.of(), state(s));
                if (s == 9) {
                    assertEquals(Set.of(1L, 7L, 8L, 9L), steps(store));
                }
            }
            assertEquals(Set.of(1L, 7L, 13L, 19L, 24L, 25L), steps(store));
        }
    }

    @Test
    void retentionRuleAsAPureFunction() {
        Retention r = new Retention(1, Duration.ofDays(1));
        Instant day = Instant.parse("2026-03-01T00:00:00Z");
        List<Retention.Candidate> c = List.of(
                new Retention.Candidate(10, day.plusSeconds(3600)),
                new Retention.Candidate(20, day.plusSeconds(7200)),
                new Retention.Candidate(30, day.plusSeconds(86_400 + 5)),
                new Retention.Candidate(40, day.plusSeconds(86_400 + 50)),
                new Retention.Candidate(50, day.plusSeconds(2 * 86_400 + 1)));
        assertEquals(Set.of(10L, 30L, 50L), r.keepSet(c, Set.of()));
        assertEquals(Set.of(10L, 20L, 30L, 50L), r.keepSet(c, Set.of(20L)));
        assertThrows(IllegalArgumentException.class, () -> new Retention(0, null));
        assertThrows(IllegalArgumentException.class, () -> new Retention(3, Duration.ZERO));
    }

    @Test
    void protectedCheckpointSurvivesUntilANewerOneIsCommitted() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            for (long s : new long[] {10, 20, 30}) {
                store.commit(s, Map.of(), state(s));
            }
        }
        CheckpointStore.Options keepOne = CheckpointStore.Options.defaults().withRetention(1, null);
        try (CheckpointStore store = CheckpointStore.open(tmp, keepOne)) {
            store.protect(store.root().resolve("ckpt-000000000020")); // the run resumed from 20
            store.commit(15, Map.of(), state(15)); // not newer than 20: 20 stays
            assertEquals(Set.of(15L, 20L, 30L), steps(store));
            store.commit(25, Map.of(), state(25)); // newer than 20 and durable: protection ends
            assertEquals(Set.of(25L, 30L), steps(store));
        }
    }

    @Test
    void newestValidSkipsACorruptNewestAndSaysWhy() throws Exception {
        List<Path> dirs = new ArrayList<>();
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            for (long s = 1; s <= 3; s++) {
                dirs.add(store.commit(s, Map.of(), state(s)).dir());
            }
        }
        Path newest = dirs.get(2);
        var m = Fixtures.JSON.readTree(newest.resolve("manifest.json").toFile());
        long off = 0;
        for (var e : m.get("entries")) {
            if (e.get("key").asText().equals("w")) {
                off = e.get("offset").asLong();
            }
        }
        Fixtures.flipByte(newest.resolve("state.safetensors"), off + 5);

        Resume.Scan scan = Resume.newestValid(tmp);
        assertEquals(dirs.get(1), scan.chosen().orElseThrow());
        assertEquals(1, scan.skipped().size());
        assertEquals(newest, scan.skipped().get(0).dir());
        assertTrue(scan.skipped().get(0).reason().contains("field 'w': CRC32C mismatch"), scan.skipped().get(0).reason());

        Resume.Loaded loaded = Resume.loadNewestValid(tmp);
        assertEquals(2, loaded.checkpoint().orElseThrow().step());
        assertEquals("2", ((JsonEntry) loaded.checkpoint().orElseThrow().byKey().get("step")).json());
        assertEquals(1, loaded.skipped().size());

        // the middle one truncated as well (its manifest gone, as after a crash of a non-atomic writer)
        Files.delete(dirs.get(1).resolve("manifest.json"));
        scan = Resume.newestValid(tmp);
        assertEquals(dirs.get(0), scan.chosen().orElseThrow());
        assertEquals(2, scan.skipped().size());
        assertTrue(scan.skipped().get(1).reason().contains("manifest.json is missing"));

        Files.delete(dirs.get(0).resolve("values.json"));
        scan = Resume.newestValid(tmp);
        assertTrue(scan.chosen().isEmpty());
        assertEquals(3, scan.skipped().size());
    }

    @Test
    void nothingToResumeFromInAMissingDirectory() throws Exception {
        Resume.Scan scan = Resume.newestValid(tmp.resolve("never-created"));
        assertTrue(scan.chosen().isEmpty());
        assertEquals(List.of(), scan.skipped());
        assertTrue(Resume.loadNewestValid(tmp.resolve("never-created")).checkpoint().isEmpty());
    }

    @Test
    void resolveTakesACheckpointOrARoot() throws Exception {
        Path a;
        Path b;
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            a = store.commit(1, Map.of(), state(1)).dir();
            b = store.commit(2, Map.of(), state(2)).dir();
        }
        assertEquals(List.of(a), CheckpointReader.resolve(a));
        assertEquals(List.of(b, a), CheckpointReader.resolve(tmp));
    }

    @Test
    void stepsSortNumericallyBeyondTwelveDigits() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults().withRetention(5, null))) {
            store.commit(999_999_999_999L, Map.of(), state(1));
            store.commit(1_000_000_000_000L, Map.of(), state(2));
            store.commit(7, Map.of(), state(3));
            assertEquals(List.of("ckpt-1000000000000", "ckpt-999999999999", "ckpt-000000000007"),
                    store.list().stream().map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void theStoreChoosesTheResumePointAndSetsNewerCheckpointsAside() throws Exception {
        TestClock clock = new TestClock();
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults()
                .withRetention(5, null).withClock(clock))) {
            for (long s = 1; s <= 4; s++) {
                store.commit(s * 10, Map.of(), state(s));
            }
            Fixtures.flipByte(store.root().resolve("ckpt-000000000040").resolve("values.json"), 3);
            Resume.Loaded loaded = store.loadNewestValid();
            LoadedCheckpoint from = loaded.checkpoint().orElseThrow();
            assertEquals(30, from.step());
            assertEquals(List.of(store.root().resolve("ckpt-000000000040")),
                    loaded.skipped().stream().map(Resume.Skipped::dir).toList());

            List<Path> newer = store.newerThan(from.step());
            assertEquals(List.of(store.root().resolve("ckpt-000000000040")), newer);
            assertEquals(List.of(store.root().resolve("ckpt-000000000040"), store.root().resolve("ckpt-000000000030"),
                    store.root().resolve("ckpt-000000000020"), store.root().resolve("ckpt-000000000010")),
                    store.newerThan(-1));
            Path aside = store.setAside(newer);
            assertEquals(store.root().resolve("aside-20260101-000000"), aside);
            assertTrue(Files.isDirectory(aside.resolve("ckpt-000000000040")));
            assertEquals(Set.of(10L, 20L, 30L), steps(store));
            assertEquals(store.root().resolve("ckpt-000000000030"), store.newestValid().chosen().orElseThrow());

            CheckpointException outside = assertThrows(CheckpointException.class,
                    () -> store.setAside(List.of(aside.resolve("ckpt-000000000040"))));
            assertEquals(aside.resolve("ckpt-000000000040") + ": not a checkpoint directory of " + store.root()
                    + ", not moved", outside.getMessage());
        }
    }
}
