package dev.pauser.bench;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pauser.bench.report.Figure;
import dev.pauser.bench.report.Figures;
import dev.pauser.bench.report.Target;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * What users write by hand, against Pauser: the same state ({@link HandWrittenState}: four {@code float[]} and a few
 * scalars, {@code --mb} MiB in all) saved durably three ways, in the same directory, one after the other in each run:
 * <ul>
 * <li>Pauser: a child JVM under the agent holds the state; {@code checkpointAndWait} over JMX; the figure is its
 * {@code LastCheckpointMillis} (request to durable: capture, write, every fsync and rename);</li>
 * <li>{@code ObjectOutputStream} over a 1 MiB {@code BufferedOutputStream} over a {@code FileOutputStream}, then
 * {@code getFD().sync()};</li>
 * <li>Jackson's {@code ObjectMapper.writeValue} to the same kind of stream, then {@code sync()}.</li>
 * </ul>
 * A third row sets how long Pauser held training ({@code LastCheckpointStallMillis}; async, the default: the copy into
 * staging) against the {@code ObjectOutputStream} save, which a program saving by hand runs in its training loop.
 * The hand-written ones run in this JVM after one warm-up write each; the child's first checkpoint is left out (it grows
 * the staging memory). Before each timing the directories where files were deleted are forced
 * ({@link RawFiles#settle}), so no save pays for another's deletions. Times in ms; ratio = Pauser / the hand-written way (0.5 = twice as fast). Usage, from the
 * repository root: {@code ByHandBench [--mb 100] [--runs 5] [--dir DIR] [--agent agent/target/pauser.jar] [--smoke]}.
 */
public final class ByHandBench {
    public static void main(String[] args) throws Exception {
        int mb = 100;
        int runs = 5;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "pauser-bench-byhand");
        Path agent = Paths.get("agent/target/pauser.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mb" -> mb = Bench.sizes(args[++i]).get(0);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Paths.get(args[++i]);
                case "--agent" -> agent = Paths.get(args[++i]);
                case "--smoke" -> {
                    mb = 4;
                    runs = 1;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --mb N, --runs N, --dir DIR, --agent JAR, --smoke");
            }
        }
        Files.createDirectories(dir);
        Path ckpts = dir.resolve("ckpt");
        RawFiles.deleteTree(ckpts);
        HandWrittenState state = new HandWrittenState(mb);
        // the stream stays open after writeValue: it is flushed and synced like the others
        ObjectMapper jackson = JsonMapper.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();
        Path oosFile = dir.resolve("state.ser");
        Path jsonFile = dir.resolve("state.json");
        timeMillis(oosFile, out -> new ObjectOutputStream(out).writeObject(state));
        timeMillis(jsonFile, out -> jackson.writeValue(out, state));

        double[] pauser = new double[runs];
        double[] held = new double[runs];
        double[] oos = new double[runs];
        double[] json = new double[runs];
        try (AgentChild child = AgentChild.start(agent, "dir=" + ckpts + ",keep=2,log=warning", 3L * mb + 512,
                HandWrittenState.class, Integer.toString(mb))) {
            child.await("ready"::equals, "the trainer is ready");
            child.checkpointAndWait(); // grows the staging memory: left out
            for (int r = 0; r < runs; r++) {
                RawFiles.settle(dir);
                child.checkpointAndWait();
                pauser[r] = child.attribute("LastCheckpointMillis");
                held[r] = child.attribute("LastCheckpointStallMillis");
                RawFiles.settle(ckpts); // the checkpoint retention deleted
                oos[r] = timeMillis(oosFile, out -> new ObjectOutputStream(out).writeObject(state));
                RawFiles.settle(dir);
                json[r] = timeMillis(jsonFile, out -> jackson.writeValue(out, state));
                System.out.printf("byhand %d MiB run %d: Pauser %.0f ms, ObjectOutputStream %.0f ms, Jackson %.0f ms%n",
                        mb, r, pauser[r], oos[r], json[r]);
            }
        }
        RawFiles.deleteTree(dir);
        String row = mb + " MiB: 4 float[] + 3 scalars, durable (fsync)";
        Figures.record(new Figure("what users write by hand", row + ", Pauser checkpoint vs ObjectOutputStream", "ms",
                pauser, "ObjectOutputStream + FileOutputStream + sync", oos,
                Target.ratioAtMost(0.5, "Pauser ≥ 2× faster than ObjectOutputStream (ratio = Pauser ms / OOS ms)")));
        Figures.record(new Figure("what users write by hand", row + ", Pauser checkpoint vs Jackson", "ms", pauser,
                "Jackson ObjectMapper.writeValue + FileOutputStream + sync", json,
                Target.report("report (ratio = Pauser ms / Jackson ms)")));
        // A hand-written save in the training loop holds training for all of it; Pauser's async checkpoint for the copy.
        Figures.record(new Figure("what users write by hand", mb + " MiB: training held, Pauser (async) vs "
                + "ObjectOutputStream in the loop", "ms", held, "ObjectOutputStream + FileOutputStream + sync", oos,
                Target.report("report (ratio = Pauser held ms / OOS ms)")));
    }

    @FunctionalInterface
    private interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Writes a new {@code file} through {@code writer}, flushed and synced to disk; the time in ms. */
    private static double timeMillis(Path file, Writer writer) throws IOException {
        Files.deleteIfExists(file);
        long t0 = System.nanoTime();
        try (FileOutputStream fos = new FileOutputStream(file.toFile());
                BufferedOutputStream out = new BufferedOutputStream(fos, 1 << 20)) {
            writer.write(out);
            out.flush();
            fos.getFD().sync();
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        Files.delete(file);
        return ms;
    }
}
