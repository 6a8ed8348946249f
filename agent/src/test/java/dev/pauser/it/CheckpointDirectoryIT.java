package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.fixture.StateTrainer;
import dev.pauser.fixture.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint directory as a shared place: a second process pointed at a live run's directory, a directory another
 * user owns or can write, planted links and checkpoints, {@code dir=} empty or naming a file. Each case is driven as a
 * user would: {@code java -javaagent:pauser.jar=...}, {@code pauser attach}, {@code kill -9}, {@code chmod}/{@code chown}.
 */
class CheckpointDirectoryIT {
    /** Long enough to outlive every other process the test starts against it; killed when done. */
    private static final String[] FOREVER = {"--steps", "1000000", "--delay-ms", "10"};
    private static final String[] SHORT = {"--steps", "60", "--delay-ms", "1"};
    /** The uid/gid of "nobody": another user. The tests run as root, which may give files away. */
    private static final String NOBODY = "65534:65534";

    @TempDir
    Path tmp;

    @Test
    void aSecondJvmOnALiveRunsDirectoryTouchesNothingAndNamesTheHolder() throws Exception {
        Path dir = tmp.resolve("run");
        long newest;
        // keep=1000: the live run deletes nothing itself, so every checkpoint it had must still be there afterwards
        try (ChildJvm a = Checkpoints.start(dir, "every=20,keep=1000", FOREVER)) {
            Checkpoints.awaitCheckpoints(dir, 2, a);
            Set<String> before = committed(dir);
            newest = Checkpoints.step(last(dir));
            for (String resume : List.of("never", "auto")) {
                try (ChildJvm b = Checkpoints.start(dir, "every=20,resume=" + resume, SHORT)) {
                    assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
                    String line = onlyPauserLine(b.output());
                    assertEquals("pauser: " + dir + " is in use: another JVM (pid " + a.pid()
                            + ") is writing checkpoints there (it holds .lock); give each run its own dir=", line);
                    assertFalse(b.output().contains("ready"), "main ran:\n" + b.output());
                }
                Set<String> after = names(dir);
                assertTrue(after.containsAll(before), "resume=" + resume + ": the second JVM removed "
                        + diff(before, after) + " from the live run's directory; now: " + after);
                assertTrue(after.stream().noneMatch(n -> n.startsWith("aside-")), after.toString());
            }
            assertTrue(a.process().isAlive(), a.output());
            a.process().destroyForcibly(); // kill -9: the next start must find the run's checkpoints
            a.process().waitFor();
        }
        try (ChildJvm again = Checkpoints.start(dir, "every=20,keep=1000", FOREVER)) {
            again.awaitLine("^first step sees step=\\d+$", Duration.ofSeconds(60));
            assertTrue(Checkpoints.firstStepSees(again.output()) >= newest,
                    "restarted from " + Checkpoints.firstStepSees(again.output()) + ", not from its checkpoints (step "
                            + newest + " or later):\n" + again.output());
            again.process().destroyForcibly();
        }
    }

    @Test
    void attachingWhereALiveRunWritesFailsWithOneLineAndTheProgramGoesOn() throws Exception {
        Path dir = tmp.resolve("run");
        try (ChildJvm a = Checkpoints.start(dir, "every=20,keep=1000", FOREVER);
                ChildJvm plain = ChildJvm.builder().noAgent().main(Trainer.class, "--steps", "100000", "--delay-ms", "10")
                        .start()) {
            Checkpoints.awaitCheckpoints(dir, 2, a);
            plain.awaitLine("^ready$", Duration.ofSeconds(60));
            Set<String> before = committed(dir);
            CliIT.Result r = CliIT.pauser("attach", Long.toString(plain.pid()), "dir=" + dir);
            assertEquals(1, r.exit(), r.toString());
            String line = r.oneErrorLine();
            assertTrue(line.startsWith("pauser: the Pauser agent did not start in JVM " + plain.pid() + ": " + dir
                    + " is in use: another JVM (pid " + a.pid() + ")"), line);
            assertTrue(line.contains("give each run its own dir="), line);
            Set<String> after = names(dir);
            assertTrue(after.containsAll(before), "the attach removed " + diff(before, after) + "; now " + after);
            assertTrue(after.stream().noneMatch(n -> n.startsWith("aside-")), after.toString());
            Thread.sleep(500);
            assertTrue(plain.process().isAlive(), "the program died:\n" + plain.output());
            assertTrue(a.process().isAlive(), a.output());
            plain.process().destroyForcibly();
            a.process().destroyForcibly();
        }
    }

    @Test
    void aDirectoryOthersCanWriteIsRefusedUntouched() throws Exception {
        Path dir = tmp.resolve("run");
        Checkpoints.finish(Checkpoints.start(dir, "every=20", SHORT), "first run");
        for (String mode : List.of("rwxrwxrwx", "rwxrwx---")) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            Set<String> before = names(dir);
            try (ChildJvm b = Checkpoints.start(dir, "every=20", SHORT)) {
                assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
                String line = onlyPauserLine(b.output());
                assertEquals("pauser: " + dir + ": the checkpoint directory is writable by its group or other users ("
                        + mode + "), who could plant a checkpoint that this run would resume from: run chmod 700 "
                        + dir + " or choose another dir=", line);
                assertFalse(b.output().contains("resuming from"), b.output());
            }
            assertEquals(before, names(dir));
        }
    }

    @Test
    void aDirectoryAnotherUserOwnsIsRefusedAndNothingIsCreatedInIt() throws Exception {
        assumeRoot();
        Path dir = Files.createDirectory(tmp.resolve("theirs"));
        chown(dir);
        try (ChildJvm b = Checkpoints.start(dir, "every=20", SHORT)) {
            assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
            String line = onlyPauserLine(b.output());
            assertTrue(line.startsWith("pauser: " + dir + ": the checkpoint directory is owned by nobody, not by root"),
                    line);
            assertTrue(line.endsWith("choose another dir= (or, if that user is you, chown it)"), line);
        }
        assertEquals(Set.of(), names(dir));
    }

    @Test
    void aPlantedCheckpointOfAnotherUserIsNotResumedFromAndIsSetAside() throws Exception {
        assumeRoot();
        Path dir = tmp.resolve("run");
        String h = Checkpoints.reference(SHORT);
        assertEquals(h, Checkpoints.finish(Checkpoints.start(dir, "every=20", SHORT), "first run"));
        long own = Checkpoints.step(last(dir));
        // Another user's run, further along, its newest checkpoint planted into this run's directory.
        Path elsewhere = tmp.resolve("elsewhere");
        Checkpoints.finish(Checkpoints.start(elsewhere, "every=20", "--steps", "90", "--delay-ms", "1"), "other run");
        Path source = last(elsewhere);
        Path planted = dir.resolve(source.getFileName());
        assertTrue(Checkpoints.step(planted) > own);
        Files.move(source, planted);
        chown(planted);
        try (ChildJvm b = Checkpoints.start(dir, "every=20", SHORT)) {
            assertEquals(h, Checkpoints.finish(b, "run with a planted checkpoint"));
            String out = b.output();
            assertTrue(out.contains("NOT resuming from " + planted + ": " + planted
                    + " is owned by nobody, not by root"), out);
            Checkpoints.assertResumedAt(own, 60, out);
            // it was newer than the resume point: moved aside (0700), no longer in the way
            Path aside = onlyAside(dir);
            assertTrue(Files.isDirectory(aside.resolve(planted.getFileName())), out);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(aside)));
        }
    }

    @Test
    void aCheckpointWithALinkInsideIsNotResumedFrom() throws Exception {
        Path dir = tmp.resolve("run");
        String h = Checkpoints.reference(SHORT);
        Checkpoints.finish(Checkpoints.start(dir, "every=20", SHORT), "first run");
        long own = Checkpoints.step(last(dir));
        Path elsewhere = tmp.resolve("elsewhere");
        Checkpoints.finish(Checkpoints.start(elsewhere, "every=20", "--steps", "90", "--delay-ms", "1"), "other run");
        Path source = last(elsewhere);
        Path planted = Files.createDirectory(dir.resolve(source.getFileName()));
        try (Stream<Path> files = Files.list(source)) {
            for (Path f : files.toList()) {
                Files.createSymbolicLink(planted.resolve(f.getFileName()), f);
            }
        }
        try (ChildJvm b = Checkpoints.start(dir, "every=20", SHORT)) {
            assertEquals(h, Checkpoints.finish(b, "run with a checkpoint made of links"));
            assertTrue(b.output().contains("NOT resuming from " + planted + ": "), b.output());
            Checkpoints.assertResumedAt(own, 60, b.output());
        }
    }

    @Test
    void aSymlinkedLockIsRefusedAndItsTargetIsNotCreated() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("run"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path target = tmp.resolve("victim");
        Files.createSymbolicLink(dir.resolve(".lock"), target);
        try (ChildJvm b = Checkpoints.start(dir, "every=20", SHORT)) {
            assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
            assertEquals("pauser: " + dir.resolve(".lock") + " is a symbolic link, not a lock file this agent made; "
                    + "remove it (the agent never follows links in its directory)", onlyPauserLine(b.output()));
        }
        assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS), "the link's target was created");
        assertEquals(Set.of(".lock"), names(dir));
    }

    @Test
    void resumeFromAPathOutsideDirChecksWhoCouldHaveWrittenIt() throws Exception {
        Path elsewhere = tmp.resolve("elsewhere");
        Checkpoints.finish(Checkpoints.start(elsewhere, "every=20", SHORT), "other run");
        Path ckpt = last(elsewhere);
        Path dir = tmp.resolve("run");
        // a parent directory others can write: they could swap the checkpoint
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (ChildJvm b = Checkpoints.start(dir, "every=20,resume=" + ckpt, SHORT)) {
            assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
            assertEquals("pauser: resume=" + ckpt + ": " + elsewhere + " is writable by its group or other users "
                    + "(rwxrwxrwx), who could swap the checkpoint in it: run chmod go-w " + elsewhere
                    + " or copy the checkpoint into a directory only you can write", onlyPauserLine(b.output()));
        }
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwx------"));
        if (isRoot()) {
            chown(ckpt);
            try (ChildJvm b = Checkpoints.start(dir, "every=20,resume=" + ckpt, SHORT)) {
                assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
                String line = onlyPauserLine(b.output());
                assertTrue(line.startsWith("pauser: resume=" + ckpt + ": " + ckpt + " is owned by nobody, not by root"),
                        line);
                assertFalse(b.output().contains("resuming from"), b.output());
            }
        }
    }

    @Test
    void anEmptyDirIsRefusedAndNothingLandsInTheWorkingDirectory() throws Exception {
        Path work = Files.createDirectory(tmp.resolve("work"));
        try (ChildJvm b = ChildJvm.builder().agent("dir=,every=20").workDir(work).main(StateTrainer.class, SHORT)
                .start()) {
            assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
            assertEquals("pauser: bad value '' for option dir (agent argument): expected a directory path (not empty)",
                    onlyPauserLine(b.output()));
        }
        assertEquals(Set.of(), names(work));
    }

    @Test
    void aDirThatIsAFileGetsAdviceForThatCause() throws Exception {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "mine\n");
        try (ChildJvm b = Checkpoints.start(file, "every=20", SHORT)) {
            assertEquals(2, b.awaitExit(Duration.ofSeconds(60)), b.output());
            assertEquals("pauser: " + file + " is a file: dir= must name a directory; remove or rename " + file
                    + ", or choose another dir=", onlyPauserLine(b.output()));
        }
        assertEquals("mine\n", Files.readString(file));
    }

    // -----------------------------------------------------------------------------------------------------------------

    /**
     * The one line the agent printed, besides its start line where the directory was usable and the checkpoint to
     * resume from was refused; the JVM's own CDS notice is the only other output allowed.
     */
    private static String onlyPauserLine(String out) {
        List<String> ours = out.lines().filter(l -> l.contains("pauser") && !l.startsWith("pauser: agent "))
                .collect(Collectors.toList());
        assertEquals(1, ours.size(), "not one line from the agent:\n" + out);
        assertTrue(out.lines().allMatch(l -> l.contains("pauser") || l.contains("Sharing is only supported")), out);
        return ours.get(0);
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /**
     * What a live run has committed in {@code dir}: its names less those of a commit in progress ({@code .tmp-*},
     * {@code latest.tmp}), which the live run itself renames away at any moment.
     */
    private static Set<String> committed(Path dir) throws IOException {
        Set<String> all = names(dir);
        all.removeIf(n -> n.startsWith(".tmp-") || n.equals("latest.tmp"));
        return all;
    }

    private static Set<String> diff(Set<String> before, Set<String> after) {
        Set<String> gone = new TreeSet<>(before);
        gone.removeAll(after);
        return gone;
    }

    private static Path last(Path dir) throws IOException {
        List<Path> all = Checkpoints.list(dir);
        assertFalse(all.isEmpty(), "no checkpoint in " + dir);
        return all.get(all.size() - 1);
    }

    private static Path onlyAside(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> asides = s.filter(p -> p.getFileName().toString().startsWith("aside-"))
                    .collect(Collectors.toCollection(ArrayList::new));
            assertEquals(1, asides.size(), asides.toString());
            return asides.get(0);
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void assumeRoot() {
        Assumptions.assumeTrue(isRoot(), "giving a file to another user needs root");
    }

    /** Gives {@code p} and everything under it to "nobody", as {@code chown -R} does. */
    private static void chown(Path p) throws Exception {
        Process c = new ProcessBuilder("chown", "-R", NOBODY, p.toString()).inheritIO().start();
        if (c.waitFor() != 0) {
            fail("chown -R " + NOBODY + " " + p + " failed");
        }
    }
}
