package dev.pauser.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.AttributeNotFoundException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;

/**
 * Device checkpoint cost, whole run, against plain copies of the same bytes measured in this same run on this GPU
 * (JCuda directly: pinned {@code cuMemcpyDtoH} and {@code cuMemcpyHtoD}, {@code cuMemcpyDtoD}). A child JVM under the
 * agent holds {@code --mb} MiB of device memory as {@code @TrainState} ({@link GpuStateTrainer}); the harness asks it
 * for checkpoints over JMX and prints, each next to its reference and the ratio:
 * <ul>
 * <li>how long steps were held for the device copy ({@code LastDeviceCopyMillis}) with room on the device for a
 * shadow copy ({@code DeviceStaging=device}), against a device-to-device copy: target at most 1.25 x;</li>
 * <li>the same with the device crowded so that no shadow copy fits ({@code DeviceStaging=host}): the copy to pinned
 * host memory, as throughput, against a plain pinned device-to-host copy: target at least 80 %;</li>
 * <li>how long until the checkpoint was durable (device to host, checksums and the write), against the plain D2H;</li>
 * <li>the restore when the same program starts again (the agent's {@code pauser: restored ...} line: reading the
 * checkpoint and copying it to the device), against a plain pinned host-to-device copy.</li>
 * </ul>
 * Exit status: 0 when every figure was measured and met its target, 1 when one was missed or could not be measured,
 * 2 for a bad option, 3 when this JVM can't use an NVIDIA GPU (the reason is printed). Usage (after
 * {@code mvn -B -q package -DskipTests}, from the repository root):
 * <pre>java -cp 'bench/target/pauser-bench-0.1.0.jar:bench/target/lib/*' dev.pauser.bench.GpuCopyBench [--mb 8192]
 *     [--runs 3] [--dir /dev/shm/pauser-gpu-bench] [--agent agent/target/pauser.jar]</pre>
 */
public final class GpuCopyBench {
    /** The exit status for "no usable NVIDIA GPU in this JVM", shared with {@code scripts/gpu-check.sh}. */
    static final int NO_GPU = 3;

    private static final Pattern RESTORED = Pattern.compile(
            "pauser: restored .*\\((?:step \\d+, )?(\\d+) bytes[^,]*, (\\d+) ms\\)");

    private int failures;

    public static void main(String[] args) throws Exception {
        long mb = 8192;
        int runs = 3;
        Path dir = null;
        Path agent = Paths.get("agent/target/pauser.jar");
        try {
            for (int i = 0; i < args.length; i += 2) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--mb": mb = Long.parseLong(required(args[i], value)); break;
                    case "--runs": runs = Integer.parseInt(required(args[i], value)); break;
                    case "--dir": dir = Paths.get(required(args[i], value)); break;
                    case "--agent": agent = Paths.get(required(args[i], value)); break;
                    default: throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (mb < 16 || runs < 1) {
                throw new IllegalArgumentException("--mb must be 16 or more and --runs 1 or more");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("GpuCopyBench: " + e.getMessage()
                    + "; options: --mb N (MiB of device state, default 8192), --runs N (default 3), --dir PATH,"
                    + " --agent PATH (default agent/target/pauser.jar)");
            System.exit(2);
        }
        if (!Files.isRegularFile(agent)) {
            System.err.println("GpuCopyBench: no agent jar at " + agent.toAbsolutePath()
                    + "; build it (mvn -B package -DskipTests) or pass --agent PATH");
            System.exit(2);
        }
        PlainCopies plain;
        try {
            plain = PlainCopies.measure(mb << 20);
        } catch (PlainCopies.NoGpuException e) {
            System.out.println("GpuCopyBench: no NVIDIA GPU: " + e.getMessage());
            System.exit(NO_GPU);
            return;
        } catch (jcuda.CudaException e) {
            System.out.println("GpuCopyBench: the plain copies of " + mb + " MiB failed: " + e.getMessage()
                    + " (a smaller --mb?)");
            System.exit(1);
            return;
        }
        if (dir == null) {
            dir = defaultDir(mb << 20);
        }
        try {
            System.exit(new GpuCopyBench().run(plain, mb, runs, dir, agent) ? 0 : 1);
        } catch (jcuda.CudaException | java.io.IOException | javax.management.JMException e) {
            System.out.println("GpuCopyBench: stopped: " + e);
            System.exit(1);
        }
    }

    private static String required(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }

    /** Memory-backed /dev/shm where it can hold two checkpoints (the disk would be measured, not the copies). */
    private static Path defaultDir(long bytes) throws Exception {
        Path shm = Paths.get("/dev/shm");
        if (Files.isDirectory(shm) && Files.getFileStore(shm).getUsableSpace() > 2 * bytes + (1L << 30)) {
            return shm.resolve("pauser-gpu-bench");
        }
        return Paths.get(System.getProperty("java.io.tmpdir"), "pauser-gpu-bench");
    }

    private boolean run(PlainCopies plain, long mb, int runs, Path dir, Path agent) throws Exception {
        long bytes = mb << 20;
        System.out.println(plain.describe());
        System.out.printf(Locale.ROOT, "state %d MiB; checkpoints to %s; %d checkpoints per phase after a first one%n",
                mb, dir, runs);
        Path ckpt = dir.resolve("ckpt");

        RawFiles.deleteTree(ckpt);
        Phase roomy = checkpoints(agent, ckpt, mb, runs, false);
        Phase restore = restore(agent, ckpt, mb);
        RawFiles.deleteTree(ckpt);
        Phase crowded = checkpoints(agent, ckpt, mb, runs, true);
        RawFiles.deleteTree(ckpt);

        System.out.println("results (medians; the agent reports whole milliseconds, so 1 ms of slack is allowed):");
        stallLine("room for a shadow copy", roomy, bytes, plain);
        stallLine("device crowded", crowded, bytes, plain);
        if (roomy != null) {
            figure("durable (D2H + checksums + write)", bytes, roomy.durableMillis, "plain pinned D2H", plain.d2hNanos,
                    0, null);
        }
        if (restore == null || restore.restoreMillis < 0) {
            System.out.println("  restore: MISSING - no 'pauser: restored ... bytes ..., N ms)' line from the agent");
            failures++;
        } else {
            figure("restore (read + H2D)", restore.restoreBytes, restore.restoreMillis, "plain pinned H2D",
                    plain.h2dNanos * restore.restoreBytes / bytes, 0, null);
        }
        System.out.println(failures == 0 ? "GpuCopyBench: every figure measured and on target"
                : "GpuCopyBench: " + failures + " figure(s) missed their target or could not be measured");
        return failures == 0;
    }

    private void stallLine(String label, Phase p, long bytes, PlainCopies plain) {
        if (p == null) {
            System.out.println("  " + label + ": MISSING - the phase did not complete (see the child's output above)");
            failures++;
            return;
        }
        String what = "steps held, " + label + " (DeviceStaging=" + p.staging + ", " + p.deviceBytes + " bytes)";
        switch (p.staging) {
            case "device":
                // held time against a D2D copy of the same bytes: at most 1.25 x
                figure(what, bytes, p.stallMillis, "cuMemcpyDtoD", plain.d2dNanos, 1.25, "time <= 1.25 x");
                break;
            case "host":
                // held time is the D2H copy: throughput at least 80 % of a plain pinned D2H, i.e. time <= 1/0.8 x
                figure(what, bytes, p.stallMillis, "plain pinned D2H", plain.d2hNanos, 1 / 0.8,
                        "throughput >= 80 %");
                break;
            default:
                System.out.println("  " + what + ": MISSING - the agent reported no device state");
                failures++;
        }
    }

    /**
     * One figure: its time and throughput next to the reference's and the time ratio; with a target (null: none), met
     * when the time is at most {@code maxTimeRatio} times the reference's.
     */
    private void figure(String what, long bytes, long millis, String refName, long refNanos, double maxTimeRatio,
            String target) {
        double refMs = refNanos / 1e6;
        double ratio = millis / Math.max(refMs, 1e-3);
        String verdict = "";
        if (target != null) {
            boolean met = millis - 1 <= maxTimeRatio * refMs;
            verdict = "  target " + target + ": " + (met ? "met" : "MISSED");
            if (!met) {
                failures++;
            }
        }
        System.out.printf(Locale.ROOT, "  %s: %d ms = %.1f GB/s | %s same bytes: %.2f ms = %.1f GB/s | ratio %.2f x%s%n",
                what, millis, gbs(bytes, millis * 1e6), refName, refMs, gbs(bytes, refNanos), ratio, verdict);
    }

    private static double gbs(long bytes, double nanos) {
        return bytes / Math.max(nanos, 1);
    }

    /** What one child run reported. */
    private static final class Phase {
        String staging = "";
        long deviceBytes;
        long stallMillis;
        long durableMillis;
        long restoreBytes;
        long restoreMillis = -1;
    }

    /** A child holding the state takes {@code runs + 1} checkpoints (the first grows the staging): their medians. */
    private static Phase checkpoints(Path agent, Path ckpt, long mb, int runs, boolean crowded) throws Exception {
        System.out.println("phase: checkpoints, " + (crowded ? "device crowded" : "room for a shadow copy"));
        try (Child child = Child.start(agent, ckpt, mb, crowded)) {
            if (!child.awaitReady()) {
                return null;
            }
            List<Long> stalls = new ArrayList<>();
            List<Long> durables = new ArrayList<>();
            Phase p = new Phase();
            try (JMXConnector c = LocalJmx.connect(child.pid())) {
                MBeanServerConnection jmx = c.getMBeanServerConnection();
                ObjectName pauser = new ObjectName("dev.pauser:type=Pauser");
                for (int r = 0; r < runs + 1; r++) {
                    String result = (String) jmx.invoke(pauser, "checkpointAndWait", new Object[] {600_000L},
                            new String[] {"long"});
                    System.out.println("  checkpoint: " + result);
                    if (result.startsWith("checkpoint failed")) {
                        return null;
                    }
                    try {
                        p.staging = (String) jmx.getAttribute(pauser, "DeviceStaging");
                        p.deviceBytes = (Long) jmx.getAttribute(pauser, "DeviceStateBytes");
                        long stall = (Long) jmx.getAttribute(pauser, "LastDeviceCopyMillis");
                        long durable = (Long) jmx.getAttribute(pauser, "LastCheckpointMillis");
                        if (r > 0) {
                            stalls.add(stall);
                            durables.add(durable);
                        }
                    } catch (AttributeNotFoundException e) {
                        System.out.println("  the agent " + agent + " has no device support (" + e.getMessage()
                                + "): build it with the GPU feature");
                        return null;
                    }
                }
            }
            p.stallMillis = median(stalls);
            p.durableMillis = median(durables);
            System.out.println("  device copy ms " + sorted(stalls) + ", durable ms " + sorted(durables));
            return p;
        }
    }

    /** The same program started again over the checkpoints left by the first phase: the agent's restore line. */
    private static Phase restore(Path agent, Path ckpt, long mb) throws Exception {
        System.out.println("phase: restore");
        try (Child child = Child.start(agent, ckpt, mb, false)) {
            if (!child.awaitReady()) {
                return null;
            }
            Phase p = new Phase();
            for (String line : child.lines()) {
                Matcher m = RESTORED.matcher(line);
                if (m.find()) {
                    p.restoreBytes = Long.parseLong(m.group(1));
                    p.restoreMillis = Long.parseLong(m.group(2));
                }
            }
            return p;
        }
    }

    private static long median(List<Long> values) {
        List<Long> s = sorted(values);
        return s.get(s.size() / 2);
    }

    private static List<Long> sorted(List<Long> values) {
        List<Long> s = new ArrayList<>(values);
        Collections.sort(s);
        return s;
    }

    /** A {@link GpuStateTrainer} under the agent; its output is echoed and kept; closing it kills it (kill -9). */
    private static final class Child implements AutoCloseable {
        private final Process process;
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        private final CountDownLatch ready = new CountDownLatch(1);

        private Child(Process process) {
            this.process = process;
            Thread drain = new Thread(this::drain, "child-output");
            drain.setDaemon(true);
            drain.start();
        }

        static Child start(Path agent, Path ckpt, long mb, boolean crowded) throws Exception {
            String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(Arrays.asList(java, "-XX:MaxDirectMemorySize=" + (2 * mb + 1024) + "m",
                    "-javaagent:" + agent.toAbsolutePath() + "=dir=" + ckpt + ",keep=1,log=info",
                    "-cp", System.getProperty("java.class.path"), GpuStateTrainer.class.getName(), Long.toString(mb)));
            if (crowded) {
                cmd.add("crowded");
            }
            return new Child(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }

        private void drain() {
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    System.out.println("  child: " + line);
                    lines.add(line);
                    if (line.equals("ready")) {
                        ready.countDown();
                    }
                }
            } catch (java.io.IOException e) {
                System.out.println("  child output ended: " + e.getMessage());
            } finally {
                ready.countDown();
            }
        }

        /** True once the first step ran; false (and why) when the child ended or took ten minutes. */
        boolean awaitReady() throws InterruptedException {
            boolean signalled = ready.await(10, TimeUnit.MINUTES);
            boolean isReady;
            synchronized (lines) {
                isReady = lines.contains("ready");
            }
            if (!isReady) {
                System.out.println("  the child did not start training: "
                        + (signalled ? "it exited with status " + process.waitFor() : "no first step in 10 minutes"));
            }
            return isReady;
        }

        long pid() {
            return process.pid();
        }

        List<String> lines() {
            synchronized (lines) {
                return new ArrayList<>(lines);
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
