package dev.pauser.agent.store;

import java.nio.file.Path;

/**
 * A checkpoint failed validation: unreadable or inconsistent manifest, a file name that leaves the checkpoint, an absurd
 * size, a truncated file or a CRC32C mismatch. The message reads {@code "<dir>: field '<key>': <problem>"}, or
 * {@code "<dir>: <problem>"} when no field is concerned.
 */
public class CorruptCheckpointException extends CheckpointException {
    private static final long serialVersionUID = 1L;

    private final transient Path checkpointDir;
    private final String fieldKey;
    private final String problem;

    public CorruptCheckpointException(Path checkpointDir, String fieldKey, String problem) {
        this(checkpointDir, fieldKey, problem, null);
    }

    public CorruptCheckpointException(Path checkpointDir, String fieldKey, String problem, Throwable cause) {
        super(format(checkpointDir, fieldKey, problem), cause);
        this.checkpointDir = checkpointDir;
        this.fieldKey = fieldKey;
        this.problem = problem;
    }

    private static String format(Path dir, String key, String problem) {
        String oneLine = problem.replace('\n', ' ').replace('\r', ' ');
        return key == null ? dir + ": " + oneLine : dir + ": field '" + key + "': " + oneLine;
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    /** The field concerned, or {@code null}. */
    public String fieldKey() {
        return fieldKey;
    }

    /** What is wrong, without the directory and field. */
    public String problem() {
        return problem;
    }
}
