package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a checkpoint root: trust checks, the lock and its pid, setting checkpoints aside. */
class StoreDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void theLockHoldsTheHoldersPidAndASecondOpenNamesIt() throws Exception {
        Path root = tmp.resolve("root");
        try (CheckpointStore store = CheckpointStore.open(root)) {
            long pid = ProcessHandle.current().pid();
            assertEquals(pid + "\n", Files.readString(root.resolve(CheckpointNames.LOCK)));
            CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointStore.open(root));
            assertEquals(root + " is in use: another checkpoint store in this JVM (pid " + pid + ") is writing "
                    + "checkpoints there (it holds .lock); give each run its own dir=", e.getMessage());
            // the failed open left the holder's pid alone
            assertEquals(pid + "\n", Files.readString(root.resolve(CheckpointNames.LOCK)));
        }
    }

    @Test
    void aRootOthersCanWriteIsRefusedBeforeTheLockIsCreated() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointStore.open(root));
        assertTrue(e.getMessage().contains("run chmod 700 " + root), e.getMessage());
        assertFalse(Files.exists(root.resolve(CheckpointNames.LOCK), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aLinkedLockIsRefusedAndItsTargetNotCreated() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Path target = tmp.resolve("elsewhere");
        Files.createSymbolicLink(root.resolve(CheckpointNames.LOCK), target);
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointStore.open(root));
        assertTrue(e.getMessage().contains("is a symbolic link"), e.getMessage());
        assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aFileAsRootGetsAdviceForAFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointStore.open(file));
        assertEquals(file + " is a file: dir= must name a directory; remove or rename " + file
                + ", or choose another dir=", e.getMessage());
    }

    @Test
    void setAsideMakesAFreshOwnerOnlyDirectoryAndNeverReusesAnExistingName() throws Exception {
        Clock fixed = Clock.fixed(Instant.parse("2026-11-29T12:00:00Z"), ZoneOffset.UTC);
        Path root = tmp.resolve("root");
        Path decoy = Files.createDirectory(tmp.resolve("decoy"));
        try (CheckpointStore store = CheckpointStore.open(root, CheckpointStore.Options.defaults().withClock(fixed))) {
            store.commit(10, Map.of(), Fixtures.everything());
            store.commit(20, Map.of(), Fixtures.everything());
            Files.createSymbolicLink(root.resolve("aside-20261129-120000"), decoy);
            Path aside = store.setAside(List.of(root.resolve(CheckpointNames.dirName(20))));
            assertEquals(root.resolve("aside-20261129-120000-2"), aside);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(aside)));
            assertTrue(Files.isDirectory(aside.resolve(CheckpointNames.dirName(20))));
            try (var s = Files.list(decoy)) {
                assertEquals(0, s.count(), "moved through the planted link");
            }
            Path again = store.setAside(List.of(root.resolve(CheckpointNames.dirName(10))));
            assertNotEquals(aside, again);
            assertThrows(CheckpointException.class, () -> store.setAside(List.of(decoy)));
        }
    }

    @Test
    void aCheckpointWithALinkOrAWritableFileIsNotTrusted() throws Exception {
        Path root = tmp.resolve("root");
        try (CheckpointStore store = CheckpointStore.open(root)) {
            store.commit(10, Map.of(), Fixtures.everything());
        }
        Path ckpt = root.resolve(CheckpointNames.dirName(10));
        assertNull(DirectoryTrust.checkpointProblem(ckpt));
        Path values = ckpt.resolve(CheckpointNames.VALUES);
        Files.setPosixFilePermissions(values, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertTrue(DirectoryTrust.checkpointProblem(ckpt).startsWith(values + " is writable by its group or other"),
                DirectoryTrust.checkpointProblem(ckpt));
        Path copy = tmp.resolve("copy.json");
        Files.move(values, copy);
        Files.createSymbolicLink(values, copy);
        assertTrue(DirectoryTrust.checkpointProblem(ckpt).startsWith(values + " is a symbolic link"),
                DirectoryTrust.checkpointProblem(ckpt));
        Path linkedCkpt = root.resolve(CheckpointNames.dirName(30));
        Files.createSymbolicLink(linkedCkpt, ckpt);
        assertTrue(DirectoryTrust.checkpointProblem(linkedCkpt).startsWith(linkedCkpt + " is a symbolic link"));
    }
}
