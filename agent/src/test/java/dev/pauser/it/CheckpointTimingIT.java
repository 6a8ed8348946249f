package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.BigArrayTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a checkpoint's figures say, read back the way a user reads them: the JFR events {@code dev.pauser.Checkpoint}
 * and {@code dev.pauser.Restore} recorded in the child ({@code -XX:StartFlightRecording}) span the work they report,
 * and {@code LastCheckpointStallMillis}/{@code LastCheckpointStallMicros} are how long the steps were held for it: the
 * copy, plus the write only where training waits for it ({@code async=false}), not the write of a pause checkpoint.
 */
class CheckpointTimingIT {
    /** JFR's clock (ticks) and System.nanoTime are converted separately: allow them this much apart. */
    private static final long CLOCKS_APART_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    @TempDir
    Path tmp;

    private static ChildJvm.Builder trainer(Path dir, Path recording, String options) {
        return ChildJvm.builder().agent("dir=" + dir + ",log=debug" + (options.isEmpty() ? "" : "," + options))
                .jvmArg("-Xmx400m")
                .jvmArg("-XX:StartFlightRecording=filename=" + recording + ",settings=default")
                .main(BigArrayTrainer.class, "32", "100000000", "2");
    }

    private static List<RecordedEvent> events(Path recording, String name) throws Exception {
        return RecordingFile.readAllEvents(recording).stream().filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }

    /**
     * Waits until the first checkpoint is prepared: a checkpoint captured before the event classes are loaded records
     * its event when it is written, not from its start.
     */
    private static void awaitPrepared(ChildJvm child) throws InterruptedException {
        child.awaitLine("prepared the first checkpoint of " + java.util.regex.Pattern.quote(
                BigArrayTrainer.class.getName()), Duration.ofSeconds(60));
    }

    /** Stops the child (the recording is written at exit) and waits for exit status 0. */
    private static void stop(ChildJvm child, PauserMXBean pauser) throws Exception {
        pauser.stop();
        assertEquals(0, child.awaitExit(Duration.ofSeconds(120)), child.output());
    }

    @Test
    void checkpointAndRestoreEventsSpanTheirWork() throws Exception {
        Path dir = tmp.resolve("ck");
        Path first = tmp.resolve("first.jfr");
        try (ChildJvm child = trainer(dir, first, "").start()) {
            awaitPrepared(child);
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 2);
            String result = pauser.checkpointAndWait(120_000);
            assertFalse(result.startsWith("checkpoint failed"), result);
            stop(child, pauser);
        }
        List<RecordedEvent> checkpoints = events(first, "dev.pauser.Checkpoint");
        assertFalse(checkpoints.isEmpty(), "no dev.pauser.Checkpoint event");
        for (RecordedEvent e : checkpoints) {
            assertEquals("", e.getString("error"), e.toString());
            long work = e.getLong("captureNanos") + e.getLong("writeNanos");
            assertTrue(e.getLong("writeNanos") > 0, e.toString());
            assertTrue(e.getDuration().toNanos() > 0, "a checkpoint event of no duration: " + e);
            assertTrue(e.getDuration().toNanos() + CLOCKS_APART_NANOS >= work,
                    "the event (" + e.getDuration() + ") must span capture and write (" + work + " ns): " + e);
        }

        Path second = tmp.resolve("second.jfr");
        try (ChildJvm child = trainer(dir, second, "").start()) {
            child.awaitLine("ready", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, pauser.getStep());
            stop(child, pauser);
        }
        List<RecordedEvent> restores = events(second, "dev.pauser.Restore");
        assertEquals(1, restores.size(), restores.toString());
        RecordedEvent restore = restores.get(0);
        assertEquals(32L << 20, restore.getLong("bytes"), restore.toString());
        assertTrue(restore.getDuration().toNanos() > 0, "a restore event of no duration: " + restore);
    }

    @Test
    void aPauseCheckpointHoldsTheStepsForItsCopyOnly() throws Exception {
        Path recording = tmp.resolve("pause.jfr");
        long stallMillis;
        long stallMicros;
        try (ChildJvm child = trainer(tmp.resolve("ck"), recording, "").start()) {
            awaitPrepared(child);
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 2);
            assertEquals("PAUSED", pauser.pauseAndWait(120_000));
            stallMillis = pauser.getLastCheckpointStallMillis();
            stallMicros = pauser.getLastCheckpointStallMicros();
            pauser.resume();
            stop(child, pauser);
        }
        RecordedEvent pause = events(recording, "dev.pauser.Checkpoint").stream()
                .filter(e -> "pause".equals(e.getString("reason"))).findFirst()
                .orElseThrow(() -> new AssertionError("no pause checkpoint event"));
        long copy = pause.getLong("captureNanos");
        assertTrue(pause.getLong("writeNanos") > 0, pause.toString());
        assertEquals(TimeUnit.NANOSECONDS.toMillis(copy), stallMillis, "the stall is the copy, not the write: " + pause);
        assertEquals(TimeUnit.NANOSECONDS.toMicros(copy), stallMicros, pause.toString());
    }

    @Test
    void withAsyncFalseTheStallIncludesTheWrite() throws Exception {
        Path recording = tmp.resolve("sync.jfr");
        long stallMicros;
        try (ChildJvm child = trainer(tmp.resolve("ck"), recording, "async=false").start()) {
            awaitPrepared(child);
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 2);
            String result = pauser.checkpointAndWait(120_000);
            assertFalse(result.startsWith("checkpoint failed"), result);
            stallMicros = pauser.getLastCheckpointStallMicros();
            stop(child, pauser);
        }
        RecordedEvent e = events(recording, "dev.pauser.Checkpoint").stream()
                .filter(c -> !"stop".equals(c.getString("reason"))).findFirst()
                .orElseThrow(() -> new AssertionError("no checkpoint event"));
        assertEquals(TimeUnit.NANOSECONDS.toMicros(e.getLong("captureNanos") + e.getLong("writeNanos")), stallMicros,
                e.toString());
    }
}
