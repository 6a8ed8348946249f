package dev.pauser.cli;

import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.CheckpointNames;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.Visible;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pauser check-resume -- java ...}: runs the program straight to step k+n, and again stopped at step k and
 * resumed to k+n, each time under the agent with {@code stopAtStep} and a scratch checkpoint directory, then compares
 * the two checkpoints of step k+n. Runs on the command's main thread; the program runs in child processes.
 */
@Command(name = "check-resume", mixinStandardHelpOptions = true,
        customSynopsis = "pauser check-resume [--at <k>] [--then <n>] [--work <dir>] [--timeout <duration>] [--json] "
                + "-- java [options] <main class or -jar app.jar> [args]",
        description = {"Check that a program resumes exactly. Runs it three times under the agent: straight",
            "through to step k+n; to step k; and resumed from that checkpoint to step k+n. Then compares",
            "the two checkpoints of step k+n field by field (tensors byte by byte, values as JSON).",
            "Prints \"resume is exact\" (exit 0), or the fields that differ and what that suggests",
            "(exit 7). Each run's output goes to a log file in the work directory."})
final class CheckResumeCommand implements Callable<Integer> {
    @Option(names = "--at", paramLabel = "<k>", defaultValue = "20",
            description = "The step to stop at and resume from (default ${DEFAULT-VALUE}).")
    long at;

    @Option(names = "--then", paramLabel = "<n>", defaultValue = "20",
            description = "Steps to run after the resume; the checkpoints of step k+n are compared "
                    + "(default ${DEFAULT-VALUE}).")
    long then;

    @Option(names = "--work", paramLabel = "<dir>",
            description = "Where the runs' checkpoints and logs go (a new directory, or an empty one). Default: a new "
                    + "directory in the temporary directory, removed when the resume is exact.")
    Path work;

    @Option(names = "--timeout", paramLabel = "<duration>", defaultValue = "30m", converter = Timeouts.class,
            description = "How long each run may take (default ${DEFAULT-VALUE}): 90s, 10m, 1h.")
    Duration timeout;

    @Parameters(paramLabel = "<java command>", arity = "1..*",
            description = "The program, after --: java [options] <main class or -jar app.jar> [args]. A "
                    + "-javaagent:pauser.jar=... in it is kept, with its options; otherwise this pauser.jar is added.")
    List<String> command;

    @Mixin
    Output out;

    @Override
    public Integer call() {
        if (at < 1 || then < 1) {
            throw new CliException(ExitCodes.USAGE, "--at and --then must be 1 or more (got --at " + at
                    + " --then " + then + ")");
        }
        if (timeout.isNegative()) {
            throw new CliException(ExitCodes.USAGE, "--timeout needs a duration such as 10m");
        }
        AgentCommandLine program = AgentCommandLine.of(command, Jvms.ownJar());
        boolean madeWork = work == null;
        Path dir = workDirectory();
        long end = at + then;
        Path straight = dir.resolve("straight");
        Path resumed = dir.resolve("resumed");

        Path endStraight = run(program, 1, "straight through to step " + end, straight, "never", end, "straight.log");
        Path stopped = run(program, 2, "to step " + at, resumed, "never", at, "first-part.log");
        Path endResumed = run(program, 3, "resumed from step " + at + " to step " + end, resumed,
                stopped.toString(), end, "resumed.log");

        CheckpointComparison c;
        try {
            c = new CheckpointComparison(load(endStraight), load(endResumed), at, () -> load(stopped));
        } catch (CheckpointException e) {
            throw new CliException(ExitCodes.FAILED, Jvms.oneLine(e));
        }
        report(c, end, dir, endStraight, endResumed);
        if (c.exact()) {
            if (madeWork) {
                delete(dir);
            }
            return ExitCodes.OK;
        }
        return ExitCodes.NOT_EXACT;
    }

    private void report(CheckpointComparison c, long end, Path dir, Path endStraight, Path endResumed) {
        List<Object> diffs = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        if (c.exact()) {
            text.append("resume is exact: the ").append(c.fields()).append(" fields of step ").append(end)
                    .append(" are identical");
        } else {
            text.append("resume is not exact: ").append(c.differences().size()).append(" of ").append(c.fields())
                    .append(" fields differ at step ").append(end).append(":\n");
            for (CheckpointComparison.Difference d : c.differences()) {
                // keys and values come from the checkpoints: one line each, nothing the terminal would act on
                text.append("  ").append(Visible.of(d.key())).append(" (").append(Visible.of(d.type())).append("): ")
                        .append(Visible.of(d.detail())).append('\n');
                diffs.add(Output.object("key", d.key(), "type", d.type(), "detail", d.detail()));
            }
            text.append("likely causes:\n");
            for (String cause : c.likelyCauses()) {
                text.append("  - ").append(Visible.of(cause)).append('\n');
            }
            text.append("the checkpoints compared: ").append(endStraight).append(" and ").append(endResumed);
        }
        out.print(Output.object("exact", c.exact(), "step", end, "fields", c.fields(), "differences", diffs,
                "likelyCauses", c.likelyCauses(), "work", c.exact() && work == null ? "" : dir.toString()),
                text.toString());
    }

    /**
     * Runs the program once under the agent, to stop at {@code stopAt} with a checkpoint there, and returns that
     * checkpoint. A run that fails, hangs, or ends without it stops the check (exit 8) with the end of its output.
     */
    private Path run(AgentCommandLine program, int index, String what, Path checkpoints, String resume, long stopAt,
            String logName) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("dir", checkpoints.toString());
        options.put("resume", resume);
        options.put("stopAtStep", Long.toString(stopAt));
        // Only the stop writes a checkpoint, and nothing the user's settings ask for pauses the run or drops the
        // checkpoint the second part resumes from.
        options.put("pauseAtStep", "");
        options.put("every", "");
        options.put("interval", "");
        options.put("keep", "3");
        options.put("onMismatch", "fail");
        List<String> cmd = program.with(options);
        Path log = checkpoints.getParent().resolve(logName);
        progress("run " + index + " of 3: " + what + " (output: " + log + ")");
        int exit;
        try {
            Files.createDirectories(checkpoints);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroy();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                throw runFailed(index, what, log, "did not end within " + Timeouts.format(timeout)
                        + " (raise --timeout for slow programs)");
            }
            exit = p.exitValue();
        } catch (IOException e) {
            throw new CliException(ExitCodes.RUN_FAILED, "cannot start '" + cmd.get(0) + "': " + Jvms.oneLine(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.RUN_FAILED, "interrupted while waiting for run " + index);
        }
        if (exit != 0) {
            throw runFailed(index, what, log, "exited with status " + exit);
        }
        Path ckpt = checkpoints.resolve(CheckpointNames.dirName(stopAt));
        if (!Files.isDirectory(ckpt)) {
            long last = newestStep(checkpoints);
            throw runFailed(index, what, log, last < 0
                    ? "wrote no checkpoint: no @TrainStep method ran (see its output)"
                    : last > stopAt
                    ? "stopped at step " + last + ", past step " + stopAt + ": several threads ran steps at once, "
                    + "so the runs' steps can't be matched"
                    : "ended at step " + last + " without reaching step " + stopAt + " (its last checkpoint; give it "
                    + "more steps, or smaller --at and --then)");
        }
        progress("run " + index + " of 3: stopped at step " + stopAt);
        return ckpt;
    }

    private CliException runFailed(int index, String what, Path log, String problem) {
        if (!out.json) {
            PrintWriter w = out.command.commandLine().getOut();
            w.println("last lines of " + log + ":");
            for (String line : lastLines(log, 15)) {
                w.println("  | " + Visible.of(line));
            }
            w.flush();
        }
        return new CliException(ExitCodes.RUN_FAILED, "run " + index + " (" + what + ") " + problem + "; its output: "
                + log);
    }

    private void progress(String line) {
        if (!out.json) {
            PrintWriter w = out.command.commandLine().getOut();
            w.println(line);
            w.flush();
        }
    }

    private Path workDirectory() {
        try {
            if (work == null) {
                Path t = Files.createTempDirectory("pauser-check-resume-");
                if (t.toString().contains(",")) {
                    Files.delete(t);
                    throw new CliException(ExitCodes.USAGE, "the temporary directory " + t.getParent() + " has a comma "
                            + "in its path, which the agent's options can't hold; give --work <dir>");
                }
                return t;
            }
            Path w = work.toAbsolutePath().normalize();
            if (w.toString().contains(",")) {
                // the directory goes into the agent's options, which are separated by commas
                throw new CliException(ExitCodes.USAGE, "--work " + work + ": a path with a comma can't be given to "
                        + "the agent; choose another directory");
            }
            if (Files.exists(w)) {
                boolean empty;
                if (Files.isDirectory(w)) {
                    try (Stream<Path> s = Files.list(w)) {
                        empty = s.findAny().isEmpty();
                    }
                } else {
                    empty = false;
                }
                if (!empty) {
                    throw new CliException(ExitCodes.USAGE, "--work " + work + " must be a new or empty directory");
                }
            }
            Files.createDirectories(w);
            return w;
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILED, "cannot make the work directory: " + Jvms.oneLine(e));
        }
    }

    private static LoadedCheckpoint load(Path ckpt) throws CheckpointException {
        return CheckpointReader.load(ckpt);
    }

    private static long newestStep(Path dir) {
        try {
            List<Path> found = CheckpointReader.resolve(dir);
            return found.isEmpty() ? -1 : CheckpointReader.readManifest(found.get(0)).step();
        } catch (IOException e) {
            return -1;
        }
    }

    private static List<String> lastLines(Path log, int n) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return all.subList(Math.max(0, all.size() - n), all.size());
        } catch (IOException | UncheckedIOException e) {
            return List.of("(cannot read it: " + Jvms.oneLine(e) + ")");
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a scratch directory left behind is no failure of the check
        }
    }
}
