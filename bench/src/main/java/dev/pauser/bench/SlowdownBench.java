package dev.pauser.bench;

import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Training slowdown: the sample app ({@code sample-app.jar}, CPU) trained for {@code --steps} steps under
 * {@code -javaagent:pauser.jar=every=100} (a checkpoint every 100 steps, written in the background) against the same
 * command without the agent, interleaved run by run after one warm-up of each, each in a fresh working directory so the
 * agent resumes nothing.
 *
 * <p>Steps per second over the whole run are read from the app's own progress lines ({@code step N/M ... steps/s R},
 * one per {@code --log-every} steps): the training time is the sum of each window's steps divided by its rate, so JVM
 * start-up (the {@code startup} harness's figure) and the test-set evaluation printed with each line stay out, while
 * every step, every checkpoint's stall and whatever the background writes take from the training thread's CPU stay
 * in. Usage, from the repository root: {@code SlowdownBench [--runs 7] [--steps 3000] [--every 100]
 * [--agent agent/target/pauser.jar] [--app sample-app/target/sample-app.jar] [--smoke]}.
 */
public final class SlowdownBench {
    private static final Pattern PROGRESS = Pattern.compile("^step (\\d+)/\\d+ .* steps/s ([0-9.]+)$");

    public static void main(String[] args) throws Exception {
        int runs = 7;
        int steps = 3000;
        int every = 100;
        Path agent = Paths.get("agent/target/pauser.jar");
        Path app = Paths.get("sample-app/target/sample-app.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--every" -> every = Integer.parseInt(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--app" -> app = Paths.get(args[++i]);
                case "--smoke" -> {
                    runs = 1;
                    steps = 200;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --runs N, --steps N, --every N, --agent JAR, --app JAR, --smoke");
            }
        }
        int logEvery = Math.max(1, steps / 12);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> trainArgs = List.of("-jar", app.toAbsolutePath().toString(), "--steps", Integer.toString(steps),
                "--log-every", Integer.toString(logEvery));
        List<String> plain = new ArrayList<>(List.of(java));
        plain.addAll(trainArgs);
        List<String> withAgent = new ArrayList<>(List.of(java, "-javaagent:" + agent.toAbsolutePath() + "=every=" + every));
        withAgent.addAll(trainArgs);
        stepsPerSecond(plain, steps);
        stepsPerSecond(withAgent, steps);
        double[] without = new double[runs];
        double[] with = new double[runs];
        for (int r = 0; r < runs; r++) {
            without[r] = stepsPerSecond(plain, steps);
            with[r] = stepsPerSecond(withAgent, steps);
            System.out.printf(Locale.ROOT, "run %d: %.1f steps/s with the agent, %.1f without%n", r + 1, with[r],
                    without[r]);
        }
        Figures.record(new Figure("training slowdown", "sample app, every=" + every + ", " + steps + " steps",
                "steps/s", with, "same run without the agent", without, Target.ratioAtLeast(0.99, "≤ 1%")));
    }

    /** One whole run in a fresh directory: steps per second of its training, from its progress lines. */
    private static double stepsPerSecond(List<String> command, int steps) throws Exception {
        Path dir = Files.createTempDirectory("pauser-slowdown");
        try {
            // Apart: the agent's lines (standard error) would otherwise land in the middle of the app's progress lines.
            Process p = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile())
                    .start();
            int rc = p.waitFor();
            List<String> lines = Files.readAllLines(dir.resolve("out.txt"));
            if (rc != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited " + rc + ": "
                        + String.join(System.lineSeparator(), lines) + System.lineSeparator()
                        + Files.readString(dir.resolve("err.txt")));
            }
            return trainingRate(lines, steps, String.join(" ", command));
        } finally {
            RawFiles.deleteTree(dir);
        }
    }

    /**
     * Steps per second over the progress lines: every step is in exactly one window, from the previous line (or the
     * start) to its own, and the window took its steps over its rate.
     */
    static double trainingRate(List<String> lines, int steps, String command) {
        long previous = 0;
        double seconds = 0;
        for (String line : lines) {
            Matcher m = PROGRESS.matcher(line.trim());
            if (m.matches()) {
                long step = Long.parseLong(m.group(1));
                seconds += (step - previous) / Double.parseDouble(m.group(2));
                previous = step;
            }
        }
        if (previous != steps || seconds <= 0) {
            throw new IllegalStateException(command + " did not report " + steps + " steps of progress (last step "
                    + previous + "): " + String.join(System.lineSeparator(), lines));
        }
        return steps / seconds;
    }
}
