package dev.pauser.agent.store;

/**
 * One captured value of a checkpoint: a tensor (bytes with a dtype and shape, stored in {@code state.safetensors}) or a JSON
 * value (stored in {@code values.json}).
 */
public sealed interface Entry permits TensorEntry, JsonEntry {
    /** The stable key of the field, unique within a checkpoint. */
    String key();

    /** The binary name of the class that declares the field. */
    String declaringClass();

    /** The Java type of the field as the capturing side names it (e.g. {@code float[][]}). */
    String javaType();
}
