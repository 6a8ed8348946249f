package dev.pauser.bench;

import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Per-step overhead with nothing requested: JMH runs {@link StepOverheadJmh} (a loop of a tiny {@code @TrainStep}) in
 * forks started with {@code -javaagent:} the built jar, then in as many forks without it (the reference, same run, same
 * machine), with JMH's GC profiler for the bytes allocated per step. One sample per fork; the added time per step is the
 * difference of the i-th forks. Usage, from the repository root: {@code StepOverheadBench [--forks 5] [--iterations 5]
 * [--agent agent/target/pauser.jar] [--smoke]} ({@code --smoke}: one short fork each).
 */
public final class StepOverheadBench {
    private static final String FIGURE = "per-step overhead, nothing requested";

    public static void main(String[] args) throws Exception {
        int forks = 5;
        int iterations = 5;
        TimeValue time = TimeValue.seconds(1);
        Path agent = Paths.get("agent/target/pauser.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--forks" -> forks = Integer.parseInt(args[++i]);
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--smoke" -> {
                    forks = 1;
                    iterations = 1;
                    time = TimeValue.milliseconds(200);
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --forks N, --iterations N, --agent JAR, --smoke");
            }
        }
        if (!Files.isRegularFile(agent)) {
            throw new IllegalArgumentException("no agent jar at " + agent + "; build it: mvn -B -q package -DskipTests");
        }
        Path dir = Files.createTempDirectory("pauser-step-overhead");
        List<BenchmarkResult> with = forks(options(forks, iterations, time)
                .jvmArgsAppend("-javaagent:" + agent.toAbsolutePath() + "=dir=" + dir.toAbsolutePath()));
        List<BenchmarkResult> without = forks(options(forks, iterations, time));
        double[] nsWith = scores(with);
        double[] nsWithout = scores(without);
        Figures.record(new Figure(FIGURE, "ns per step, tiny @TrainStep", "ns", nsWith,
                "same code without the agent", nsWithout, Target.report("report")));
        int n = Math.min(nsWith.length, nsWithout.length);
        double[] added = new double[n];
        for (int i = 0; i < n; i++) {
            added[i] = nsWith[i] - nsWithout[i];
        }
        Figures.record(new Figure(FIGURE, "time the agent adds per step (fork by fork)", "ns", added, "-",
                new double[0], Target.valueAtMost(1.5, "≤ 1.5 ns per step")));
        // Under half a byte per step is no allocation per step: JMH's normalised figure carries the harness's own few
        // bytes per iteration spread over millions of steps.
        Figures.record(new Figure(FIGURE, "bytes allocated per step (JMH -prof gc)", "B", allocated(with),
                "same code without the agent", allocated(without), Target.valueAtMost(0.5, "0 B/step")));
    }

    private static ChainedOptionsBuilder options(int forks, int iterations, TimeValue time) {
        return new OptionsBuilder()
                .include(StepOverheadJmh.class.getName() + ".steps")
                .forks(forks)
                .warmupIterations(iterations)
                .warmupTime(time)
                .measurementIterations(iterations)
                .measurementTime(time)
                .jvmArgs("-Xmx256m")
                .addProfiler(GCProfiler.class);
    }

    private static List<BenchmarkResult> forks(ChainedOptionsBuilder options) throws Exception {
        Collection<RunResult> runs = new Runner(options.build()).run();
        List<BenchmarkResult> forks = new ArrayList<>();
        for (RunResult r : runs) {
            forks.addAll(r.getBenchmarkResults());
        }
        if (forks.isEmpty()) {
            throw new IllegalStateException("JMH ran no fork of " + StepOverheadJmh.class.getName());
        }
        return forks;
    }

    private static double[] scores(List<BenchmarkResult> forks) {
        return forks.stream().mapToDouble(f -> f.getPrimaryResult().getScore()).toArray();
    }

    private static double[] allocated(List<BenchmarkResult> forks) {
        double[] bytes = new double[forks.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = Double.NaN;
            for (Map.Entry<String, Result> e : forks.get(i).getSecondaryResults().entrySet()) {
                if (e.getKey().endsWith("gc.alloc.rate.norm")) {
                    bytes[i] = e.getValue().getScore();
                }
            }
            if (Double.isNaN(bytes[i])) {
                throw new IllegalStateException("JMH's GC profiler gave no gc.alloc.rate.norm; it gave "
                        + forks.get(i).getSecondaryResults().keySet());
            }
        }
        return bytes;
    }
}
