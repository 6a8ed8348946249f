package dev.pauser.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Threads that spend most of their time outside their steps and enter short ones at any moment: the case where the
 * controller finds a thread outside its steps while that thread is entering one. The entry stores the depth without a
 * fence, so only the controller's serialization of such threads (a JVM handshake) stops a step body from starting
 * after the gate was declared PAUSED. Every step body looks, while it runs, for the mark the test sets while PAUSED.
 */
class GateIdleThreadsTest {
    private static final int THREADS = 3;
    private static final int CYCLES = 3000;

    private final AtomicInteger inBody = new AtomicInteger();
    private final AtomicLong bodiesSeeingPaused = new AtomicLong();
    private final AtomicLong bodies = new AtomicLong();
    private final AtomicBoolean done = new AtomicBoolean();
    /**
     * Set by the test thread once the gate reports PAUSED, cleared before it asks for the resume: a body that sees it
     * ran while the threads were to be held. (The gate's state itself turns RUNNING a moment after the gate reopens.)
     */
    private volatile boolean held;
    /**
     * Set by the test thread before it asks for a resume, cleared once it has seen RUNNING: while it is clear, a body
     * that finds the gate PAUSED is running inside a pause (read before the state, see {@link #step()}).
     */
    private volatile boolean resuming;

    /** What instrumentation makes of a short @TrainStep method, run between idle stretches. */
    private void step() {
        StepHooks.enter(GateIdleThreadsTest.class, null);
        try {
            inBody.incrementAndGet();
            for (int k = 0; k < 32; k++) {
                if (held || (!resuming && Gate.state() == GateState.PAUSED)) {
                    bodiesSeeingPaused.incrementAndGet();
                    break;
                }
                Thread.onSpinWait();
            }
            inBody.decrementAndGet();
            bodies.incrementAndGet();
        } finally {
            StepHooks.exit();
        }
    }

    @Test
    void noStepBodyStartsWhilePausedWhenThreadsEnterStepsFromOutside() throws Exception {
        Gate.start();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Thread th = new Thread(() -> {
                while (!done.get()) {
                    step();
                    for (int k = 0; k < 32; k++) {
                        Thread.onSpinWait(); // outside any step: depth 0, as the controller must read it
                    }
                }
            }, "idle-stepper-" + t);
            th.setDaemon(true);
            threads.add(th);
            th.start();
        }
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (bodies.get() < THREADS * 100L && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                Gate.pause();
                assertEquals(GateState.PAUSED, Gate.awaitState(60_000, GateState.PAUSED), "cycle " + cycle);
                held = true;
                long steps = Gate.steps();
                for (int k = 0; k < 50; k++) {
                    assertEquals(0, inBody.get(), "step code running while PAUSED, cycle " + cycle);
                    Thread.onSpinWait();
                }
                assertEquals(steps, Gate.steps(), "a step completed while PAUSED, cycle " + cycle);
                held = false;
                resuming = true;
                Gate.resume();
                assertEquals(GateState.RUNNING, Gate.awaitState(60_000, GateState.RUNNING), "cycle " + cycle);
                resuming = false;
            }
        } finally {
            done.set(true);
            resuming = true;
            Gate.resume();
            for (Thread t : threads) {
                t.join(60_000);
            }
        }
        assertEquals(0, bodiesSeeingPaused.get(), "step bodies that ran while the gate was PAUSED");
        assertTrue(bodies.get() > 0);
    }
}
