package dev.pauser.cli;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.contract.RunState;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "pause", mixinStandardHelpOptions = true,
        description = {"Pause a training run at the next step boundary of every trainer thread.",
            "Returns at once (state PAUSING or PAUSED), or with --wait once the pause has taken effect."})
final class PauseCommand extends JvmCommand {
    @Option(names = "--wait", arity = "0..1", fallbackValue = "60s", paramLabel = "<timeout>",
            converter = Timeouts.class,
            description = "Wait until PAUSED, at most this long (default 60s): 500ms, 30s, 2m, 1h or plain seconds. "
                    + "Put it after the pid, or write --wait=30s.")
    Duration wait;

    @Override
    public Integer call() {
        try (Target target = Target.connect(pid)) {
            PauserMXBean p = target.pauser();
            if (wait == null) {
                p.pause();
                String state = p.getState();
                boolean beforeFirst = p.isBeforeFirstStep();
                out.print(Output.object("pid", pid, "state", state, "step", p.getStep(), "beforeFirstStep", beforeFirst),
                        "asked JVM " + pid + " to pause (state " + state
                                + (beforeFirst ? "; " + PauserMXBean.BEFORE_FIRST_STEP : "") + ")");
                return ExitCodes.OK;
            }
            String state = p.pauseAndWait(wait.toMillis());
            long step = p.getStep();
            if (RunState.STOPPING.is(state)) {
                throw new CliException(ExitCodes.FAILED, "JVM " + pid + " is stopping; it will not pause");
            }
            if (!RunState.PAUSED.is(state)) {
                // The request stays: the run pauses at its next boundary unless resumed.
                throw new CliException(ExitCodes.TIMED_OUT, "JVM " + pid + " did not pause within "
                        + Timeouts.format(wait) + " (state " + state + ", a step is still running); "
                        + "the pause stays requested, pauser resume " + pid + " withdraws it");
            }
            if (p.isBeforeFirstStep()) {
                // Nothing is held: say so, and what it means when the program is training all the same.
                out.print(Output.object("pid", pid, "state", state, "step", step, "beforeFirstStep", true),
                        "JVM " + pid + " is PAUSED " + PauserMXBean.BEFORE_FIRST_STEP + PauserMXBean.NOTHING_HELD
                                + "; the first step will wait. "
                                + "If it is training now, its step method is not instrumented (see Troubleshooting)");
                return ExitCodes.OK;
            }
            out.print(Output.object("pid", pid, "state", state, "step", step, "beforeFirstStep", false),
                    "JVM " + pid + " is PAUSED at step " + step);
            return ExitCodes.OK;
        }
    }
}
