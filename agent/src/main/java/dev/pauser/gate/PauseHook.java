package dev.pauser.gate;

/**
 * Work that must be done after a pause has quieted every step thread and before the state becomes PAUSED (the checkpoint
 * written on pause, so a paused job can be killed safely). Runs on the gate's control thread; the state reads
 * CHECKPOINTING meanwhile.
 */
public interface PauseHook {
    /** Whether there is anything to do now (no new step since the last checkpoint: nothing). */
    boolean needed();

    void run();
}
