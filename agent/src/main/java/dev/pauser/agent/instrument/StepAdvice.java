package dev.pauser.agent.instrument;

import dev.pauser.gate.StepHooks;
import net.bytebuddy.asm.Advice;

/**
 * Pasted (inlined) into every {@code @TrainStep} method: one static call on entry, one on exit (also when the method
 * throws); the entry hands the exit the thread's record at the gate in a local variable, so the exit doesn't look the
 * thread up again. {@code suppress}: nothing the agent does may change what the app computes, so a failure in the hook is
 * swallowed and the step runs; the app's own exception passes through unchanged.
 */
final class StepAdvice {
    private StepAdvice() {
    }

    /** {@code @Origin Class} is a class constant in the pasted code (no reflective lookup, unlike Origin Method). */
    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.Origin Class<?> type, @Advice.This(optional = true) Object self) {
        return StepHooks.enterStep(type, self);
    }

    /** {@code entered} is null when the entry failed (suppressed): the hook then looks the thread up. */
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.Enter Object entered) {
        StepHooks.exitStep(entered);
    }

    /** Pasted at the normal end of every constructor of a class that declares {@code @TrainStep} methods. */
    static final class Constructed {
        private Constructed() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit(@Advice.Origin Class<?> type, @Advice.This Object self) {
            StepHooks.constructed(type, self);
        }
    }
}
