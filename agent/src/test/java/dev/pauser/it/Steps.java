package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.agent.jmx.PauserMXBean;
import java.util.function.BooleanSupplier;

/** Small waits shared by the end-to-end tests. */
final class Steps {
    private Steps() {
    }

    static void await(String what, long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out after " + timeoutMillis + " ms waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** Waits until Step passes {@code step}: training moves. */
    static void awaitStepAfter(PauserMXBean pauser, long step) throws InterruptedException {
        await("a step after " + step, 20_000, () -> pauser.getStep() > step);
    }

    /** Step stays put for a while: training is held. */
    static void assertStepHeld(PauserMXBean pauser, long millis) throws InterruptedException {
        long step = pauser.getStep();
        Thread.sleep(millis);
        assertEquals(step, pauser.getStep(), "Step moved while paused");
    }
}
