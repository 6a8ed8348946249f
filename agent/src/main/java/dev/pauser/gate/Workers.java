package dev.pauser.gate;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the calling thread's {@link Worker} without a map lookup on the hot path: workers are indexed by thread id in a
 * plain array (ids are small, increasing numbers in a training JVM). Threads whose id is past {@link #MAX_INDEXED_ID}
 * (a JVM that has created very many threads, virtual threads) fall back to a {@link ThreadLocal}, still correct.
 */
final class Workers {
    static final int MAX_INDEXED_ID = 1 << 16;

    private static volatile Worker[] byId = new Worker[64];
    private static volatile Worker[] all = new Worker[0];
    private static final ThreadLocal<Worker> PAST_INDEX = new ThreadLocal<>();
    /** Set once, when the first thread enters a step; never cleared (written on the slow path of registration only). */
    private static volatile boolean anyRegistered;
    /** Outermost steps completed by threads that have ended and were dropped from {@link #all}. Guarded by the class. */
    private static long retiredSteps;

    private Workers() {
    }

    @SuppressWarnings("deprecation") // Thread.threadId() needs 19; getId() is the same number
    static Worker current() {
        Thread t = Thread.currentThread();
        long id = t.getId();
        Worker[] table = byId;
        if (id < table.length) {
            Worker w = table[(int) id];
            if (w != null && w.thread == t) {
                return w;
            }
        }
        return slowCurrent(t, id);
    }

    private static Worker slowCurrent(Thread t, long id) {
        if (id >= MAX_INDEXED_ID) {
            Worker w = PAST_INDEX.get();
            if (w == null) {
                w = register(t, -1);
                PAST_INDEX.set(w);
            }
            return w;
        }
        return register(t, (int) id);
    }

    /** Runs once per thread, on its first step. Also forgets workers whose threads have ended. */
    private static synchronized Worker register(Thread t, int id) {
        if (id >= 0) {
            Worker[] table = byId;
            if (id < table.length && table[id] != null && table[id].thread == t) {
                return table[id];
            }
        }
        Worker w = new Worker(t);
        List<Worker> live = new ArrayList<>();
        Worker[] table = byId;
        int size = table.length;
        while (id >= size) {
            size *= 2;
        }
        Worker[] newTable = new Worker[size];
        for (Worker old : all) {
            if (old.thread.isAlive()) {
                live.add(old);
            } else {
                retiredSteps += old.observedDone();
            }
        }
        for (Worker old : live) {
            @SuppressWarnings("deprecation")
            long oldId = old.thread.getId();
            if (oldId < size) {
                newTable[(int) oldId] = old;
            }
        }
        if (id >= 0) {
            newTable[id] = w;
        }
        live.add(w);
        // Order matters for the controller: it must find w in 'all' before w can enter a step unseen (see Gate).
        all = live.toArray(new Worker[0]);
        byId = newTable;
        anyRegistered = true;
        return w;
    }

    /**
     * Outermost steps completed by every thread, ended ones included: each thread's own count, summed. Synchronized with
     * {@link #register}, which moves the counts of ended threads into {@link #retiredSteps}.
     */
    static synchronized long completedSteps() {
        long sum = retiredSteps;
        for (Worker w : all) {
            sum += w.observedDone();
        }
        return sum;
    }

    /** Every worker whose thread may still run steps. */
    static Worker[] all() {
        return all;
    }

    /** Whether any thread has entered a step in this JVM. */
    static boolean anyRegistered() {
        return anyRegistered;
    }

    /** Threads alive that have run at least one step. */
    static int liveCount() {
        int n = 0;
        for (Worker w : all) {
            if (w.thread.isAlive()) {
                n++;
            }
        }
        return n;
    }
}
