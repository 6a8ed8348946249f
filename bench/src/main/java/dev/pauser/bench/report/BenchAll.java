package dev.pauser.bench.report;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs every harness, each in a JVM of its own, and writes their figures as one page ({@link ResultsPage}). Run from the
 * repository root after {@code mvn -B -q package -DskipTests} ({@code bench/run.sh} does both):
 * <pre>java -cp 'bench/target/pauser-bench-0.1.0.jar:bench/target/lib/*' dev.pauser.bench.report.BenchAll
 *     [--out bench/RESULTS.md] [--only checkpoint,step] [--smoke]</pre>
 * A harness that fails is named on the page and in the exit status (1); the others still run.
 */
public final class BenchAll {

    /** Every harness, in the order of the targets table. */
    static final List<Harness> HARNESSES = List.of(
            new Harness("step", "dev.pauser.bench.StepOverheadBench", List.of("--forks", "5", "--iterations", "5")),
            new Harness("pause", "dev.pauser.bench.PauseLatencyBench", List.of("--runs", "5", "--cycles", "200")),
            new Harness("checkpoint", "dev.pauser.bench.CheckpointBench",
                    List.of("--sizes", "1,100,1024,4096", "--jvms", "5", "--later", "3")),
            new Harness("write", "dev.pauser.bench.WriteBench", List.of("--mb", "100,1024", "--runs", "5")),
            new Harness("byhand", "dev.pauser.bench.ByHandBench", List.of("--mb", "100", "--runs", "5")),
            new Harness("restore", "dev.pauser.bench.RestoreBench", List.of("--mb", "100,1024", "--runs", "5")),
            new Harness("slowdown", "dev.pauser.bench.SlowdownBench", List.of("--runs", "5", "--steps", "30000")),
            new Harness("startup", "dev.pauser.bench.StartupBench", List.of("--runs", "11"))
    );

    public static void main(String[] args) throws Exception {
        Path out = Paths.get("bench/RESULTS.md");
        Path root = Paths.get(".");
        Set<String> only = new LinkedHashSet<>();
        boolean smoke = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Paths.get(value(args, ++i));
                case "--root" -> root = Paths.get(value(args, ++i));
                case "--only" -> only.addAll(Arrays.asList(value(args, ++i).split(",")));
                case "--smoke" -> smoke = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --out FILE, --root DIR, --only NAME,NAME, --smoke");
            }
        }
        for (String name : only) {
            if (HARNESSES.stream().noneMatch(h -> h.name().equals(name))) {
                throw new IllegalArgumentException("no harness '" + name + "'; harnesses: "
                        + HARNESSES.stream().map(Harness::name).toList());
            }
        }
        System.exit(run(root, out, only, smoke).failed().isEmpty() ? 0 : 1);
    }

    /** What a run of the harnesses gave: the figures, how many each harness recorded, and the harnesses that failed. */
    record Outcome(List<Figure> figures, Map<String, Integer> figuresByHarness, List<String> failed) {
    }

    /** Runs the harnesses and writes the page. */
    static Outcome run(Path root, Path out, Set<String> only, boolean smoke) throws Exception {
        Path results = Files.createTempFile("pauser-bench", ".tsv");
        Instant started = Instant.now();
        List<String> failed = new ArrayList<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Harness h : HARNESSES) {
            if (!only.isEmpty() && !only.contains(h.name())) {
                continue;
            }
            List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                    "-D" + Figures.RESULTS_PROPERTY + "=" + results.toAbsolutePath(),
                    "-cp", System.getProperty("java.class.path"), h.mainClass()));
            cmd.addAll(smoke ? List.of("--smoke") : h.args());
            System.out.println("== " + h.name() + ": " + String.join(" ", cmd.subList(3, cmd.size())));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).directory(root.toFile()).inheritIO().start();
            int rc = p.waitFor();
            System.out.printf("== %s: exit %d after %d s%n", h.name(), rc, Duration.ofNanos(System.nanoTime() - t0).toSeconds());
            if (rc != 0) {
                failed.add(h.name() + " (exit " + rc + ")");
            }
            counts.put(h.name(), Figures.read(results).size() - counts.values().stream().mapToInt(Integer::intValue).sum());
        }
        List<Figure> figures = Figures.read(results);
        Files.delete(results);
        String command = "java -cp ... " + BenchAll.class.getName() + (smoke ? " --smoke" : "")
                + (only.isEmpty() ? "" : " --only " + String.join(",", only));
        String page = ResultsPage.render(figures, failed, command, started, Instant.now(), root.toAbsolutePath());
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, page);
        System.out.println("wrote " + out + (failed.isEmpty() ? "" : "; failed: " + failed));
        return new Outcome(figures, counts, failed);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
