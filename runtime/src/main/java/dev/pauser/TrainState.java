package dev.pauser;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a field that is part of the training state: the agent saves it in every checkpoint and restores it before the
 * first {@link TrainStep} of a resumed run.
 *
 * <p>Without the agent this annotation does nothing.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface TrainState {

    /**
     * The stable key of this field in checkpoints. Empty (the default) means the field's own name. Give the old name
     * here when renaming a field, so checkpoints written before the rename still restore into it.
     */
    String name() default "";

    /**
     * Whether a checkpoint must hold this field for a resume to proceed. A field that is not required and is missing
     * from a checkpoint keeps the value the code gave it.
     */
    boolean required() default true;
}
