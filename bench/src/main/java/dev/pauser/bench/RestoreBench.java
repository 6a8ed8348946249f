package dev.pauser.bench;

import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Restore throughput: a checkpoint of {@code --mb} MiB of {@code float[]} state ({@link BigStateTrainer}) read back into
 * the trainer's fields by a child JVM under the agent that resumes from it, as a user's resumed run does. JVM start-up is
 * left out: the figure is the agent's own two times, read from its {@code log=debug} output: {@code loaded and verified
 * <dir> in N ms} (every file read, structure and every CRC32C checked) plus {@code restored ... (..., M ms)} (the values
 * put into the fields), over the bytes of tensors (the first line is at info level from 2 s on). The reference, measured in the same run: a raw read of
 * {@code state.safetensors} into one page-aligned direct buffer with positional {@code FileChannel} reads. Both as MB/s
 * (10^6 bytes per second); ratio = restore MB/s / raw MB/s. Rows: page cache warm (the files read once before), and cold
 * (the checkpoint's files dropped from the page cache before each run with {@code posix_fadvise(DONTNEED)} through GNU
 * dd's {@code iflag=nocache}; where dd is missing or fails the harness says so and leaves that row out, as
 * {@code --cold false} does). Usage, from the repository
 * root: {@code RestoreBench [--mb 100,1024] [--runs 5] [--cold true] [--dir DIR] [--agent agent/target/pauser.jar]
 * [--smoke]}.
 */
public final class RestoreBench {
    private static final Pattern LOADED = Pattern.compile("pauser: (?:DEBUG: )?loaded and verified .* in (\\d+) ms$");
    private static final Pattern RESTORED = Pattern.compile(
            "pauser: restored \\d+ @TrainState fields of .* \\(step \\d+, (\\d+) bytes of tensors, (\\d+) ms\\)$");

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = List.of(100, 1024);
        int runs = 5;
        boolean cold = true;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "pauser-bench-restore");
        Path agent = Paths.get("agent/target/pauser.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mb" -> sizes = Bench.sizes(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--cold" -> cold = Boolean.parseBoolean(args[++i]);
                case "--dir" -> dir = Paths.get(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--smoke" -> {
                    sizes = List.of(4);
                    runs = 1;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --mb N,N, --runs N, --cold true|false, --dir DIR, --agent JAR, --smoke");
            }
        }
        Files.createDirectories(dir);
        for (int mb : sizes) {
            Path ckpts = dir.resolve("ckpt-" + mb);
            RawFiles.deleteTree(ckpts);
            try (AgentChild child = AgentChild.start(agent, "dir=" + ckpts + ",log=warning", 3L * mb + 512,
                    BigStateTrainer.class, Integer.toString(mb))) {
                child.await("ready"::equals, "the trainer is ready");
                child.checkpointAndWait();
            }
            Path tensors;
            try (var list = Files.list(ckpts)) {
                tensors = list.filter(p -> p.getFileName().toString().startsWith("ckpt-")).findFirst().orElseThrow()
                        .resolve("state.safetensors");
            }
            ByteBuffer into = RawFiles.alignedFilled(Files.size(tensors));
            measure(agent, ckpts, tensors, into, mb, runs, false);
            if (cold && canDrop(tensors)) {
                measure(agent, ckpts, tensors, into, mb, runs, true);
            } else if (cold) {
                cold = false; // said why once; the other sizes get the warm row only
            }
            RawFiles.deleteTree(ckpts);
        }
        RawFiles.deleteTree(dir);
    }

    private static void measure(Path agent, Path ckpts, Path tensors, ByteBuffer into, int mb, int runs, boolean cold)
            throws Exception {
        double[] restore = new double[runs];
        double[] raw = new double[runs];
        RawFiles.readNanos(tensors, into); // warm: the files are in the page cache; cold: dropped below
        for (int r = 0; r < runs; r++) {
            if (cold) {
                dropCheckpoint(tensors.getParent());
            }
            long bytes;
            long millis;
            try (AgentChild child = AgentChild.start(agent, "dir=" + ckpts + ",log=debug", 3L * mb + 512,
                    BigStateTrainer.class, Integer.toString(mb))) {
                Matcher loaded = LOADED.matcher(child.await(l -> LOADED.matcher(l).matches(), "the checkpoint loaded"));
                Matcher restored = RESTORED.matcher(child.await(l -> RESTORED.matcher(l).matches(),
                        "the state restored"));
                loaded.matches();
                restored.matches();
                bytes = Long.parseLong(restored.group(1));
                millis = Long.parseLong(loaded.group(1)) + Long.parseLong(restored.group(2));
            }
            restore[r] = bytes / (double) Math.max(millis, 1) / 1e3;
            if (cold) {
                dropCheckpoint(tensors.getParent());
            }
            raw[r] = Files.size(tensors) / (RawFiles.readNanos(tensors, into) / 1e3);
            System.out.printf("restore %d MiB %s run %d: %.0f MB/s (%d ms), raw read %.0f MB/s%n", mb,
                    cold ? "cold" : "warm", r, restore[r], millis, raw[r]);
        }
        String cache = cold ? "page cache cold (posix_fadvise DONTNEED)" : "page cache warm";
        Figures.record(new Figure("restore throughput", mb + " MiB float[], " + cache + ", read + verify + restore",
                "MB/s", restore, "raw aligned FileChannel read of state.safetensors, " + (cold ? "cold" : "warm"), raw,
                Target.ratioAtLeast(0.8, "≥ 80% of a raw aligned FileChannel read (ratio = restore MB/s / raw MB/s)")));
    }

    /** Whether this machine lets the harness drop a file from the page cache; says why not when it doesn't. */
    private static boolean canDrop(Path file) throws InterruptedException {
        try {
            RawFiles.dropFromPageCache(file);
            return true;
        } catch (java.io.IOException e) {
            System.out.println("restore: no cold row: " + e.getMessage());
            return false;
        }
    }

    private static void dropCheckpoint(Path ckptDir) throws Exception {
        try (var files = Files.list(ckptDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                RawFiles.dropFromPageCache(f);
            }
        }
    }
}
