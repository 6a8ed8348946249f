package dev.pauser.agent.contract;

/**
 * What a checkpoint request came to, as {@link PauserMXBean#checkpointAndWaitForOutcome(long)} answers it: an MXBean
 * maps it to {@code CompositeData} (items bytes, error, message, millis, path, status, step; status as its name), so
 * JConsole and JMX clients read it without Pauser's classes, and a client holding this class gets it back typed.
 *
 * @param status  what happened; decide on this, never on the text of {@code message}
 * @param step    the step checkpointed; for FAILED, TIMED_OUT and REQUESTED the step when it was asked for
 * @param path    the checkpoint's directory (DURABLE, ALREADY_DURABLE); empty otherwise
 * @param bytes   the size of its files (DURABLE, ALREADY_DURABLE); 0 otherwise
 * @param millis  capture and durable write, in milliseconds (DURABLE); 0 otherwise
 * @param error   why it failed or was not waited for, one line (FAILED, TIMED_OUT); empty otherwise
 * @param message the line {@code checkpointAndWait} returns for the same outcome, for people
 */
public record CheckpointOutcome(Status status, long step, String path, long bytes, long millis, String error,
        String message) {

    /** The kinds of outcome. */
    public enum Status {
        /** Written and durable on disk now. */
        DURABLE,
        /** No step ran since the newest durable checkpoint, which already holds this state: nothing written. */
        ALREADY_DURABLE,
        /** No {@code @TrainState} seen yet: there is nothing to save. */
        NOTHING_TO_SAVE,
        /** Asked for and not waited for (a timeout of 0); the checkpoint is still taken. */
        REQUESTED,
        /** Not durable within the timeout; the checkpoint is still requested. */
        TIMED_OUT,
        /** Could not be taken or written (see error); nothing new is durable. */
        FAILED
    }

    /** True where the state asked for is safe on disk, or there is none: DURABLE, ALREADY_DURABLE, NOTHING_TO_SAVE. */
    public boolean succeeded() {
        return status == Status.DURABLE || status == Status.ALREADY_DURABLE || status == Status.NOTHING_TO_SAVE;
    }
}
