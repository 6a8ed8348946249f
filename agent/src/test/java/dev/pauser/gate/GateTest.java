package dev.pauser.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gate's central promise, checked in-process with many more cycles than a child JVM allows: whenever the state is
 * PAUSED, no thread is executing step code or is held inside an outer step, and none starts until resume. Threads run
 * nested and recursive steps and throw.
 */
class GateTest {
    private static final int THREADS = 6;
    private static final AtomicInteger busy = new AtomicInteger();
    private static final AtomicBoolean done = new AtomicBoolean();
    private static final AtomicReference<Throwable> failure = new AtomicReference<>();
    private static final List<Thread> workers = new ArrayList<>();

    @BeforeAll
    static void startWorkers() {
        Gate.start();
        for (int t = 0; t < THREADS; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                long i = 0;
                while (!done.get()) {
                    try {
                        step(id, i++);
                    } catch (IllegalStateException expected) {
                        // planned
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }
            }, "gate-test-" + t);
            th.setDaemon(true);
            workers.add(th);
            th.start();
        }
    }

    @AfterAll
    static void stopWorkers() throws InterruptedException {
        done.set(true);
        Gate.resume();
        for (Thread t : workers) {
            t.join(5000);
        }
    }

    /** What instrumentation makes of a @TrainStep method: enter, body, exit (also on throw) with what enter returned. */
    private static void step(int id, long i) {
        Object entered = StepHooks.enterStep(GateTest.class, null);
        try {
            busy.incrementAndGet();
            try {
                if (id % 2 == 0) {
                    innerStep(i); // nested boundary
                }
                Thread.onSpinWait();
                if (i % 97 == 0) {
                    throw new IllegalStateException("planned");
                }
            } finally {
                busy.decrementAndGet();
            }
        } finally {
            StepHooks.exitStep(entered);
        }
    }

    /**
     * A nested step, and a recursive one inside it. The outer body stays "busy" across them: a nested boundary is inside
     * the outer step, so no thread may be held there while the gate is PAUSED or runs safe-point work. Its exit is
     * given nothing, as when the entry hook failed: the exit then finds the thread itself.
     */
    private static void innerStep(long i) {
        StepHooks.enterStep(GateTest.class, null);
        try {
            Thread.onSpinWait();
            if (i % 3 == 0) {
                innerStep(i + 1);
            }
        } finally {
            StepHooks.exitStep(null);
        }
    }

    @Test
    void noStepCodeRunsWhilePaused() throws Exception {
        for (int cycle = 0; cycle < 300; cycle++) {
            Gate.pause();
            assertEquals(GateState.PAUSED, Gate.awaitState(10_000, GateState.PAUSED), "cycle " + cycle);
            long steps = Gate.steps();
            for (int k = 0; k < 20; k++) {
                assertEquals(0, busy.get(), "step code running while PAUSED, cycle " + cycle);
                Thread.onSpinWait();
            }
            assertEquals(steps, Gate.steps(), "a step completed while PAUSED, cycle " + cycle);
            Gate.resume();
            assertEquals(GateState.RUNNING, Gate.awaitState(10_000, GateState.RUNNING));
        }
        assertEquals(null, failure.get());
        assertTrue(Gate.steps() > 0);
        assertEquals(THREADS, Gate.trainerThreads());
    }

    @Test
    void safePointWorkRunsWithEveryThreadHeld() throws Exception {
        for (int cycle = 0; cycle < 150; cycle++) {
            AtomicInteger seenBusy = new AtomicInteger(-1);
            java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
            Gate.atSafePoint(() -> {
                seenBusy.set(busy.get());
                ran.countDown();
            });
            assertTrue(ran.await(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(0, seenBusy.get(), "work ran while step code was running, cycle " + cycle);
            assertEquals(GateState.RUNNING, Gate.awaitState(10_000, GateState.RUNNING));
        }
    }

    @Test
    void safePointWorkWhilePausedRunsInsideThePauseWithoutAStateChange() throws Exception {
        List<String> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
        Gate.addListener((from, to, step, millis) -> changes.add(from + "->" + to));
        for (int cycle = 0; cycle < 50; cycle++) {
            Gate.pause();
            assertEquals(GateState.PAUSED, Gate.awaitState(10_000, GateState.PAUSED), "cycle " + cycle);
            // listeners hear of changes after the state is set, in order: wait for them to hear of this pause
            awaitLast(changes, "->PAUSED");
            int heard = changes.size();
            long pausedSince = Gate.pausedSinceMillis();
            AtomicReference<GateState> stateInWork = new AtomicReference<>();
            AtomicInteger seenBusy = new AtomicInteger(-1);
            java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
            Gate.atSafePoint(() -> {
                stateInWork.set(Gate.state());
                seenBusy.set(busy.get());
                ran.countDown();
            });
            assertTrue(ran.await(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(GateState.PAUSED, stateInWork.get(), "cycle " + cycle);
            assertEquals(0, seenBusy.get(), "cycle " + cycle);
            assertEquals(GateState.PAUSED, Gate.state());
            assertEquals(pausedSince, Gate.pausedSinceMillis(), "cycle " + cycle);
            // the resume's change is the first one the listeners hear after the work: the work announced none
            Gate.resume();
            assertEquals(GateState.RUNNING, Gate.awaitState(10_000, GateState.RUNNING));
            awaitLast(changes, "->RUNNING");
            assertEquals(List.of("PAUSED->RUNNING"), changes.subList(heard, changes.size()), "cycle " + cycle);
        }
    }

    @Test
    void theResumeHookRunsWithEveryThreadHeldAndCanKeepThePause() throws Exception {
        AtomicBoolean agree = new AtomicBoolean();
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger seenBusy = new AtomicInteger(-1);
        AtomicReference<GateState> stateSeen = new AtomicReference<>();
        Gate.setResumeHook(() -> {
            seenBusy.set(busy.get());
            stateSeen.set(Gate.state());
            calls.incrementAndGet();
            return agree.get();
        });
        try {
            for (int cycle = 0; cycle < 30; cycle++) {
                Gate.pause();
                assertEquals(GateState.PAUSED, Gate.awaitState(60_000, GateState.PAUSED), "cycle " + cycle);
                long steps = Gate.steps();
                agree.set(false);
                int before = calls.get();
                Gate.resume();
                long deadline = System.currentTimeMillis() + 60_000;
                while (calls.get() == before) {
                    assertTrue(System.currentTimeMillis() < deadline, "the resume hook never ran, cycle " + cycle);
                    Thread.sleep(1);
                }
                // Work queued now runs after the refusal was handled: inside the pause that goes on.
                AtomicReference<GateState> afterRefusal = new AtomicReference<>();
                java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
                Gate.atSafePoint(() -> {
                    afterRefusal.set(Gate.state());
                    ran.countDown();
                });
                assertTrue(ran.await(60, java.util.concurrent.TimeUnit.SECONDS));
                assertEquals(GateState.PAUSED, afterRefusal.get(), "cycle " + cycle);
                assertEquals(steps, Gate.steps(), "a step ran after the resume hook refused, cycle " + cycle);
                assertEquals(0, seenBusy.get());
                assertEquals(GateState.PAUSED, stateSeen.get());

                agree.set(true);
                Gate.resume();
                assertEquals(GateState.RUNNING, Gate.awaitState(60_000, GateState.RUNNING), "cycle " + cycle);
                assertEquals(0, seenBusy.get());
            }
        } finally {
            Gate.setResumeHook(null);
        }
        assertEquals(null, failure.get());
    }

    private static void awaitLast(List<String> changes, String suffix) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (changes.isEmpty() || !changes.get(changes.size() - 1).endsWith(suffix)) {
            assertTrue(System.currentTimeMillis() < deadline, "no change ending " + suffix + " heard: " + changes);
            Thread.sleep(1);
        }
    }
}
