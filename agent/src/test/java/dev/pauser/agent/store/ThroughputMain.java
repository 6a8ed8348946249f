package dev.pauser.agent.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Not a test: a one-off measurement, run by hand. Commits the same state repeatedly and compares with raw FileChannel
 * writes + force of the same buffers in the same run; then load and verify.
 * {@code java -cp ... dev.pauser.agent.store.ThroughputMain <dir> <MiB direct> <MiB heap> <rounds>}
 */
public final class ThroughputMain {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int directMiB = Integer.parseInt(args[1]);
        int heapMiB = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        List<Entry> entries = new ArrayList<>();
        List<ByteBuffer> raw = new ArrayList<>();
        for (int i = 0; i < directMiB / 64; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(64 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int j = 0; j < b.capacity(); j += 8) {
                b.putLong(j, j * 0x9E3779B97F4A7C15L + i);
            }
            entries.add(new TensorEntry("direct" + i, "C", "float[]", DType.F32, new long[] {16L << 20}, b));
            raw.add(b);
        }
        for (int i = 0; i < heapMiB / 64; i++) {
            ByteBuffer b = ByteBuffer.allocate(64 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int j = 0; j < b.capacity(); j += 8) {
                b.putLong(j, j * 0x9E3779B97F4A7C15L - i);
            }
            entries.add(new TensorEntry("heap" + i, "C", "double[]", DType.F64, new long[] {8L << 20}, b));
            raw.add(b);
        }
        for (int i = 0; i < 1000; i++) { // many small ones
            entries.add(Fixtures.tensor("small" + i, DType.F32, false, i, 256));
        }
        double mib = directMiB + heapMiB + 1000 * 1024 / 1048576.0;
        try (CheckpointStore store = CheckpointStore.open(dir.resolve("store"),
                CheckpointStore.Options.defaults().withRetention(1000, null))) {
            for (int r = 0; r < rounds; r++) {
                for (Path old : store.list()) {
                    store.deleteCheckpoint(old);
                }
                long tc = System.nanoTime();
                for (Entry e : entries) {
                    if (e instanceof TensorEntry t) {
                        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
                        c.update(t.data().duplicate());
                    }
                }
                double crcS = (System.nanoTime() - tc) / 1e9;
                Path rawFile = dir.resolve("raw.bin");
                Files.deleteIfExists(rawFile);
                long t0 = System.nanoTime();
                try (FileChannel ch = FileChannel.open(rawFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    for (ByteBuffer b : raw) {
                        ByteBuffer d = b.duplicate();
                        while (d.hasRemaining()) {
                            ch.write(d);
                        }
                    }
                    ch.force(true);
                }
                double rawS = (System.nanoTime() - t0) / 1e9;
                long t1 = System.nanoTime();
                CheckpointStore.CommitResult res = store.commit(r, Map.of(), entries);
                double commitS = (System.nanoTime() - t1) / 1e9;
                long t2 = System.nanoTime();
                VerifyReport v = CheckpointReader.verify(res.dir());
                double verifyS = (System.nanoTime() - t2) / 1e9;
                long t3 = System.nanoTime();
                LoadedCheckpoint l = CheckpointReader.load(res.dir());
                double loadS = (System.nanoTime() - t3) / 1e9;
                System.out.printf("crc pass %.0f MiB/s%n", mib / crcS);
                System.out.printf("round %d: raw write+force %.0f MiB/s (%.0f MiB excl. small) | commit %.0f MiB/s "
                        + "(%.2f s) | verify %.0f MiB/s ok=%s | load %.0f MiB/s (%d entries)%n", r,
                        (directMiB + heapMiB) / rawS, (double) (directMiB + heapMiB), mib / commitS, commitS,
                        mib / verifyS, v.ok(), mib / loadS, l.entries().size());
                l = null;
                System.gc();
            }
        }
    }
}
