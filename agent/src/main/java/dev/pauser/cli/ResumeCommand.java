package dev.pauser.cli;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.contract.RunState;
import picocli.CommandLine.Command;

@Command(name = "resume", mixinStandardHelpOptions = true,
        description = "Let a paused (or pausing) training run take steps again. Returns at once.")
final class ResumeCommand extends JvmCommand {
    /** How long to watch for the gate to leave PAUSED, so the state printed is the one resume leads to. */
    private static final long SETTLE_MILLIS = 2000;

    @Override
    public Integer call() throws InterruptedException {
        try (Target target = Target.connect(pid)) {
            PauserMXBean p = target.pauser();
            p.resume();
            // The gate's control thread reopens it a moment later; report the state after that, not before.
            String state = p.getState();
            long deadline = System.currentTimeMillis() + SETTLE_MILLIS;
            while ((RunState.PAUSED.is(state) || RunState.PAUSING.is(state)) && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
                state = p.getState();
            }
            if (RunState.STOPPING.is(state)) {
                throw new CliException(ExitCodes.FAILED, "JVM " + pid + " is stopping; resume has no effect");
            }
            long step = p.getStep();
            out.print(Output.object("pid", pid, "state", state, "step", step),
                    "JVM " + pid + " resumed at step " + step + " (state " + state + ")");
            return ExitCodes.OK;
        }
    }
}
