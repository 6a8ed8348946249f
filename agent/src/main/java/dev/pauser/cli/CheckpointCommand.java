package dev.pauser.cli;

import dev.pauser.agent.contract.CheckpointOutcome;
import dev.pauser.agent.contract.PauserMXBean;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "checkpoint", mixinStandardHelpOptions = true,
        description = {"Checkpoint a training run at its next step boundary.",
            "Returns at once, or with --wait once the checkpoint is durable on disk."})
final class CheckpointCommand extends JvmCommand {
    @Option(names = "--wait", arity = "0..1", fallbackValue = "10m", paramLabel = "<timeout>",
            converter = Timeouts.class,
            description = "Wait until the checkpoint is durable, at most this long (default 10m): 500ms, 30s, 2m, 1h "
                    + "or plain seconds. Put it after the pid, or write --wait=30s.")
    Duration wait;

    @Override
    public Integer call() {
        try (Target target = Target.connect(pid)) {
            PauserMXBean p = target.pauser();
            if (wait == null) {
                p.checkpoint();
                out.print(Output.object("pid", pid, "requested", true, "step", p.getStep()),
                        "asked JVM " + pid + " for a checkpoint (last durable: step " + p.getLastCheckpointStep() + ")");
                return ExitCodes.OK;
            }
            CheckpointOutcome outcome = p.checkpointAndWaitForOutcome(wait.toMillis());
            switch (outcome.status()) {
                case TIMED_OUT:
                    throw new CliException(ExitCodes.TIMED_OUT, "JVM " + pid + ": " + outcome.message());
                case FAILED:
                    throw new CliException(ExitCodes.FAILED, "JVM " + pid + ": " + outcome.message());
                default:
                    break;
            }
            out.print(Output.object("pid", pid, "step", p.getLastCheckpointStep(), "path", p.getLastCheckpointPath(),
                    "bytes", p.getLastCheckpointBytes(), "result", outcome.message()), "JVM " + pid + ": "
                    + outcome.message());
            return ExitCodes.OK;
        }
    }
}
