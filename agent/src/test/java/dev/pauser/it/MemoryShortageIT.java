package dev.pauser.it;

import static dev.pauser.it.Checkpoints.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.fixture.BigArrayTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory shortage in capture and at resume, with {@link BigArrayTrainer} (one large {@code float[]}) under small
 * {@code -Xmx} / {@code -XX:MaxDirectMemorySize} limits. A capture that runs out of direct memory fails that checkpoint
 * only: it is reported (log, JMX LastError, the failed notification), later checkpoints are still attempted, and stop and
 * exit are not held up. A resumed run needs no more direct memory to checkpoint than a fresh one (the loaded checkpoint's
 * buffers become the capture staging). A checkpoint too large to load is one line and exit status 2, or, where an older
 * one fits, a resume from that one with a line saying so.
 */
class MemoryShortageIT {
    private static final Duration EXIT = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    private static ChildJvm.Builder trainer(Path dir, String options, String xmx, String maxDirect, String... args) {
        ChildJvm.Builder b = dir == null ? ChildJvm.builder().noAgent()
                : ChildJvm.builder().agent("dir=" + dir + (options.isEmpty() ? "" : "," + options));
        b.jvmArg("-Xmx" + xmx);
        if (maxDirect != null) {
            b.jvmArg("-XX:MaxDirectMemorySize=" + maxDirect);
        }
        return b.main(BigArrayTrainer.class, args);
    }

    /** The result of an uninterrupted run without the agent. */
    private static String reference(String... args) throws Exception {
        try (ChildJvm child = trainer(null, "", "200m", null, args).start()) {
            return Checkpoints.finish(child, "reference run without the agent");
        }
    }

    /** Runs to the end with the agent; returns the output after asserting exit status 0. */
    private static String run(ChildJvm.Builder b, String context) throws Exception {
        try (ChildJvm child = b.start()) {
            int status = child.awaitExit(EXIT);
            String out = child.output();
            assertEquals(0, status, context + ": exit status; output:\n" + out);
            return out;
        }
    }

    @Test
    void resumedRunCheckpointsWithoutNeedingASecondCopyOfItsStateInDirectMemory() throws Exception {
        // 64 MiB of state, 100 MiB of direct memory: one copy (the staging, or the checkpoint loaded at resume) fits,
        // two don't. The resumed run must still write its checkpoints and exit.
        Path dir = tmp.resolve("ck");
        run(trainer(dir, "every=20", "200m", "100m", "64", "30", "5"), "first run");
        assertFalse(Checkpoints.list(dir).isEmpty(), "the first run checkpointed");
        long firstRunLast = Checkpoints.step(Checkpoints.list(dir).get(Checkpoints.list(dir).size() - 1));

        String out = run(trainer(dir, "every=20", "200m", "100m", "64", "80", "5"), "resumed run");
        assertEquals(firstRunLast, Checkpoints.resumedStep(out), out);
        assertFalse(out.contains("failed"), "no checkpoint failed:\n" + out);
        List<Path> now = Checkpoints.list(dir);
        assertTrue(Checkpoints.steps(dir).stream().filter(s -> s > firstRunLast).count() >= 2,
                "the resumed run wrote its periodic and final checkpoints: " + now + "\n" + out);
        assertTrue(CheckpointReader.verify(now.get(now.size() - 1)).ok());
        assertEquals(reference("64", "80", "5"), Checkpoints.result(out, "resumed run"),
                "the resumed run ends in the state of an uninterrupted one");
    }

    @Test
    void captureOutOfDirectMemoryIsReportedAndLeavesCheckpointsAndStopWorking() throws Exception {
        Path dir = tmp.resolve("ck");
        try (ChildJvm child = trainer(dir, "every=10", "200m", "32m", "64", "1000000", "20").start()) {
            child.awaitLine("^ready$", EXIT);
            PauserMXBean pauser = child.pauser();
            List<CompositeData> failed = new CopyOnWriteArrayList<>();
            child.jmx().addNotificationListener(new ObjectName(PauserMXBean.OBJECT_NAME), (n, handback) -> {
                if (n.getType().equals(PauserMXBean.CHECKPOINT_FAILED)) {
                    failed.add((CompositeData) n.getUserData());
                }
            }, null, null);
            Steps.await("LastError naming the direct memory limit; output:\n" + child.output(), 60_000,
                    () -> pauser.getLastError().contains("-XX:MaxDirectMemorySize="));
            String error = pauser.getLastError();
            assertContains(error, "out of direct buffer memory", "LastError");
            Steps.await("a " + PauserMXBean.CHECKPOINT_FAILED + " notification", 30_000, () -> !failed.isEmpty());
            // the notification's userData says what failed, for JMX clients that read fields rather than the message
            CompositeData data = failed.get(0);
            assertContains((String) data.get("error"), "out of direct buffer memory", "the notification's error");
            assertEquals("every 10 steps", data.get("reason"));
            assertTrue((Long) data.get("step") >= 10, data.toString());
            assertEquals("", data.get("path"));
            assertEquals(0L, data.get("bytes"));
            // still usable: a checkpoint asked for now is attempted and answered, not left waiting behind a stuck flag
            String answer = pauser.checkpointAndWait(60_000);
            assertTrue(answer.startsWith("checkpoint failed") && answer.contains("MaxDirectMemorySize"), answer);
            long step = pauser.getStep();
            Steps.awaitStepAfter(pauser, step + 5); // training goes on
            pauser.stop();
            int status = child.awaitExit(EXIT);
            String out = child.output();
            assertEquals(0, status, out);
            assertContains(out, "checkpoint (every 10 steps) failed: out of direct buffer memory", "the log");
            assertContains(out, "stopped at step", "the log");
            assertEquals(List.of(), Checkpoints.list(dir), "nothing was committed");
        }
    }

    @Test
    void captureOutOfDirectMemoryDoesNotKeepTheJvmFromExitingWhenMainReturns() throws Exception {
        Path dir = tmp.resolve("ck");
        String out = run(trainer(dir, "every=10", "200m", "32m", "64", "35", "5"), "run whose checkpoints all fail");
        assertContains(out, "checkpoint (every 10 steps) failed: out of direct buffer memory", "the log");
        assertContains(out, "checkpoint (exit) failed: out of direct buffer memory", "the log");
        assertContains(out, "trainer step=35", "the log");
        assertEquals(List.of(), Checkpoints.list(dir), "nothing was committed");
    }

    @Test
    void checkpointTooLargeToLoadIsOneLineAndExitStatus2() throws Exception {
        Path dir = tmp.resolve("ck");
        run(trainer(dir, "every=20", "200m", null, "64", "25", "5"), "first run");
        List<Long> before = Checkpoints.steps(dir);
        Path newest = Checkpoints.list(dir).get(before.size() - 1);
        try (ChildJvm child = trainer(dir, "every=20", "200m", "32m", "64", "50", "5").start()) {
            int status = child.awaitExit(EXIT);
            String out = child.output();
            assertEquals(2, status, out);
            assertFalse(out.contains("FATAL ERROR"), out);
            assertFalse(out.contains("OutOfMemoryError"), out);
            String line = out.lines().filter(l -> l.startsWith("pauser: cannot resume")).findFirst().orElse("");
            assertContains(line, newest.toString(), "the fatal line names the checkpoint");
            assertContains(line, "65 MiB of direct buffer memory", "the fatal line gives its size");
            assertContains(line, "raise -XX:MaxDirectMemorySize= (now 32 MiB)", "the fatal line says what to raise");
            assertFalse(out.contains("ready"), "training did not start:\n" + out);
        }
        try (ChildJvm child = trainer(dir, "resume=" + newest, "200m", "32m", "64", "50", "5").start()) {
            int status = child.awaitExit(EXIT);
            String out = child.output();
            assertEquals(2, status, out);
            String line = out.lines().filter(l -> l.startsWith("pauser: resume=")).findFirst().orElse("");
            assertContains(line, "cannot resume: " + newest + ": loading it needs 65 MiB", "resume=<path>");
            assertContains(line, "raise -XX:MaxDirectMemorySize= (now 32 MiB)", "resume=<path>");
        }
        assertEquals(before, Checkpoints.steps(dir), "every checkpoint is still in place");
    }

    @Test
    void anOlderCheckpointThatFitsIsResumedFromWhenTheNewestDoesNot() throws Exception {
        // Two timelines merged into one directory: an 8 MiB state checkpointed at step 31 and a 64 MiB one at step 61.
        Path small = tmp.resolve("small");
        Path big = tmp.resolve("big");
        run(trainer(small, "", "200m", null, "8", "30", "5"), "small run");
        run(trainer(big, "", "200m", null, "64", "60", "5"), "big run");
        Path dir = Files.createDirectory(tmp.resolve("ck"));
        Path older = copyNewest(small, dir);
        Path newer = copyNewest(big, dir);
        assertTrue(Checkpoints.step(newer) > Checkpoints.step(older));

        String out = run(trainer(dir, "", "200m", "32m", "8", "40", "5"), "resume with 32 MiB of direct memory");
        assertEquals(Checkpoints.step(older), Checkpoints.resumedStep(out), out);
        assertContains(out, "resuming from the older " + older, "the log says which and why");
        assertContains(out, newer + " is valid but too large", "the log says which and why");
        assertContains(out, "raise -XX:MaxDirectMemorySize=", "the log says what to raise");
        assertEquals(reference("8", "40", "5"), Checkpoints.result(out, "resumed run"));
        assertTrue(Files.walk(dir).anyMatch(p -> p.getFileName().equals(newer.getFileName()) && !p.equals(newer)),
                "the newer checkpoint was moved aside, not deleted");
    }

    private static Path copyNewest(Path from, Path to) throws IOException {
        List<Path> all = Checkpoints.list(from);
        Path src = all.get(all.size() - 1);
        Path dst = to.resolve(src.getFileName());
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Files.copy(p, dst.resolve(src.relativize(p).toString()));
            }
        }
        return dst;
    }
}
