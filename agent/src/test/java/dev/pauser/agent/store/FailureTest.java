package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Full disks, failed renames, crashes mid-commit: old checkpoints always survive, nothing half-written is ever valid. */
class FailureTest {
    @TempDir
    Path tmp;

    private static List<Entry> state(int seed) {
        return List.of(Fixtures.tensor("weights", DType.F32, true, seed, 512, 1024), // 2 MiB, direct path
                Fixtures.tensor("bias", DType.F64, false, seed + 1, 1000),
                Fixtures.json("optimizer", "{\"seed\":" + seed + "}"));
    }

    private static List<String> names(Path root) throws Exception {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertAllValid(Path root, List<Path> dirs) {
        for (Path d : dirs) {
            VerifyReport v = CheckpointReader.verify(d);
            assertTrue(v.ok(), v.render());
        }
    }

    @Test
    void diskFullAtAnyPointLeavesOldCheckpointsIntactAndNoDebris() throws Exception {
        FaultyIo io = new FaultyIo();
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults().withIo(io))) {
            store.commit(1, Map.of(), state(1));
            store.commit(2, Map.of(), state(2));
            List<String> before = names(store.root());
            List<Path> old = store.list();
            long size = store.commit(3, Map.of(), state(3)).bytes() - "ckpt-000000000003\n".length(); // w/o latest
            store.deleteCheckpoint(store.list().get(0)); // back to ckpt 1 and 2
            assertEquals(before, names(store.root()));
            String latest = Files.readString(store.root().resolve("latest"));

            // run out of space at the start, in the header, mid-tensor (direct and heap paths), in values, in the manifest
            for (long budget : new long[] {0, 5, 100, 1 << 20, (2 << 20) + 3000, size - 300, size - 40, size - 1}) {
                io.written.set(0);
                io.budget = budget;
                CheckpointException e = assertThrows(CheckpointException.class,
                        () -> store.commit(3, Map.of(), state(3)), "budget " + budget);
                assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
                assertTrue(e.getMessage().contains("ckpt-000000000003"), e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
                assertEquals(before, names(store.root()), "budget " + budget);
                assertEquals(latest, Files.readString(store.root().resolve("latest")));
                assertEquals(old, store.list());
                assertAllValid(store.root(), old);
            }
            // space runs out only for the latest pointer: the checkpoint is durable and valid, the pointer stays old
            io.written.set(0);
            io.budget = size + 5;
            CheckpointStore.CommitResult r = store.commit(3, Map.of(), state(3));
            assertEquals(1, r.warnings().size(), String.valueOf(r.warnings()));
            assertTrue(r.warnings().get(0).contains("updating latest failed"), r.warnings().get(0));
            assertEquals(latest, Files.readString(store.root().resolve("latest")));
            assertFalse(Files.exists(store.root().resolve("latest.tmp")));
            assertTrue(CheckpointReader.verify(r.dir()).ok());
            io.budget = Long.MAX_VALUE;
            store.commit(4, Map.of(), state(4));
            assertEquals(3, store.list().size());
        }
    }

    @Test
    void withKeepOneTheOnlyCheckpointSurvivesAFailedSuccessor() throws Exception {
        FaultyIo io = new FaultyIo();
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults().withIo(io)
                .withRetention(1, null))) {
            Path only = store.commit(1, Map.of(), state(1)).dir();
            io.budget = io.written.get() + 4096;
            assertThrows(CheckpointException.class, () -> store.commit(2, Map.of(), state(2)));
            assertEquals(List.of(only), store.list());
            assertAllValid(store.root(), store.list());
            io.budget = Long.MAX_VALUE;
            Path next = store.commit(2, Map.of(), state(2)).dir();
            assertEquals(List.of(next), store.list()); // deleted only once its successor was durable
        }
    }

    @Test
    void failedRenameOrSyncLeavesNothingOfTheNewCheckpoint() throws Exception {
        FaultyIo io = new FaultyIo();
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults().withIo(io))) {
            store.commit(1, Map.of(), state(1));
            List<String> before = names(store.root());
            io.failMoves = true;
            assertThrows(CheckpointException.class, () -> store.commit(2, Map.of(), state(2)));
            assertEquals(before, names(store.root()));
            io.failMoves = false;
            io.failDirSync = true;
            assertThrows(CheckpointException.class, () -> store.commit(2, Map.of(), state(2)));
            assertEquals(before, names(store.root()));
            // the same step again: the old one must come back when its replacement cannot be made durable
            assertThrows(CheckpointException.class, () -> store.commit(1, Map.of(), state(9)));
            assertEquals(before, names(store.root()));
            io.failDirSync = false;
            assertAllValid(store.root(), store.list());
            assertEquals("{\"seed\":1}", ((JsonEntry) CheckpointReader.load(store.list().get(0)).byKey()
                    .get("optimizer")).json());
        }
    }

    @Test
    void freeSpaceCheckRefusesBeforeWritingAnything() throws Exception {
        FaultyIo io = new FaultyIo();
        try (CheckpointStore store = CheckpointStore.open(tmp, CheckpointStore.Options.defaults().withIo(io)
                .withSpaceMargin(1000))) {
            store.commit(1, Map.of(), state(1));
            List<String> before = names(store.root());
            io.usable = 2 << 20; // less than the 2 MiB tensor + the rest
            io.written.set(0);
            CheckpointException e = assertThrows(CheckpointException.class, () -> store.commit(2, Map.of(), state(2)));
            assertTrue(e.getMessage().startsWith(store.root() + ": not enough free space for checkpoint "
                    + "ckpt-000000000002: needs "), e.getMessage());
            assertTrue(e.getMessage().endsWith(", 2097152 free"), e.getMessage());
            assertEquals(0, io.written.get());
            assertEquals(before, names(store.root()));
            io.usable = 100L << 20;
            store.commit(2, Map.of(), state(2));
        }
    }

    @Test
    void crashDebrisIsIgnoredByReadersAndCleanedAtOpen() throws Exception {
        Path ckpt1;
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            ckpt1 = store.commit(1, Map.of(), state(1)).dir();
            store.commit(2, Map.of(), state(2));
        }
        Path root = ckpt1.getParent();
        // A commit killed mid-way: a temp dir holding a complete-looking copy (it must not be taken as a checkpoint).
        Path tmpDir = root.resolve(".tmp-ckpt-000000000003-1a2b3c");
        Files.createDirectory(tmpDir);
        for (String f : new String[] {"manifest.json", "manifest.crc", "state.safetensors"}) {
            Files.copy(root.resolve("ckpt-000000000002").resolve(f), tmpDir.resolve(f));
        }
        Path del = root.resolve(".del-ckpt-000000000000-ff");
        Files.createDirectory(del);
        Files.writeString(del.resolve("state.safetensors"), "partial");
        Files.writeString(root.resolve("latest.tmp"), "ckpt-000000000003");
        // A same-step replacement killed between the two renames: the old copy must come back.
        Path old = root.resolve(".old-ckpt-000000000001-abc");
        Files.move(ckpt1, old);
        // Things that are not ours stay.
        Files.writeString(root.resolve("notes.txt"), "mine");
        Files.createDirectory(root.resolve(".tmp-something-else"));

        assertEquals(List.of(root.resolve("ckpt-000000000002")), CheckpointStore.list(root));
        assertEquals(root.resolve("ckpt-000000000002"), Resume.newestValid(root).chosen().orElseThrow());

        try (CheckpointStore store = CheckpointStore.open(root)) {
            assertEquals(3, store.openReport().size(), String.valueOf(store.openReport()));
            assertEquals(List.of(".lock", ".tmp-something-else", "ckpt-000000000001", "ckpt-000000000002", "latest",
                    "notes.txt"), names(root));
            assertAllValid(root, store.list());
        }
    }

    @Test
    void halfDeletedCheckpointNeverValidates() throws Exception {
        Path dir;
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            store.commit(1, Map.of(), state(1));
            dir = store.commit(2, Map.of(), state(2)).dir();
        }
        for (String f : new String[] {"state.safetensors", "values.json", "manifest.crc", "manifest.json"}) {
            Path copy = tmp.resolve("copy-" + f);
            Files.createDirectories(copy);
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    if (!p.getFileName().toString().equals(f)) {
                        Files.copy(p, copy.resolve(p.getFileName()));
                    }
                }
            }
            assertFalse(CheckpointReader.verify(copy).ok(), "without " + f);
            assertThrows(CorruptCheckpointException.class, () -> CheckpointReader.load(copy));
        }
    }

    @Test
    void filesAreOwnerOnly() throws Exception {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path root = tmp.resolve("fresh");
        try (CheckpointStore store = CheckpointStore.open(root)) {
            Path dir = store.commit(1, Map.of(), state(1)).dir();
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            List<String> files = new ArrayList<>(names(dir));
            assertEquals(List.of("manifest.crc", "manifest.json", "state.safetensors", "values.json"), files);
            for (String f : files) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(f))), f);
            }
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("latest"))));
        }
    }
}
