package dev.pauser.agent.store;

import java.nio.file.Path;

/**
 * A valid checkpoint that does not fit in this JVM's memory: loading it for a resume needs more direct buffer memory (or
 * heap) than is left. Not corruption: the checkpoint is kept and resumes in a JVM given more memory. The message is one
 * line naming the checkpoint, the memory it needs, what is available and what to raise.
 */
public final class CheckpointTooLargeException extends CheckpointException {
    private static final long serialVersionUID = 1L;

    private final transient Path checkpointDir;
    private final long neededBytes;

    public CheckpointTooLargeException(Path checkpointDir, long neededBytes, String message, Throwable cause) {
        super(checkpointDir + ": " + message.replace('\n', ' ').replace('\r', ' '), cause);
        this.checkpointDir = checkpointDir;
        this.neededBytes = neededBytes;
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    /** The memory loading it needs, in bytes. */
    public long neededBytes() {
        return neededBytes;
    }
}
