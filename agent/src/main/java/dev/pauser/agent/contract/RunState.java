package dev.pauser.agent.contract;

/**
 * The values of {@link PauserMXBean#getState()}, by name (the attribute is a String, an open type). The agent's gate
 * has the same states under the same names; a client compares {@code getState()} with {@code name()} of these.
 */
public enum RunState {
    /** Steps run. */
    RUNNING,
    /** A pause is asked for; waiting for every step in flight to reach a boundary. */
    PAUSING,
    /** Every thread inside a step is parked at a boundary. */
    PAUSED,
    /** Every step thread is held while a checkpoint is copied. */
    CHECKPOINTING,
    /** The run is ending: in-flight steps finish, the final checkpoint is written, the JVM exits. */
    STOPPING;

    /** True where {@code state}, a value of {@code getState()}, is this one. */
    public boolean is(String state) {
        return name().equals(state);
    }
}
