package dev.pauser.agent;

import dev.pauser.agent.log.Log;

/**
 * Wall time of each phase of the agent's start-up, logged at debug ({@code log=debug}) as
 * {@code start-up: <phase> took N ms on <thread>, done at M ms}, M counted from the start of the wiring. What the agent
 * adds before the program's {@code main} is the time until the last phase on {@code main}; the phases on
 * {@code pauser-instrument} overlap with those on {@code main}, and those on {@code pauser-start} run beside the program.
 * Each thread calls {@link #begin()} first, then {@link #mark} after each phase.
 */
final class StartupTiming {
    private final long origin = System.nanoTime();
    private final ThreadLocal<Long> last = ThreadLocal.withInitial(System::nanoTime);

    StartupTiming() {
        last.set(origin);
    }

    /** Starts timing the calling thread's first phase. */
    void begin() {
        last.set(System.nanoTime());
    }

    /** Logs the time since the calling thread's previous mark (or {@link #begin()}) as the phase {@code phase}. */
    void mark(String phase) {
        long now = System.nanoTime();
        if (Log.debugEnabled()) {
            Log.debug(String.format("start-up: %s took %.1f ms on %s, done at %.1f ms", phase,
                    (now - last.get()) / 1e6, Thread.currentThread().getName(), (now - origin) / 1e6));
        }
        last.set(now);
    }
}
