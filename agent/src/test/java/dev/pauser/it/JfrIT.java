package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JfrIT {
    @TempDir
    Path dir;

    @Test
    void pauseAndResumeAreJfrEventsWithStepAndTimePaused() throws Exception {
        Path recording = dir.resolve("run.jfr");
        long pausedStep;
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .jvmArg("-XX:StartFlightRecording=filename=" + recording + ",settings=default")
                .main(Trainer.class, "--steps", "100000", "--delay-ms", "5", "--log").start()) {
            child.awaitLine("done step=5", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            assertEquals("PAUSED", pauser.pauseAndWait(60_000));
            pausedStep = pauser.getStep();
            Thread.sleep(400);
            pauser.resume();
            Steps.awaitStepAfter(pauser, pausedStep);
            // stopped rather than left to end: a run short enough to end soon could end before the attach on a busy
            // machine; the stop exits with 0 and the recording is written at exit
            pauser.stop();
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(recording).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.pauser."))
                .collect(Collectors.toList());
        RecordedEvent pause = events.stream().filter(e -> e.getEventType().getName().equals("dev.pauser.Pause"))
                .findFirst().orElseThrow(() -> new AssertionError("no dev.pauser.Pause event in " + events));
        assertEquals(pausedStep, pause.getLong("step"));
        assertTrue(pause.getDuration().toMillis() >= 300, "pause duration " + pause.getDuration());
        RecordedEvent resume = events.stream().filter(e -> e.getEventType().getName().equals("dev.pauser.Resume"))
                .findFirst().orElseThrow(() -> new AssertionError("no dev.pauser.Resume event in " + events));
        assertEquals(pausedStep, resume.getLong("step"));
        assertTrue(resume.getDuration("pausedMillis").toMillis() >= 300, resume.toString());
    }
}
