package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.FreshLoaderMain;
import dev.pauser.fixture.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent never changes what the app computes; a step that throws leaves the gate usable. */
class ResultsIT {
    /** Ten seconds at the least: still running after the attach and three pauses on a busy machine. */
    private static final String[] RUN = {"--steps", "2000", "--delay-ms", "5", "--threads", "3", "--nested",
        "--throw-every", "4", "--log"};

    @TempDir
    Path dir;

    @Test
    void withAndWithoutTheAgentTheResultIsTheSameAndThrowingStepsKeepTheGateUsable() throws Exception {
        String withoutAgent;
        try (ChildJvm child = ChildJvm.builder().noAgent().main(Trainer.class, RUN).start()) {
            assertEquals(0, child.awaitExit(Duration.ofSeconds(120)));
            withoutAgent = child.awaitLine("^result=.*", Duration.ofSeconds(5)).group();
        }
        assertTrue(withoutAgent.endsWith(" thrown=1500"), withoutAgent); // 3 threads x 2000 steps / 4

        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir).main(Trainer.class, RUN).start()) {
            child.awaitLine("done step=10", Duration.ofSeconds(60)); // steps 4 and 8 have thrown by now
            PauserMXBean pauser = child.pauser();
            for (int i = 0; i < 3; i++) {
                assertEquals("PAUSED", pauser.pauseAndWait(60_000));
                Steps.assertStepHeld(pauser, 100);
                pauser.resume();
                Steps.awaitStepAfter(pauser, pauser.getStep());
            }
            assertEquals(0, child.awaitExit(Duration.ofSeconds(120)));
            assertEquals(withoutAgent, child.awaitLine("^result=.*", Duration.ofSeconds(5)).group());
        }
    }

    @Test
    void aTrainerDefinedByAFreshClassLoaderWithTheBootstrapParentIsInstrumented() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(FreshLoaderMain.class, ChildJvm.fixtureClassPath(), "100000", "10").start()) {
            child.awaitLine("trainer-loader=java.net.URLClassLoader", Duration.ofSeconds(60));
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            assertEquals("PAUSED", pauser.pauseAndWait(60_000));
            assertTrue(pauser.getStep() >= 3, "steps of the fresh loader's trainer are not counted");
            Steps.assertStepHeld(pauser, 300);
            JmxPauseIT.assertParkedInGate(child.jmx(), "worker-0");
            pauser.resume();
            Steps.awaitStepAfter(pauser, pauser.getStep());
        }
    }
}
