package dev.pauser.gate;

/**
 * Work to do as a pause is withdrawn, before any step thread runs again (GPU memory given back during
 * the pause is taken again). Runs on the gate's control thread with every step thread still held; the state reads
 * PAUSED meanwhile. Returning false keeps the run paused, as if the resume had not been asked for; a later resume runs
 * the hook again.
 */
public interface ResumeHook {
    /** True when the run may go on; false to stay paused (the hook has reported why). */
    boolean beforeResume();
}
