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
import java.util.Locale;
import javax.management.AttributeNotFoundException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;

/**
 * The checkpoint stall, asynchronous checkpoints: how long training was held per checkpoint of a {@code float[]}
 * {@code @TrainState} ({@link BigStateTrainer}), the first checkpoint of each JVM apart from the later ones, next to
 * {@code System.arraycopy} of the same bytes measured in this same run: in a JVM of its own right before each trainer
 * JVM (so its memory is free again when the trainer runs), as many copies as that trainer takes checkpoints.
 *
 * <p>Each size runs {@code --jvms} fresh child JVMs under the agent; each is asked over JMX for one checkpoint (its
 * first: one sample of the "first" row) and then {@code --later} more (samples of the "later" row). The stall is the
 * agent's {@code LastCheckpointStallMicros} (or {@code LastCheckpointStallMillis} from an agent without it). The time
 * until each checkpoint is durable is printed, not recorded (the write-throughput figure has its own harness).
 * A state above {@value #MAX_FIELD_MB} MiB is split evenly over several {@code float[]} fields of at most that size
 * (the row says so), since one tensor of a checkpoint holds less than 2 GiB.
 *
 * <p>Usage, from the repository root: {@code CheckpointBench [--sizes 1,100,1024,4096] [--jvms 5] [--later 3]
 * [--dir /tmp/pauser-bench] [--agent agent/target/pauser.jar] [--smoke]}.
 */
public final class CheckpointBench {
    static final String FIGURE = "checkpoint stall, async";
    /** Above this a state is split over several fields. */
    static final int MAX_FIELD_MB = 2000;

    public static void main(String[] args) throws Exception {
        int[] sizes = {1, 100, 1024, 4096};
        int jvms = 5;
        int later = 3;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "pauser-bench-checkpoint");
        Path agent = Paths.get("agent/target/pauser.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sizes" -> sizes = Arrays.stream(value(args, ++i).split(",")).mapToInt(Integer::parseInt).toArray();
                case "--jvms" -> jvms = Integer.parseInt(value(args, ++i));
                case "--later" -> later = Integer.parseInt(value(args, ++i));
                case "--dir" -> dir = Paths.get(value(args, ++i));
                case "--agent" -> agent = Paths.get(value(args, ++i));
                case "--smoke" -> {
                    sizes = new int[] {1};
                    jvms = 1;
                    later = 1;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --sizes MB,MB, "
                        + "--jvms N, --later N, --dir DIR, --agent JAR, --smoke");
            }
        }
        Files.createDirectories(dir);
        for (int mb : sizes) {
            double[] copy = new double[jvms * (1 + later)];
            double[] first = new double[jvms];
            double[] next = new double[jvms * later];
            for (int j = 0; j < jvms; j++) {
                // the reference right before each trainer, as many copies as it takes checkpoints: on a busy machine
                // both then meet the same moments of load
                System.arraycopy(arraycopyMillis(mb, 1 + later), 0, copy, j * (1 + later), 1 + later);
                double[] stalls = childStalls(mb, 1 + later, dir, agent);
                first[j] = stalls[0];
                System.arraycopy(stalls, 1, next, j * later, later);
            }
            String state = mb + " MB" + (fields(mb) > 1 ? " (" + fields(mb) + " float[] fields of " + mb / fields(mb)
                    + " MB)" : "");
            Target target = Target.ratioAtMost(1.25, "≤ 1.25 × System.arraycopy");
            String reference = "System.arraycopy of the same bytes";
            Figures.record(new Figure(FIGURE, state + ", first checkpoint", "ms", first, reference, copy, target));
            if (later > 0) {
                Figures.record(new Figure(FIGURE, state + ", later checkpoints", "ms", next, reference, copy, target));
            }
        }
    }

    /** How many fields hold a state of {@code mb} MiB. */
    static int fields(int mb) {
        return (mb + MAX_FIELD_MB - 1) / MAX_FIELD_MB;
    }

    /** {@code runs} timings of one arraycopy of {@code mb} MiB of floats, in a JVM of its own (after one warm-up copy). */
    private static double[] arraycopyMillis(int mb, int runs) throws Exception {
        List<String> lines = runToEnd(List.of(java(), "-Xmx" + (3L * mb + 256) + "m", "-cp", classPath(),
                ArrayCopyReference.class.getName(), Integer.toString(mb), Integer.toString(runs)));
        return lines.stream().filter(l -> l.startsWith("copy ")).mapToDouble(l -> Double.parseDouble(l.substring(5)))
                .toArray();
    }

    /** The stall of each of {@code checkpoints} checkpoints of one fresh child JVM, in milliseconds. */
    private static double[] childStalls(int mb, int checkpoints, Path dir, Path agent) throws Exception {
        Path ckptDir = dir.resolve("ckpt");
        RawFiles.deleteTree(ckptDir);
        long heapMb = mb + 512;
        Process child = new ProcessBuilder(java(), "-Xmx" + heapMb + "m", "-XX:MaxDirectMemorySize=" + heapMb + "m",
                "-javaagent:" + agent.toAbsolutePath() + "=dir=" + ckptDir + ",keep=1,log=warning",
                "-cp", classPath(), BigStateTrainer.class.getName(), Integer.toString(mb),
                Integer.toString(fields(mb)))
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("ready")) {
                System.out.println("child: " + line);
            }
            if (line == null) {
                throw new IllegalStateException("the trainer of " + mb + " MB exited before it was ready");
            }
            double[] stalls = new double[checkpoints];
            try (JMXConnector c = LocalJmx.connect(child.pid())) {
                MBeanServerConnection jmx = c.getMBeanServerConnection();
                ObjectName pauser = new ObjectName("dev.pauser:type=Pauser");
                for (int r = 0; r < checkpoints; r++) {
                    waitForSteps(jmx, pauser, 3);
                    String result = (String) jmx.invoke(pauser, "checkpointAndWait", new Object[] {600_000L},
                            new String[] {"long"});
                    if (result.startsWith("checkpoint failed")) {
                        throw new IllegalStateException(mb + " MB: " + result);
                    }
                    stalls[r] = stallMillis(jmx, pauser);
                    long durable = (Long) jmx.getAttribute(pauser, "LastCheckpointMillis");
                    System.out.printf(Locale.ROOT, "%d MB, JVM %d, checkpoint %d: held training %.3f ms, durable after"
                            + " %d ms%n", mb, child.pid(), r + 1, stalls[r], durable);
                }
            }
            return stalls;
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
    }

    /** Waits until the trainer ran {@code n} more steps, so the checkpoint has new state to save. */
    private static void waitForSteps(MBeanServerConnection jmx, ObjectName pauser, long n) throws Exception {
        long from = (Long) jmx.getAttribute(pauser, "Step");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while ((Long) jmx.getAttribute(pauser, "Step") < from + n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the trainer ran no step for two minutes");
            }
            Thread.sleep(5);
        }
    }

    private static double stallMillis(MBeanServerConnection jmx, ObjectName pauser) throws Exception {
        try {
            return (Long) jmx.getAttribute(pauser, "LastCheckpointStallMicros") / 1e3;
        } catch (AttributeNotFoundException olderAgent) {
            return (Long) jmx.getAttribute(pauser, "LastCheckpointStallMillis");
        }
    }

    /** Runs a command to its end, echoing its output; fails when it fails. */
    private static List<String> runToEnd(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ": " + lines);
        }
        return lines;
    }

    private static String java() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String classPath() {
        return System.getProperty("java.class.path");
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    /**
     * The reference, in a JVM of its own: {@code System.arraycopy} of {@code <mb>} MiB of floats between two touched
     * arrays (in the same pieces as the trainer's fields), one {@code copy <ms>} line per run.
     */
    public static final class ArrayCopyReference {
        public static void main(String[] args) {
            int mb = Integer.parseInt(args[0]);
            int runs = Integer.parseInt(args[1]);
            int parts = fields(mb);
            float[][] src = new float[parts][];
            float[][] dst = new float[parts][];
            for (int p = 0; p < parts; p++) {
                src[p] = BigStateTrainer.floats(mb / parts);
                dst[p] = new float[src[p].length];
                Arrays.fill(src[p], 1f);
                Arrays.fill(dst[p], 2f);
            }
            for (int r = -1; r < runs; r++) {
                long t0 = System.nanoTime();
                for (int p = 0; p < parts; p++) {
                    System.arraycopy(src[p], 0, dst[p], 0, src[p].length);
                }
                long nanos = System.nanoTime() - t0;
                if (r >= 0) {
                    System.out.printf(Locale.ROOT, "copy %.4f%n", nanos / 1e6);
                }
            }
        }
    }
}
