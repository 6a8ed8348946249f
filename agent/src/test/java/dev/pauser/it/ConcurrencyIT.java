package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrencyIT {
    private static final int WORKERS = 4;

    @TempDir
    Path dir;

    @Test
    void nestedStepsOnFourThreadsPauseAndResume200TimesWithoutDeadlock() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", "100000000", "--delay-ms", "1", "--threads", "" + WORKERS, "--nested")
                .start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(child.jmx(),
                    ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
            Steps.awaitStepAfter(pauser, 0);
            for (int cycle = 0; cycle < 200; cycle++) {
                assertEquals("PAUSED", pauser.pauseAndWait(60_000), "cycle " + cycle);
                long step = pauser.getStep();
                // A thread between two steps when the pause took effect parks at its next entry: wait for that.
                Steps.await("all workers parked in a step hook, cycle " + cycle, 60_000,
                        () -> parkedWorkers(threads) == WORKERS);
                assertEquals(step, pauser.getStep(), "a step completed while PAUSED, cycle " + cycle);
                pauser.resume();
                Steps.awaitStepAfter(pauser, step);
            }
            assertEquals(WORKERS, pauser.getTrainerThreads());
            assertTrue(pauser.getStepsPerSecond() >= 0);
        }
    }

    /**
     * Workers waiting in a step hook. Each must be held at a boundary of its outermost step ({@code step}), never at one
     * of the nested {@code batch} calls inside it: that would be a pause in the middle of an outer step.
     */
    private static int parkedWorkers(ThreadMXBean threads) {
        int parked = 0;
        for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
            if (info.getThreadName().startsWith("worker-") && info.getThreadState() == Thread.State.WAITING) {
                StackTraceElement[] stack = info.getStackTrace();
                for (int i = 0; i < stack.length; i++) {
                    if (stack[i].getClassName().equals("dev.pauser.gate.StepHooks")) {
                        parked++;
                        String caller = i + 1 < stack.length ? stack[i + 1].getMethodName() : "";
                        assertEquals("step", caller, info.getThreadName() + " is held inside an outer step: "
                                + java.util.Arrays.toString(stack));
                        break;
                    }
                }
            }
        }
        return parked;
    }
}
