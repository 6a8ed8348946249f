package dev.pauser.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;

/**
 * Checkpoint cost, whole run: a child JVM under the agent holds {@code --mb} MiB of {@code @TrainState}; the harness asks
 * it for {@code --runs} checkpoints over JMX and prints, next to references measured in this same run on this same
 * machine and directory:
 * <ul>
 * <li>how long training was held (the capture into staging) vs {@code System.arraycopy} of the same bytes;</li>
 * <li>how long until the checkpoint was durable vs a raw {@code FileChannel} write + {@code force} of the same bytes.</li>
 * </ul>
 * Usage (after {@code mvn -B -q package -DskipTests}, from the repository root):
 * <pre>java -cp bench/target/classes:runtime/target/classes dev.pauser.bench.CheckpointBench [--mb 512] [--runs 5]
 *     [--dir /tmp/pauser-bench] [--agent agent/target/pauser.jar] [--async true]</pre>
 */
public final class CheckpointBench {
    public static void main(String[] args) throws Exception {
        int mb = 512;
        int runs = 5;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "pauser-bench");
        Path agent = Paths.get("agent/target/pauser.jar");
        String async = "true";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--mb": mb = Integer.parseInt(args[i + 1]); break;
                case "--runs": runs = Integer.parseInt(args[i + 1]); break;
                case "--dir": dir = Paths.get(args[i + 1]); break;
                case "--agent": agent = Paths.get(args[i + 1]); break;
                case "--async": async = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        long bytes = (long) mb << 20;
        Files.createDirectories(dir);
        double copyGBs = arraycopyGBs(bytes);
        double rawMBs = rawWriteMBs(dir.resolve("raw.bin"), bytes);

        Path ckptDir = dir.resolve("ckpt");
        deleteTree(ckptDir);
        String cp = codeSource(CheckpointBench.class) + java.io.File.pathSeparator + codeSource(dev.pauser.TrainStep.class);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx" + (mb * 4 + 512) + "m",
                "-javaagent:" + agent.toAbsolutePath() + "=dir=" + ckptDir + ",keep=2,async=" + async + ",log=warning",
                "-cp", cp, BigStateTrainer.class.getName(), Integer.toString(mb))
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("ready")) {
                System.out.println("child: " + line);
            }
            List<long[]> samples = new ArrayList<>();
            try (JMXConnector c = LocalJmx.connect(child.pid())) {
                MBeanServerConnection jmx = c.getMBeanServerConnection();
                ObjectName pauser = new ObjectName("dev.pauser:type=Pauser");
                for (int r = 0; r < runs + 1; r++) {
                    Thread.sleep(200); // let a few steps run, so each checkpoint has new state
                    String result = (String) jmx.invoke(pauser, "checkpointAndWait", new Object[] {600_000L},
                            new String[] {"long"});
                    if (result.startsWith("checkpoint failed")) {
                        throw new IllegalStateException(result);
                    }
                    long stall = (Long) jmx.getAttribute(pauser, "LastCheckpointStallMillis");
                    long total = (Long) jmx.getAttribute(pauser, "LastCheckpointMillis");
                    long written = (Long) jmx.getAttribute(pauser, "LastCheckpointBytes");
                    if (r > 0) { // the first one grows and touches the staging buffers
                        samples.add(new long[] {stall, total, written});
                    }
                }
            }
            long[] stalls = samples.stream().mapToLong(s -> s[0]).sorted().toArray();
            long[] totals = samples.stream().mapToLong(s -> s[1]).sorted().toArray();
            long written = samples.get(0)[2];
            double stallMs = Math.max(stalls[stalls.length / 2], 1);
            double totalMs = Math.max(totals[totals.length / 2], 1);
            System.out.printf(Locale.ROOT, "state %d MiB, %d checkpoints (async=%s), medians:%n", mb, samples.size(), async);
            System.out.printf(Locale.ROOT, "  training held    %7.0f ms  = %6.2f GB/s   | System.arraycopy same bytes: %6.2f GB/s (%.0f ms)%n",
                    stallMs, bytes / stallMs / 1e6, copyGBs, bytes / copyGBs / 1e6);
            System.out.printf(Locale.ROOT, "  durable          %7.0f ms  = %6.0f MB/s   | raw FileChannel write+force: %6.0f MB/s (%.0f ms)%n",
                    totalMs, written / totalMs / 1e3, rawMBs, bytes / rawMBs / 1e3);
            System.out.println("  held ms  " + Arrays.toString(stalls) + "   durable ms " + Arrays.toString(totals));
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
    }

    private static double arraycopyGBs(long bytes) {
        float[] a = new float[(int) (bytes / Float.BYTES)];
        float[] b = new float[a.length];
        Arrays.fill(a, 1f);
        Arrays.fill(b, 2f);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            System.arraycopy(a, 0, b, 0, a.length);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return bytes / (double) best;
    }

    private static double rawWriteMBs(Path file, long bytes) throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        while (buf.hasRemaining()) {
            buf.put((byte) 7);
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            Files.deleteIfExists(file);
            long t0 = System.nanoTime();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (long left = bytes; left > 0; left -= buf.capacity()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), left));
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                }
                ch.force(true);
            }
            best = Math.min(best, System.nanoTime() - t0);
        }
        Files.deleteIfExists(file);
        return bytes / (best / 1e3);
    }

    private static String codeSource(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static void deleteTree(Path p) throws Exception {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        }
    }
}
