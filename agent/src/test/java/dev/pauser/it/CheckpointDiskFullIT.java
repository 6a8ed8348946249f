package dev.pauser.it;

import static dev.pauser.it.Checkpoints.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.store.CheckpointReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On a real small filesystem (a tmpfs mounted for the test; skipped where mounting is not
 * allowed): once checkpoints exist the disk is filled up, by bytes (the free-space check refuses the commit) or by inodes
 * (free space looks fine, the commit's own file creation fails with ENOSPC). Training goes on to the same result, the error
 * shows in JMX LastError and the log, and every checkpoint that existed is still there and verifies.
 */
class CheckpointDiskFullIT {
    /** Long enough (10 s at the least) to be still running after the attach, the fill and the failed checkpoints. */
    private static final String[] ARGS = {"--steps", "1000", "--delay-ms", "10"};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"bytes", "inodes"})
    void fullDiskLeavesTrainingRunningShowsTheErrorAndKeepsEveryOldCheckpoint(String fill) throws Exception {
        String h = Checkpoints.reference(ARGS);
        Path mnt = Files.createDirectory(tmp.resolve("small-fs"));
        mount(mnt, fill.equals("bytes") ? "size=24m" : "size=64m,nr_inodes=64");
        try {
            Path dir = mnt.resolve("checkpoints");
            try (ChildJvm child = Checkpoints.start(dir, "every=10,keep=50", ARGS)) {
                Checkpoints.awaitCheckpoints(dir, 2, child);
                List<Long> beforeFill = Checkpoints.steps(dir);
                PauserMXBean pauser = child.pauser();
                List<String> failed = new CopyOnWriteArrayList<>();
                child.jmx().addNotificationListener(new ObjectName(PauserMXBean.OBJECT_NAME), (n, handback) -> {
                    if (n.getType().equals(PauserMXBean.CHECKPOINT_FAILED)) {
                        failed.add(n.getMessage());
                    }
                }, null, null);
                fillUp(mnt.resolve("filler"), fill);
                // bytes: the free-space check refuses the commit (a commit in flight while filling may meet ENOSPC
                // first); inodes: the commit's file creation itself fails
                String expected = fill.equals("bytes") ? "not enough free space" : "No space left on device";
                Steps.await("LastError with '" + expected + "' after the disk filled up", 60_000,
                        () -> pauser.getLastError().contains(expected));
                String error = pauser.getLastError();
                Steps.await("a " + PauserMXBean.CHECKPOINT_FAILED + " notification", 60_000, () -> !failed.isEmpty());
                List<Long> kept = Checkpoints.steps(dir);
                assertTrue(kept.containsAll(beforeFill), "before " + beforeFill + ", now " + kept);
                long step = pauser.getStep();
                Steps.awaitStepAfter(pauser, step + 20); // training goes on
                assertFalse(pauser.getLastError().isEmpty(), "still failing: the disk is still full");
                assertEquals(h, Checkpoints.finish(child, "run on a full disk"));
                String out = child.output();
                assertContains(out, "failed: " + error.substring(0, Math.min(60, error.length())), "the log");
                assertContains(out, "training goes on, earlier checkpoints are kept", "the log");
                assertEquals(kept, Checkpoints.steps(dir), "no checkpoint was removed or added on the full disk:\n" + out);
                assertEquals(List.of(), Checkpoints.tmpDirs(dir), "no partial checkpoint left");
                for (Path p : Checkpoints.list(dir)) {
                    assertTrue(CheckpointReader.verify(p).ok(), CheckpointReader.verify(p).render());
                }
            }
        } finally {
            run("umount", "-l", mnt.toString());
        }
    }

    private static void mount(Path at, String options) throws Exception {
        String out = run("mount", "-t", "tmpfs", "-o", options + ",mode=0700", "tmpfs", at.toString());
        Assumptions.assumeTrue(out == null, "cannot mount a small tmpfs here (needs root): " + out);
    }

    /** Fills the filesystem: one big file until ENOSPC, or empty files until the inodes run out. */
    private static void fillUp(Path filler, String how) throws IOException {
        if (how.equals("bytes")) {
            byte[] chunk = new byte[64 << 10];
            try (OutputStream out = Files.newOutputStream(filler)) {
                while (true) {
                    out.write(chunk);
                }
            } catch (IOException full) {
                // ENOSPC: done
            }
        } else {
            try {
                // the run's own checkpoints may have used up the inodes already, this directory's included
                Files.createDirectory(filler);
                for (int i = 0; i < 100_000; i++) {
                    Files.createFile(filler.resolve("f" + i));
                }
            } catch (IOException full) {
                // ENOSPC: out of inodes
            }
        }
    }

    /** Runs a command; null when it succeeded, else its output. */
    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    }
}
