package dev.pauser.bench;

import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pause and resume latency, as a user sees them from the gate: {@code pauseAndWait} until every step thread is held
 * (state PAUSED), and {@code resume} until the first step body begins again. 1 and 4 step threads, steps of 100 µs and
 * 10 ms, each pause at a random moment of a step; p99 over the cycles of a run, one sample per run.
 *
 * <p>The calls go to the agent's MBean through the child JVM's own platform MBean server ({@link PauseLatencyTrainer}),
 * not over RMI: a remote JMX call costs a network round trip and serialization (hundreds of microseconds here) that
 * would drown the gate's own latency; the in-process call is the same MBean operation a JConsole or CLI user invokes,
 * minus the transport. The reference for the pause is one step as measured in the same run (the step body's time; a
 * pause waits for the step in flight to end).
 *
 * <p>Usage, from the repository root: {@code PauseLatencyBench [--runs 5] [--cycles 200] [--agent
 * agent/target/pauser.jar] [--smoke]}.
 */
public final class PauseLatencyBench {
    private static final Pattern RUN = Pattern.compile(
            "run (\\d+) pause-p99-ns (\\d+) resume-p99-ns (\\d+) step-median-ns (\\d+)");

    public static void main(String[] args) throws Exception {
        int runs = 5;
        int cycles = 200;
        Path agent = Paths.get("agent/target/pauser.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--smoke" -> {
                    runs = 1;
                    cycles = 5;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --runs N, --cycles N, --agent JAR, --smoke");
            }
        }
        if (!Files.isRegularFile(agent)) {
            throw new IllegalArgumentException("no agent jar at " + agent + "; build it: mvn -B -q package -DskipTests");
        }
        for (int threads : new int[] {1, 4}) {
            for (int stepMicros : new int[] {100, 10_000}) {
                measure(agent, threads, stepMicros, runs, cycles);
            }
        }
    }

    private static void measure(Path agent, int threads, int stepMicros, int runs, int cycles) throws Exception {
        Path dir = Files.createTempDirectory("pauser-pause-latency");
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-javaagent:" + agent.toAbsolutePath() + "=dir=" + dir.toAbsolutePath(),
                "-cp", absoluteClassPath(), PauseLatencyTrainer.class.getName(),
                "--threads", "" + threads, "--step-us", "" + stepMicros, "--runs", "" + runs, "--cycles", "" + cycles);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        List<double[]> rows = new ArrayList<>();
        StringBuilder output = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                output.append(line).append('\n');
                Matcher m = RUN.matcher(line);
                if (m.matches()) {
                    rows.add(new double[] {Long.parseLong(m.group(2)) / 1e6, Long.parseLong(m.group(3)) / 1e6,
                            Long.parseLong(m.group(4)) / 1e6});
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || rows.size() != runs) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + rc + " after " + rows.size() + " of "
                    + runs + " runs:\n" + output);
        }
        double[] pause = rows.stream().mapToDouble(r -> r[0]).toArray();
        double[] resume = rows.stream().mapToDouble(r -> r[1]).toArray();
        double[] step = rows.stream().mapToDouble(r -> r[2]).toArray();
        String row = threads + (threads == 1 ? " thread" : " threads") + ", steps of "
                + (stepMicros >= 1000 ? stepMicros / 1000 + " ms" : stepMicros + " µs") + ", p99";
        double oneStep = median(step);
        Figures.record(new Figure("pause latency", row, "ms", pause, "one step (measured)", step,
                Target.valueAtMost(oneStep + 0.1, "≤ one step + 0.1 ms")));
        Figures.record(new Figure("resume latency", row, "ms", resume, "-", new double[0],
                Target.valueAtMost(0.2, "≤ 0.2 ms")));
    }

    /** This JVM's class path with absolute entries: the child runs in a directory of its own. */
    private static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(e -> Paths.get(e).toAbsolutePath().toString())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
