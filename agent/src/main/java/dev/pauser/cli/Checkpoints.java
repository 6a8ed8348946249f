package dev.pauser.cli;

import dev.pauser.agent.store.CheckpointReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What a {@code <checkpoint-or-dir>} argument names, for inspect and verify. */
final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * The checkpoints {@code path} names: itself, or those in it. A path that is not there, or is a file, is exit 3
     * (nothing there to check); a directory without checkpoints is exit 6, as a failed verification is.
     */
    static List<Path> resolve(Path path) {
        if (!Files.exists(path)) {
            throw new CliException(ExitCodes.NOT_FOUND, path + ": no such file or directory");
        }
        if (!Files.isDirectory(path)) {
            throw new CliException(ExitCodes.NOT_FOUND, path + ": is a file; give a checkpoint (a ckpt-<step> "
                    + "directory) or the directory holding them");
        }
        List<Path> found;
        try {
            found = CheckpointReader.resolve(path);
        } catch (IOException e) {
            throw new CliException(ExitCodes.NOT_FOUND, path + ": cannot be read: " + Jvms.oneLine(e));
        }
        if (found.isEmpty()) {
            throw new CliException(ExitCodes.CORRUPT, path + ": holds no checkpoint (ckpt-<step> directories)");
        }
        return found;
    }
}
