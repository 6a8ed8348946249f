package dev.pauser.bench;

import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Write throughput of the checkpoint store, as a user's run has it: a child JVM under the agent holds {@code --mb} MiB of
 * {@code float[]} state ({@link BigStateTrainer}); the harness asks it for checkpoints over JMX
 * ({@code checkpointAndWait}, async) and takes, from its MXBean, the bytes written and the time from training released
 * to durable ({@code LastCheckpointMillis - LastCheckpointStallMillis}): the background write with its CRC32Cs, every
 * file forced, the rename and the directory forced. Measured in the child, on the agent's own writer thread, because
 * that is the write users get (the store is not on the harnesses' class path: pauser.jar loads it in its own loader).
 * After each checkpoint, the reference: a raw {@code FileChannel} write + {@code force} of as many bytes, from one
 * page-aligned direct buffer, into a new file in the same directory. Both as MB/s (10^6 bytes per second); the ratio is
 * the store's throughput over the raw one (1.0 = as fast as the disk allows). The first checkpoint of each child is left
 * out (it grows the staging memory). Before each timing the directories where files were deleted are forced
 * ({@link RawFiles#settle}), so neither side pays for the other's deletions. Usage, from the repository root: {@code WriteBench [--mb 100,1024] [--runs 5]
 * [--dir DIR] [--agent agent/target/pauser.jar] [--smoke]}.
 */
public final class WriteBench {
    public static void main(String[] args) throws Exception {
        List<Integer> sizes = List.of(100, 1024);
        int runs = 5;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "pauser-bench-write");
        Path agent = Paths.get("agent/target/pauser.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mb" -> sizes = Bench.sizes(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Paths.get(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--smoke" -> {
                    sizes = List.of(4);
                    runs = 1;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --mb N,N, --runs N, --dir DIR, --agent JAR, --smoke");
            }
        }
        Files.createDirectories(dir);
        for (int mb : sizes) {
            measure(agent, dir, mb, runs);
        }
        RawFiles.deleteTree(dir);
    }

    private static void measure(Path agent, Path dir, int mb, int runs) throws Exception {
        Path ckpts = dir.resolve("ckpt");
        RawFiles.deleteTree(ckpts);
        double[] store = new double[runs];
        double[] raw = new double[runs];
        ByteBuffer rawData = null;
        try (AgentChild child = AgentChild.start(agent, "dir=" + ckpts + ",keep=2,async=true,log=warning",
                3L * mb + 512, BigStateTrainer.class, Integer.toString(mb))) {
            child.await("ready"::equals, "the trainer is ready");
            for (int r = -1; r < runs; r++) {
                child.checkpointAndWait();
                long bytes = child.attribute("LastCheckpointBytes");
                long writeMs = child.attribute("LastCheckpointMillis") - child.attribute("LastCheckpointStallMillis");
                if (r < 0) {
                    continue; // the first checkpoint grows the staging memory
                }
                store[r] = bytes / (double) Math.max(writeMs, 1) / 1e3;
                if (rawData == null) {
                    rawData = RawFiles.alignedFilled(bytes);
                }
                RawFiles.settle(ckpts); // the checkpoint retention deleted
                raw[r] = bytes / (RawFiles.writeAndForceNanos(dir.resolve("raw.bin"), rawData) / 1e3);
                RawFiles.settle(dir);
                System.out.printf("write %d MiB run %d: store %.0f MB/s, raw %.0f MB/s%n", mb, r, store[r], raw[r]);
            }
        }
        RawFiles.deleteTree(ckpts);
        Figures.record(new Figure("write throughput", mb + " MiB float[], background write (CRC32C, fsync, rename)",
                "MB/s", store, "raw FileChannel write + force, same directory", raw,
                Target.ratioAtLeast(0.9, "≥ 90% of raw FileChannel write + force (ratio = store MB/s / raw MB/s)")));
    }
}
