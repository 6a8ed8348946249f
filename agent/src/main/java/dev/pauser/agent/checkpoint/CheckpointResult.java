package dev.pauser.agent.checkpoint;

/**
 * What a checkpoint request came to. {@code error} is empty on success; {@code written} is false when nothing had to be
 * written (no step since the last durable checkpoint, or no {@code @TrainState} to save), and then {@code path} names the
 * checkpoint that already holds the state, if any.
 */
public record CheckpointResult(long step, String path, long bytes, long millis, boolean written, String error) {
    /** A checkpoint asked for at {@code step} that was not written. */
    static CheckpointResult failed(long step, String error) {
        return new CheckpointResult(step, "", 0, 0, false, error);
    }

    public boolean ok() {
        return error.isEmpty();
    }

    /** One line for logs, JMX and the command line. */
    public String describe() {
        if (!ok()) {
            return "checkpoint failed: " + error;
        }
        if (!written) {
            return path.isEmpty() ? "nothing to checkpoint (no @TrainState seen yet)"
                    : "already durable: " + path + " (step " + step + ")";
        }
        return path + " (step " + step + ", " + bytes + " bytes, " + millis + " ms)";
    }
}
