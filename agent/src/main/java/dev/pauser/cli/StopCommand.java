package dev.pauser.cli;

import dev.pauser.agent.contract.RunState;
import java.lang.reflect.UndeclaredThrowableException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "stop", mixinStandardHelpOptions = true,
        description = {"Stop a training run: in-flight steps finish, the stop hook runs, the JVM exits with status 0.",
            "Returns once the stop is asked for, or with --wait once the JVM has exited."})
final class StopCommand extends JvmCommand {
    /** Added to the JVM's grace time for a bare --wait: the stop hook and the JVM's own shutdown take time too. */
    private static final Duration MARGIN = Duration.ofSeconds(30);

    @Option(names = "--wait", arity = "0..1", fallbackValue = "auto", paramLabel = "<timeout>",
            converter = Timeouts.class,
            description = "Wait until the JVM has exited, at most this long (default: its graceSeconds + 30s): "
                    + "500ms, 30s, 2m, 1h or plain seconds.")
    Duration wait;

    @Override
    public Integer call() throws InterruptedException {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        int graceSeconds;
        try (Target target = Target.connect(pid)) {
            graceSeconds = target.pauser().getGraceSeconds();
            try {
                target.pauser().stop();
            } catch (UndeclaredThrowableException e) {
                // The JVM may exit before the reply reaches us (no step in flight: the stop is quick); that is success.
                if (!exited(process, Duration.ofSeconds(2))) {
                    throw e;
                }
            }
        }
        if (wait == null) {
            out.print(Output.object("pid", pid, "state", RunState.STOPPING.name(), "exited", false),
                    "asked JVM " + pid + " to stop: in-flight steps finish, then it exits");
            return ExitCodes.OK;
        }
        Duration timeout = wait.equals(Timeouts.AUTO) ? Duration.ofSeconds(graceSeconds).plus(MARGIN) : wait;
        if (!exited(process, timeout)) {
            throw new CliException(ExitCodes.TIMED_OUT, "JVM " + pid + " was asked to stop but has not exited within "
                    + Timeouts.format(timeout));
        }
        out.print(Output.object("pid", pid, "state", "EXITED", "exited", true), "JVM " + pid + " has stopped and exited");
        return ExitCodes.OK;
    }

    private static boolean exited(Optional<ProcessHandle> process, Duration timeout) throws InterruptedException {
        if (process.isEmpty()) {
            return true;
        }
        try {
            process.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return !process.get().isAlive();
        }
    }
}
