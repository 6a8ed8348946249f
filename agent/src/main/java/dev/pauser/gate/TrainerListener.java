package dev.pauser.gate;

/** Told, on the training thread, when a thread runs a step of a trainer it has not seen lately. */
@FunctionalInterface
public interface TrainerListener {
    /**
     * @param type the class declaring the step method
     * @param self the trainer object, or null for a static step method
     */
    void trainerSeen(Class<?> type, Object self);

    /**
     * A constructor of {@code type}, a class declaring {@code @TrainStep} methods, returned normally, and {@code self}
     * is exactly of that class (a subclass's own constructor has not run yet otherwise). Called on the constructing
     * thread, before the object is used: a resumed run restores the state here, so the code between construction and
     * the first step (the loop's condition) already sees it.
     */
    default void trainerConstructed(Class<?> type, Object self) {
    }
}
