package dev.pauser.gate;

/** The states of the pause gate, as shown over JMX and on the command line. */
public enum GateState {
    /** Steps run freely. */
    RUNNING,
    /** A pause was asked for; waiting until every thread inside a step has reached a boundary. */
    PAUSING,
    /** Every thread inside a step is parked at a boundary and no step starts until resume. */
    PAUSED,
    /** Every step thread is at a boundary while work runs at the safe point (a checkpoint); then the gate reopens. */
    CHECKPOINTING,
    /** A stop was asked for: in-flight steps finish, no step starts again, the stop hook runs and the JVM exits. */
    STOPPING
}
