package dev.pauser.gate;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Tells the agent which trainers the program runs, as the step hooks meet them: the first step of the JVM (the
 * instrumentation report), each trainer a thread enters a step of and has not seen lately (the checkpoint layer
 * registers it and restores its state), each trainer constructed (restored there on a resume). Not part of the pause
 * protocol: nothing here holds a thread or reads the gate's state.
 *
 * <p>Threads: the setters on the agent's start-up thread; everything else on the training thread that meets the
 * trainer, before the step body or right after the constructor.
 */
public final class TrainerEvents {
    private static final AtomicReference<Runnable> FIRST_STEP_HOOK = new AtomicReference<>();
    private static volatile TrainerListener listener;

    private TrainerEvents() {
    }

    /**
     * Runs {@code hook} once, on the first thread to enter a step in this JVM, before that step's body (and before the
     * trainer listener hears of it).
     */
    public static void onFirstStep(Runnable hook) {
        FIRST_STEP_HOOK.set(hook);
    }

    /** Sets who is told of each trainer object (or class, for static steps) when a thread first runs one of its steps. */
    public static void setListener(TrainerListener l) {
        listener = l;
    }

    /**
     * A thread enters a step of a trainer it has not seen lately: tell the listener (the checkpoint layer registers the
     * trainer and restores its state here, before its first step runs). Runs on the training thread, outside any step
     * of this trainer; the listener must tolerate being told of the same trainer again.
     */
    static void seen(Worker w, Class<?> type, Object trainer) {
        if (FIRST_STEP_HOOK.get() != null) {
            Runnable first = FIRST_STEP_HOOK.getAndSet(null);
            if (first != null) {
                try {
                    first.run();
                } catch (Throwable t) {
                    System.err.println("pauser: the first-step report failed: " + t);
                }
            }
        }
        TrainerListener l = listener;
        if (l != null) {
            l.trainerSeen(type, trainer == type ? null : trainer);
        }
        w.remember(trainer);
    }

    /** A trainer of exactly {@code type} was constructed; on the constructing thread. */
    static void constructed(Class<?> type, Object self) {
        TrainerListener l = listener;
        if (l != null) {
            l.trainerConstructed(type, self);
        }
    }
}
