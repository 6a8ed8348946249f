package dev.pauser.gate;

/**
 * Told of every state change of the {@link Gate}. Called on the gate's control thread, never on a training thread,
 * one call at a time, in order.
 */
public interface GateListener {
    /**
     * @param from the state left
     * @param to the state entered
     * @param step the {@code Step} counter at the change
     * @param millisInPrevious how long the gate was in {@code from}, in milliseconds
     */
    void stateChanged(GateState from, GateState to, long step, long millisInPrevious);
}
