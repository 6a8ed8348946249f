package dev.pauser;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks one training step. Under the Pauser agent, the entry and the exit of every call to a method carrying this
 * annotation are safe points: there the run can pause, stop or be checkpointed, and nowhere else.
 *
 * <p>Steps may nest (an epoch method calling a batch method, both annotated): every entry and exit is a safe point,
 * but only the outermost call on a thread counts as one step of the {@code Step} counter.
 *
 * <p>Without the agent this annotation does nothing.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface TrainStep {
}
