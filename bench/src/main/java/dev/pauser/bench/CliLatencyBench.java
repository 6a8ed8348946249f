package dev.pauser.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long one {@code pauser status <pid>} takes, whole command (JVM start to exit), next to {@code jcmd <pid> VM.version}
 * measured in the same run against the same target JVM: both start a JVM, attach and ask one question. A child JVM
 * under the agent runs a small trainer; the harness then runs each command {@code --runs} times, interleaved (so load
 * from other work on the machine hits both alike), after one unmeasured warm-up each, and prints the median and range
 * of each and the ratio of medians to jcmd. Variants of the pauser command: plain {@code java -jar}, with the JVM
 * flags of the {@code bin/pauser} launcher (read from its {@code exec} line, so the figures are of what it runs),
 * {@code bin/pauser} itself (shell included) where the distribution is unpacked, and the launcher's flags plus an
 * application class-data archive made in this run.
 *
 * <p>Usage (after {@code mvn -B -q package -DskipTests}, from the repository root):
 * <pre>java -cp bench/target/classes:runtime/target/classes dev.pauser.bench.CliLatencyBench [--runs 15]
 *     [--agent agent/target/pauser.jar] [--launcher dist/src/bin/pauser] [--dist dist/target/pauser]</pre>
 */
public final class CliLatencyBench {
    public static void main(String[] args) throws Exception {
        int runs = 15;
        Path agent = Paths.get("agent/target/pauser.jar");
        Path launcher = Paths.get("dist/src/bin/pauser");
        Path dist = Paths.get("dist/target/pauser");
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--runs": runs = Integer.parseInt(args[i + 1]); break;
                case "--agent": agent = Paths.get(args[i + 1]); break;
                case "--launcher": launcher = Paths.get(args[i + 1]); break;
                case "--dist": dist = Paths.get(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--runs, --agent, --launcher, --dist)");
            }
        }
        List<String> launcherFlags = launcherFlags(launcher);
        String jar = agent.toAbsolutePath().toString();
        Path home = Paths.get(System.getProperty("java.home"));
        String java = home.resolve("bin/java").toString();
        String jcmd = home.resolve("bin/jcmd").toString();
        Path work = Files.createTempDirectory("pauser-cli-bench");
        String cp = codeSource(CliLatencyBench.class) + File.pathSeparator + codeSource(dev.pauser.TrainStep.class);
        Process child = new ProcessBuilder(java, "-javaagent:" + jar + "=dir=" + work.resolve("ckpt") + ",log=warning",
                "-cp", cp, BigStateTrainer.class.getName(), "1").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("ready")) {
                System.out.println("child: " + line);
            }
            String pid = Long.toString(child.pid());
            Path archive = work.resolve("pauser.jsa");
            List<String> archiving = new ArrayList<>(List.of(java));
            archiving.addAll(launcherFlags);
            archiving.addAll(List.of("-XX:ArchiveClassesAtExit=" + archive, "-jar", jar, "status", pid));
            run(archiving);

            Map<String, List<String>> commands = new LinkedHashMap<>();
            commands.put("jcmd <pid> VM.version", List.of(jcmd, pid, "VM.version"));
            commands.put("java -jar pauser.jar status <pid>", List.of(java, "-jar", jar, "status", pid));
            List<String> flagged = new ArrayList<>(List.of(java));
            flagged.addAll(launcherFlags);
            flagged.addAll(List.of("-jar", jar, "status", pid));
            commands.put("  with " + String.join(" ", launcherFlags), flagged);
            if (Files.isExecutable(dist.resolve("bin/pauser"))) {
                commands.put("  as bin/pauser (sh + the same)", List.of(dist.resolve("bin/pauser").toString(),
                        "status", pid));
            }
            List<String> archived = new ArrayList<>(List.of(java));
            archived.addAll(launcherFlags);
            archived.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-jar", jar, "status", pid));
            commands.put("  and -XX:SharedArchiveFile (AppCDS)", archived);

            Map<String, long[]> millis = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> c : commands.entrySet()) {
                run(c.getValue()); // warm-up: the target's attach listener starts on the first attach
                millis.put(c.getKey(), new long[runs]);
            }
            for (int r = 0; r < runs; r++) {
                for (Map.Entry<String, List<String>> c : commands.entrySet()) {
                    millis.get(c.getKey())[r] = run(c.getValue());
                }
            }
            double jcmdMedian = median(millis.get("jcmd <pid> VM.version"));
            System.out.printf(Locale.ROOT, "%d runs each, interleaved, against one JVM under the agent (%s):%n", runs,
                    System.getProperty("java.version"));
            for (Map.Entry<String, long[]> m : millis.entrySet()) {
                long[] v = m.getValue().clone();
                Arrays.sort(v);
                System.out.printf(Locale.ROOT, "%-42s median %5.0f ms  range %4d-%4d ms  %.2fx jcmd%n", m.getKey(),
                        median(v), v[0], v[v.length - 1], median(v) / jcmdMedian);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The JVM flags between {@code "$java"} and {@code -jar} on the launcher's {@code exec} line. */
    static List<String> launcherFlags(Path launcher) throws Exception {
        Matcher m = Pattern.compile("(?m)^exec \"\\$java\" (.*?) -jar ").matcher(Files.readString(launcher));
        if (!m.find()) {
            throw new IllegalStateException(launcher + " has no line 'exec \"$java\" <flags> -jar ...'");
        }
        return List.of(m.group(1).trim().split("\\s+"));
    }

    /** Runs a command to its end and returns its wall time in milliseconds; fails on a non-zero exit. */
    private static long run(List<String> command) throws Exception {
        long start = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home")); // bin/pauser runs this JDK too
        Process p = pb.start();
        byte[] output = p.getInputStream().readAllBytes();
        int status = p.waitFor();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (status != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + status + ":\n"
                    + new String(output, StandardCharsets.UTF_8));
        }
        return ms;
    }

    private static double median(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    }

    private static String codeSource(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
