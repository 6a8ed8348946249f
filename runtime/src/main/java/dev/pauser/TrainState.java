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

    /**
     * For a field holding GPU memory (JCuda's {@code CUdeviceptr} or a device {@code Pointer}): the safetensors dtype the
     * checkpoint records for its bytes ({@code F32}, {@code F16}, {@code BF16}, {@code F64}, {@code I32}, {@code I64},
     * {@code U8}, ...). Empty (the default) means raw bytes, {@code U8}. Ignored for other fields.
     */
    String dtype() default "";

    /**
     * For a field holding GPU memory: the tensor's shape in the checkpoint; the product times the dtype's size must be
     * the byte length. Empty (the default) means one dimension, the byte length divided by the dtype's size. For an
     * array of pointers, the shape of each element (the checkpoint's shape is the array length, then this).
     */
    long[] shape() default {};

    /**
     * For a field holding GPU memory: its size in bytes where the CUDA driver can't tell it (memory it did not
     * allocate as one piece). -1 (the default) means ask the driver for the size of the allocation.
     */
    long bytes() default -1;
}
