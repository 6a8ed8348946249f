package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.TinyStateTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU surface of a run without GPU fields, as a user meets it: the option {@code releaseGpuOnPause} is accepted and
 * pause/resume cycles (where the resume hook runs before any step) behave as without it; the device attributes read
 * {@code none}/0/empty over JMX; the checkpoint event carries the device fields. The device paths themselves are tested
 * in-process against a host-memory device ({@code DeviceStateTest}, {@code GpuReleaseOnPauseTest}) and on a GPU by the
 * JCuda tests.
 */
class GpuStateIT {
    private static final String[] ENDLESS = {"100000", "5"};

    @TempDir
    Path dir;

    @Test
    void releaseGpuOnPauseWithoutGpuFieldsPausesAndResumesAndReportsNoDeviceState() throws Exception {
        Path recording = dir.resolve("run.jfr");
        Path ckpts = dir.resolve("ckpt");
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + ckpts + ",releaseGpuOnPause=true")
                .jvmArg("-XX:StartFlightRecording=filename=" + recording + ",settings=default")
                .main(TinyStateTrainer.class, ENDLESS).start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            for (int cycle = 0; cycle < 3; cycle++) {
                Steps.awaitStepAfter(pauser, pauser.getStep());
                assertEquals("PAUSED", pauser.pauseAndWait(60_000), "cycle " + cycle);
                long paused = pauser.getStep();
                assertEquals(paused, pauser.getLastCheckpointStep(), "the pause checkpoint, cycle " + cycle);
                assertEquals(0, pauser.getDeviceBytesReleased());
                assertEquals("", pauser.getDeviceReleaseError());
                pauser.resume();
                Steps.await("RUNNING again, cycle " + cycle, 60_000, () -> "RUNNING".equals(pauser.getState()));
                Steps.awaitStepAfter(pauser, paused);
            }
            assertEquals("none", pauser.getDeviceStaging());
            assertEquals(0, pauser.getDeviceStateBytes());
            assertEquals(0, pauser.getLastDeviceCopyMillis());
            pauser.stop();
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
        }
        List<RecordedEvent> checkpoints = RecordingFile.readAllEvents(recording).stream()
                .filter(e -> e.getEventType().getName().equals("dev.pauser.Checkpoint")).collect(Collectors.toList());
        assertTrue(checkpoints.size() >= 3, checkpoints.toString());
        for (RecordedEvent e : checkpoints) {
            assertEquals("none", e.getString("deviceStaging"), e.toString());
            assertEquals(0, e.getLong("deviceBytes"), e.toString());
        }
    }
}
