package dev.pauser.bench;

import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Agent start-up, whole process: {@code java -javaagent:pauser.jar -jar sample-app.jar --steps 0} against the same
 * command without the agent, interleaved run by run (after one warm-up of each, so both find the files in the page
 * cache), each in a fresh working directory so the agent finds no checkpoint to resume. Usage, from the repository
 * root: {@code StartupBench [--runs 11] [--agent agent/target/pauser.jar] [--app sample-app/target/sample-app.jar]
 * [--smoke]}.
 */
public final class StartupBench {
    public static void main(String[] args) throws Exception {
        int runs = 11;
        Path agent = Paths.get("agent/target/pauser.jar");
        Path app = Paths.get("sample-app/target/sample-app.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--app" -> app = Paths.get(args[++i]);
                case "--smoke" -> runs = 1;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --runs N, --agent JAR, --app JAR, --smoke");
            }
        }
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> plain = List.of(java, "-jar", app.toAbsolutePath().toString(), "--steps", "0");
        List<String> withAgent = List.of(java, "-javaagent:" + agent.toAbsolutePath(), "-jar",
                app.toAbsolutePath().toString(), "--steps", "0");
        timeMillis(plain);
        timeMillis(withAgent);
        double[] without = new double[runs];
        double[] with = new double[runs];
        for (int r = 0; r < runs; r++) {
            without[r] = timeMillis(plain);
            with[r] = timeMillis(withAgent);
        }
        Figures.record(new Figure("agent start-up", "sample-app.jar --steps 0, whole process", "ms", with,
                "same command without the agent", without, Target.report("report")));
        double[] added = new double[runs];
        for (int r = 0; r < runs; r++) {
            added[r] = with[r] - without[r];
        }
        Figures.record(new Figure("agent start-up", "time the agent adds (pairwise difference)", "ms", added, "-",
                new double[0], Target.valueAtMost(300, "≤ 300 ms (two cores)")));
    }

    /** One run in a fresh directory; fails loudly when the command fails, so no figure comes from a broken run. */
    private static double timeMillis(List<String> command) throws Exception {
        Path dir = Files.createTempDirectory("pauser-startup");
        try {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("out.txt").toFile()).start();
            int rc = p.waitFor();
            long nanos = System.nanoTime() - t0;
            if (rc != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited " + rc + ": "
                        + Files.readString(dir.resolve("out.txt")));
            }
            return nanos / 1e6;
        } finally {
            RawFiles.deleteTree(dir);
        }
    }
}
