package dev.pauser.gate;

/**
 * The only code the instrumented {@code @TrainStep} methods call: the advice pasted into them is one static call to
 * one of these methods. The class is loaded by the bootstrap class loader, so it resolves from any class loader that
 * delegates to bootstrap. Its method signatures are a contract with the advice in already-transformed classes:
 * never change them.
 */
public final class StepHooks {
    private StepHooks() {
    }

    /**
     * A step begins: a safe point.
     *
     * @param type the class declaring the step method (a constant in the advice)
     * @param self the object the step runs on; null for a static step method
     */
    public static void enter(Class<?> type, Object self) {
        Gate.enter(type, self);
    }

    /** A constructor of a class declaring {@code @TrainStep} methods returned. Not a safe point. */
    public static void constructed(Class<?> type, Object self) {
        if (self != null && self.getClass() == type) {
            TrainerEvents.constructed(type, self);
        }
    }

    /** A step ends, normally or by an exception: a safe point. */
    public static void exit() {
        Gate.exit();
    }

    /**
     * A step begins: a safe point. Runs on the thread that calls the step. Returns what the step's {@link
     * #exitStep(Object)} takes (the calling thread's record at the gate, opaque to the caller), so that the exit need
     * not look the thread up again.
     *
     * @param type the class declaring the step method (a constant in the advice)
     * @param self the object the step runs on; null for a static step method
     */
    public static Object enterStep(Class<?> type, Object self) {
        return Gate.enter(type, self);
    }

    /**
     * A step ends, normally or by an exception: a safe point. Runs on the thread that called the step.
     *
     * @param entered what this step's {@link #enterStep} returned on this same thread; null when the entry failed (then
     *     the thread is looked up)
     */
    public static void exitStep(Object entered) {
        if (entered instanceof Worker w) {
            Gate.exit(w);
        } else {
            Gate.exit();
        }
    }
}
