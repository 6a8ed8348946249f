package dev.pauser.agent.snapshot;

/** One captured {@code @TrainState} value: a tensor or a JSON value. */
public sealed interface Entry permits TensorEntry, JsonEntry {
    String key();

    String declaringClass();

    String javaType();
}
