package dev.pauser.cli;

import dev.pauser.agent.snapshot.CheckpointReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** What a {@code <checkpoint-or-dir>} argument names, for inspect and verify. */
final class Checkpoints {
    private Checkpoints() {
    }

    static List<Path> resolve(Path path) {
        List<Path> found;
        try {
            found = CheckpointReader.resolve(path);
        } catch (IOException e) {
            throw new CliException(ExitCodes.NOT_FOUND, path + ": not a checkpoint or a directory of checkpoints ("
                    + e.getMessage() + ")");
        }
        if (found.isEmpty()) {
            throw new CliException(ExitCodes.CORRUPT, path + ": holds no checkpoint (ckpt-<step> directories)");
        }
        return found;
    }
}
