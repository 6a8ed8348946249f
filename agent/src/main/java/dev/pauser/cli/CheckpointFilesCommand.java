package dev.pauser.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** A command that reads checkpoints on disk: one {@code ckpt-<step>} directory, or the directory holding them. */
abstract class CheckpointFilesCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<checkpoint-or-dir>",
            description = "A ckpt-<step> directory, or the directory holding them.")
    Path path;

    @Mixin
    Output out;
}
