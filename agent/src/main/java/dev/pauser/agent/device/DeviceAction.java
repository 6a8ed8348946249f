package dev.pauser.agent.device;

/**
 * One step of device work that may fail, such as a driver call; {@link #undo} runs one as a clean-up after an earlier
 * failure. Threads: runs on the caller's thread.
 */
@FunctionalInterface
interface DeviceAction {
    void run() throws DeviceException;

    /** Runs a clean-up step after {@code failure}; its own failure is attached to the first, not thrown. */
    static void undo(Exception failure, DeviceAction step) {
        try {
            step.run();
        } catch (DeviceException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
