package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.agent.contract.PauserMXBean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Small waits shared by the end-to-end tests. */
final class Steps {
    private Steps() {
    }

    static void await(String what, long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        await(() -> what, timeoutMillis, condition);
    }

    /** As the other {@code await}; {@code what} is computed at the timeout, from what is known then. */
    static void await(Supplier<String> what, long timeoutMillis, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out after " + timeoutMillis + " ms waiting for " + what.get());
            }
            Thread.sleep(10);
        }
    }

    /** Waits until Step passes {@code step}: training moves. */
    static void awaitStepAfter(PauserMXBean pauser, long step) throws InterruptedException {
        await("a step after " + step, 60_000, () -> pauser.getStep() > step);
    }

    /** Step stays put for a while: training is held. */
    static void assertStepHeld(PauserMXBean pauser, long millis) throws InterruptedException {
        long step = pauser.getStep();
        Thread.sleep(millis);
        assertEquals(step, pauser.getStep(), "Step moved while paused");
    }
}
