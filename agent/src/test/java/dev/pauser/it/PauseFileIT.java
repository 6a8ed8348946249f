package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PauseFileIT {
    @TempDir
    Path dir;

    @Test
    void thePauseFilePausesAndDeletingItResumes() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", "100000", "--delay-ms", "10", "--log").start()) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            assertEquals(dir.resolve("PAUSE").toString(), pauser.getPauseFile());
            Files.createFile(dir.resolve("PAUSE"));
            Steps.await("PAUSED", 60_000, () -> pauser.isPaused());
            Steps.assertStepHeld(pauser, 600);

            Files.delete(dir.resolve("PAUSE"));
            Steps.awaitStepAfter(pauser, pauser.getStep());
            assertEquals("RUNNING", pauser.getState());
        }
    }

    @Test
    void aPauseFilePresentAtStartHoldsTheFirstStep() throws Exception {
        Files.createFile(dir.resolve("PAUSE"));
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", "20", "--delay-ms", "1", "--log").start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.await("PAUSED", 60_000, () -> pauser.isPaused());
            Thread.sleep(500);
            assertEquals(0, pauser.getStep());
            assertFalse(child.output().contains("end step=1"), child.output());
            Files.delete(dir.resolve("PAUSE"));
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
            child.awaitLine("^result=", Duration.ofSeconds(5));
        }
    }
}
