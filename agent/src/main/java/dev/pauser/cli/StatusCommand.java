package dev.pauser.cli;

import dev.pauser.agent.contract.PauserMXBean;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the state of a training run: state, step, paused since, steps/s, trainer threads, "
                + "pauseAtStep, directory, agent version, last checkpoint, last error.")
final class StatusCommand extends JvmCommand {
    @Override
    public Integer call() {
        try (Target target = Target.connect(pid)) {
            PauserMXBean p = target.pauser();
            long pausedSince = p.getPausedSinceMillis();
            Map<String, Object> json = Output.object(
                    "pid", pid,
                    "state", p.getState(),
                    "step", p.getStep(),
                    "paused", p.isPaused(),
                    "pausedSinceMillis", pausedSince,
                    "stepsPerSecond", p.getStepsPerSecond(),
                    "trainerThreads", p.getTrainerThreads(),
                    "beforeFirstStep", p.isBeforeFirstStep(),
                    "pauseAtStep", p.getPauseAtStep(),
                    "directory", p.getDirectory(),
                    "pauseFile", p.getPauseFile(),
                    "onSignal", p.getOnSignal(),
                    "graceSeconds", p.getGraceSeconds(),
                    "version", p.getVersion(),
                    "lastCheckpointStep", p.getLastCheckpointStep(),
                    "lastCheckpointPath", p.getLastCheckpointPath(),
                    "checkpointEverySteps", p.getCheckpointEverySteps(),
                    "lastError", p.getLastError(),
                    "job", p.getJob(),
                    "jobRank", p.getJobRank(),
                    "jobCommittedStep", p.getJobCommittedStep());
            out.print(json, text(json, pausedSince));
        }
        return ExitCodes.OK;
    }

    private static String text(Map<String, Object> s, long pausedSince) {
        long pauseAt = (long) s.get("pauseAtStep");
        String since = pausedSince < 0 ? "-"
                : Instant.ofEpochMilli(pausedSince) + " (" + (System.currentTimeMillis() - pausedSince) / 1000 + " s ago)";
        String job = (String) s.get("job");
        String jobLines = job.isEmpty() ? "" : System.lineSeparator() + String.join(System.lineSeparator(),
                line("job", job + " (rank " + s.get("jobRank") + ")"),
                line("job committed", (long) s.get("jobCommittedStep") < 0 ? "-" : "step " + s.get("jobCommittedStep")));
        return String.join(System.lineSeparator(),
                line("pid", s.get("pid")),
                line("state", s.get("state") + ((boolean) s.get("beforeFirstStep")
                        ? " (" + PauserMXBean.BEFORE_FIRST_STEP + ")" : "")),
                line("step", s.get("step")),
                line("paused since", since),
                line("steps/s", String.format(Locale.ROOT, "%.1f", (double) s.get("stepsPerSecond"))),
                line("trainer threads", s.get("trainerThreads")),
                line("pause at step", pauseAt < 0 ? "-" : pauseAt),
                line("directory", s.get("directory")),
                line("pause file", s.get("pauseFile")),
                line("on signal", s.get("onSignal") + " (grace " + s.get("graceSeconds") + " s)"),
                line("agent version", s.get("version")),
                line("last checkpoint", (long) s.get("lastCheckpointStep") < 0 ? "-"
                        : "step " + s.get("lastCheckpointStep") + ": " + s.get("lastCheckpointPath")),
                line("checkpoint every", (long) s.get("checkpointEverySteps") <= 0 ? "-"
                        : s.get("checkpointEverySteps") + " steps"),
                line("last error", ((String) s.get("lastError")).isEmpty() ? "-" : s.get("lastError"))) + jobLines;
    }

    private static String line(String label, Object value) {
        return String.format(Locale.ROOT, "%-16s %s", label, value);
    }
}
