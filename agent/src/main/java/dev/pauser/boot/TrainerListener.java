package dev.pauser.boot;

/** Told, on the training thread, when a thread runs a step of a trainer it has not seen lately. */
@FunctionalInterface
public interface TrainerListener {
    /**
     * @param type the class declaring the step method
     * @param self the trainer object, or null for a static step method
     */
    void trainerSeen(Class<?> type, Object self);
}
