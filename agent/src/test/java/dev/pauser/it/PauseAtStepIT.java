package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PauseAtStepIT {
    @TempDir
    Path dir;

    @Test
    void pauseAtStepHoldsAtExactlyThatStepAndCanBeSetOverJmx() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",pauseAtStep=7")
                .main(Trainer.class, "--steps", "200", "--delay-ms", "5", "--log").start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.await("PAUSED", 60_000, () -> pauser.isPaused());
            assertEquals(7, pauser.getStep());
            Steps.assertStepHeld(pauser, 500);
            assertEquals(-1, pauser.getPauseAtStep(), "pauseAtStep is one-shot");
            child.awaitLine("^end step=7$", Duration.ofSeconds(60)); // the output is read on a thread of its own
            assertEquals("end step=7", lastLine(child.output(), "end step="));

            pauser.setPauseAtStep(20);
            assertEquals(20, pauser.getPauseAtStep());
            pauser.resume();
            Steps.await("the pause at step 20", 60_000, () -> pauser.isPaused() && pauser.getStep() == 20);
            Steps.assertStepHeld(pauser, 300);
            pauser.resume();
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
        }
    }

    private static String lastLine(String out, String prefix) {
        String last = null;
        for (String l : out.split("\n")) {
            if (l.startsWith(prefix)) {
                last = l;
            }
        }
        return last;
    }
}
