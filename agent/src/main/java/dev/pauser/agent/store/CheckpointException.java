package dev.pauser.agent.store;

import java.io.IOException;

/**
 * A checkpoint could not be written, read or deleted. The message is one line that names the directory concerned and what
 * went wrong, fit to be logged and shown over JMX as is.
 */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
