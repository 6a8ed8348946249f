package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.jmx.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import javax.management.MBeanServerConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JmxPauseIT {
    @TempDir
    Path dir;

    @Test
    void pauseOverJmxHoldsEveryStepThreadAtABoundaryAndResumeContinues() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir).main(Trainer.class, "--steps", "400", "--delay-ms", "5", "--log")
                .start()) {
            child.awaitLine("done step=5", Duration.ofSeconds(30));
            PauserMXBean pauser = child.pauser();
            assertEquals("PAUSED", pauser.pauseAndWait(10_000));
            assertTrue(pauser.isPaused());
            assertTrue(pauser.getPausedSinceMillis() > 0);
            long step = pauser.getStep();
            Thread.sleep(300);
            assertEquals(step, pauser.getStep(), "Step moved while paused");
            assertEquals(1, pauser.getTrainerThreads());
            assertParkedInGate(child.jmx(), "worker-0");

            pauser.resume();
            long deadline = System.currentTimeMillis() + 10_000;
            while (pauser.getStep() <= step && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(pauser.getStep() > step, "no step after resume");
            assertEquals("RUNNING", pauser.getState());
            assertEquals(-1, pauser.getPausedSinceMillis());
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
        }
    }

    /** The thread is parked (WAITING, not spinning) inside the gate, called from a step hook. */
    static void assertParkedInGate(MBeanServerConnection jmx, String threadName) throws Exception {
        ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(jmx, ManagementFactory.THREAD_MXBEAN_NAME,
                ThreadMXBean.class);
        for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
            if (info.getThreadName().equals(threadName)) {
                assertEquals(Thread.State.WAITING, info.getThreadState(), threadName + " is not parked");
                boolean inGate = false;
                for (StackTraceElement e : info.getStackTrace()) {
                    if (e.getClassName().equals("dev.pauser.boot.StepHooks")) {
                        inGate = true;
                    }
                }
                assertTrue(inGate, threadName + " is not waiting in a step hook: " + java.util.Arrays.toString(info.getStackTrace()));
                return;
            }
        }
        throw new AssertionError("no thread " + threadName);
    }
}
