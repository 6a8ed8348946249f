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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Start-up of the command line, whole commands: how long {@code pauser list} and {@code pauser status <pid>} take
 * (process start to exit) with the JVM flags of the {@code bin/pauser} launcher, next to the same commands as plain
 * {@code java -jar pauser.jar} (the reference), measured in this run, interleaved round by round so both see the same
 * machine load. A child JVM under the agent (a 1 MiB trainer) is the JVM they list and query.
 *
 * <p>Usage (after {@code mvn -B -q package -DskipTests}, from the repository root):
 * <pre>java -cp bench/target/classes:runtime/target/classes dev.pauser.bench.CliStartBench [--runs 7]
 *     [--agent agent/target/pauser.jar] [--launcher dist/src/bin/pauser] [--dist dist/target/pauser]</pre>
 * The launcher's flags are read from its {@code exec} line, so the figures are of what it runs. With {@code --dist}
 * (an unpacked distribution), {@code bin/pauser} itself is timed too, shell included.
 */
public final class CliStartBench {
    public static void main(String[] args) throws Exception {
        int runs = 7;
        Path agent = Paths.get("agent/target/pauser.jar");
        Path launcher = Paths.get("dist/src/bin/pauser");
        Path dist = Paths.get("dist/target/pauser");
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--runs": runs = Integer.parseInt(args[i + 1]); break;
                case "--agent": agent = Paths.get(args[i + 1]); break;
                case "--launcher": launcher = Paths.get(args[i + 1]); break;
                case "--dist": dist = Paths.get(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String javaHome = System.getProperty("java.home");
        String java = Paths.get(javaHome, "bin", "java").toString();
        List<String> launcherFlags = launcherFlags(launcher);

        Map<String, List<String>> variants = new LinkedHashMap<>();
        variants.put("java -jar pauser.jar (reference)", List.of(java, "-jar", agent.toString()));
        List<String> withFlags = new ArrayList<>(List.of(java));
        withFlags.addAll(launcherFlags);
        withFlags.addAll(List.of("-jar", agent.toString()));
        variants.put("java " + String.join(" ", launcherFlags) + " -jar", withFlags);
        if (Files.isExecutable(dist.resolve("bin/pauser"))) {
            variants.put("bin/pauser (sh + the same)", List.of(dist.resolve("bin/pauser").toString()));
        }

        String cp = codeSource(CliStartBench.class) + File.pathSeparator + codeSource(dev.pauser.TrainStep.class);
        Path ckptDir = Files.createTempDirectory("pauser-cli-bench");
        Process child = new ProcessBuilder(java, "-javaagent:" + agent.toAbsolutePath() + "=dir=" + ckptDir + ",log=warning",
                "-cp", cp, BigStateTrainer.class.getName(), "1").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("ready")) {
                System.out.println("child: " + line);
            }
            String pid = Long.toString(child.pid());
            Map<String, long[]> listMs = new LinkedHashMap<>();
            Map<String, long[]> statusMs = new LinkedHashMap<>();
            for (String k : variants.keySet()) {
                listMs.put(k, new long[runs]);
                statusMs.put(k, new long[runs]);
            }
            for (int r = -1; r < runs; r++) {  // round -1 warms the page cache and is not counted
                for (Map.Entry<String, List<String>> v : variants.entrySet()) {
                    long l = timeMillis(v.getValue(), javaHome, "list");
                    long s = timeMillis(v.getValue(), javaHome, "status", pid);
                    if (r >= 0) {
                        listMs.get(v.getKey())[r] = l;
                        statusMs.get(v.getKey())[r] = s;
                    }
                }
            }
            System.out.printf(Locale.ROOT, "Java %s, %d runs each, median ms (and all runs):%n",
                    System.getProperty("java.version"), runs);
            String reference = variants.keySet().iterator().next();
            for (String k : variants.keySet()) {
                System.out.printf(Locale.ROOT, "  %-58s list %4d (%3.0f%%)   status %4d (%3.0f%%)   %s %s%n", k,
                        median(listMs.get(k)), 100.0 * median(listMs.get(k)) / median(listMs.get(reference)),
                        median(statusMs.get(k)), 100.0 * median(statusMs.get(k)) / median(statusMs.get(reference)),
                        Arrays.toString(sorted(listMs.get(k))), Arrays.toString(sorted(statusMs.get(k))));
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
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

    private static long timeMillis(List<String> command, String javaHome, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("JAVA_HOME", javaHome);
        long start = System.nanoTime();
        int exit = pb.start().waitFor();
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (exit != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + exit);
        }
        return ms;
    }

    private static long[] sorted(long[] a) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s;
    }

    private static long median(long[] a) {
        return sorted(a)[a.length / 2];
    }

    private static String codeSource(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
