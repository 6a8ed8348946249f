package dev.pauser.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hold a worker of a job takes while its peers agree on a pause step: it lands no later than the step
 * {@link Gate#holdAtNextStep} promised, holds every step without a state change, and a pause at a later step armed
 * before the hold is lifted lands exactly there.
 */
class GateHoldTest {
    private static final AtomicBoolean done = new AtomicBoolean();
    private static Thread trainer;

    @BeforeAll
    static void startTrainer() {
        Gate.start();
        trainer = new Thread(() -> {
            while (!done.get()) {
                Object entered = StepHooks.enterStep(GateHoldTest.class, null);
                try {
                    for (int i = 0; i < 200; i++) {
                        Thread.onSpinWait();
                    }
                } finally {
                    StepHooks.exitStep(entered);
                }
            }
        }, "gate-hold-test");
        trainer.setDaemon(true);
        trainer.start();
    }

    @AfterAll
    static void stopTrainer() throws InterruptedException {
        done.set(true);
        Gate.releaseHold();
        Gate.resume();
        trainer.join(5000);
    }

    @Test
    void aHoldLandsNoLaterThanPromisedAndAPauseArmedBeforeItsReleaseLandsExactly() throws Exception {
        List<String> changes = new CopyOnWriteArrayList<>();
        Gate.addListener((from, to, step, millis) -> changes.add(from + "->" + to));
        for (int cycle = 0; cycle < 200; cycle++) {
            long before = Gate.steps();
            long promise = Gate.holdAtNextStep();
            assertTrue(promise > before, "the promise " + promise + " is not past step " + before);
            awaitHeld(cycle);
            long held = Gate.steps();
            assertTrue(held <= promise, "held at step " + held + " past the promise " + promise + ", cycle " + cycle);
            assertEquals(GateState.RUNNING, Gate.state(), "a hold is no pause, cycle " + cycle);
            for (int k = 0; k < 1000; k++) {
                Thread.onSpinWait();
            }
            assertEquals(held, Gate.steps(), "a step ran during the hold, cycle " + cycle);
            long target = held + 1 + cycle % 3;
            Gate.pauseAtStep(target);
            Gate.releaseHold();
            assertEquals(GateState.PAUSED, Gate.awaitState(10_000, GateState.PAUSED), "cycle " + cycle);
            assertEquals(target, Gate.steps(), "paused at another step than the one armed, cycle " + cycle);
            Gate.resume();
            assertEquals(GateState.RUNNING, Gate.awaitState(10_000, GateState.RUNNING));
        }
        // each cycle: running, pausing (maybe), paused, running: never a state change for the hold itself
        assertTrue(changes.stream().noneMatch(c -> c.equals("RUNNING->RUNNING")), changes.toString());
    }

    private static void awaitHeld(int cycle) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Gate.held()) {
            assertTrue(System.nanoTime() < deadline, "the hold never landed, cycle " + cycle);
            Thread.sleep(1);
        }
    }
}
