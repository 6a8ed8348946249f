package dev.pauser.agent.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Where the GPU fields of one trainer are copied to while its steps are held, kept and reused across checkpoints.
 *
 * <p>Two paths, chosen per field at each capture. <b>Device</b>: where the device has room for a copy and
 * {@link #marginBytes} to spare besides (the training's own allocations between boundaries, which Pauser can't see, must
 * still fit), the field is copied device to device into a shadow allocation, so the steps are held for a device memcpy
 * only; the shadow is then streamed to the writer in chunks ({@link ShadowStream}) while training runs. <b>Host</b>:
 * otherwise the field is copied device to page-locked host memory ({@link DeviceMemory#allocatePinned}, one buffer per
 * field, grown when a field grows), which the writer reads directly. Nothing is staged through Java arrays.
 *
 * <p>Threads: {@link #copy} on the thread holding the steps (the gate's control thread {@code pauser-gate}, or that of a
 * held checkpoint); a {@link ShadowStream} on the writer thread {@code pauser-writer} together with this staging's copy
 * thread {@code pauser-device-copy}. One capture, and one write of its result, at a time (the caller's staging
 * discipline: a new capture waits for the write in flight).
 */
public final class DeviceStaging {
    /** Device memory left free besides a shadow before the device path is taken: 256 MiB. */
    public static final long DEFAULT_MARGIN_BYTES = 256L << 20;
    /** The size of each of the two pinned chunk buffers a shadow is streamed through: 16 MiB. */
    public static final int DEFAULT_CHUNK_BYTES = 16 << 20;

    /** Which path a capture's GPU fields took, as JMX shows it. */
    public enum Path {
        /** No GPU field was captured. */
        NONE("none"),
        /** Every GPU field went to a shadow copy on the device. */
        DEVICE("device"),
        /** At least one GPU field was copied to pinned host memory during the hold. */
        HOST("host");

        private final String label;

        Path(String label) {
            this.label = label;
        }

        /** {@code none}, {@code device} or {@code host}. */
        public String label() {
            return label;
        }
    }

    /** A piece of device memory: its address and length. */
    public record Region(long address, long bytes) {
    }

    /** What one field's copy left: host bytes ready to write, or a shadow to stream. Exactly one is non-null. */
    public record Copy(ByteBuffer host, ShadowStream shadow) {
        public long bytes() {
            return host != null ? host.remaining() : shadow.bytes();
        }
    }

    /** What the last capture's GPU fields took: the path, the bytes, and how long the copies held the steps. */
    public record Report(Path path, long bytes, long copyNanos) {
    }

    /** Receives a shadow's bytes in order, chunk by chunk; each buffer is valid only during the call. */
    @FunctionalInterface
    public interface ChunkSink {
        void accept(ByteBuffer chunk) throws IOException;
    }

    private record Shadow(long address, long bytes, DeviceMemory.DeviceContext context) {
    }

    private final DeviceMemory memory;
    private final long marginBytes;
    private final int chunkBytes;
    private final Map<String, Shadow> shadows = new HashMap<>();
    private final Map<String, DeviceMemory.PinnedBuffer> pinned = new HashMap<>();
    private final DeviceMemory.PinnedBuffer[] chunks = new DeviceMemory.PinnedBuffer[2];
    private ExecutorService copyThread;

    // The current capture's figures, reset by beginCapture.
    private boolean anyDevice;
    private boolean anyHost;
    private long bytes;
    private long copyNanos;

    public DeviceStaging(DeviceMemory memory) {
        this(memory, DEFAULT_MARGIN_BYTES, DEFAULT_CHUNK_BYTES);
    }

    public DeviceStaging(DeviceMemory memory, long marginBytes, int chunkBytes) {
        if (chunkBytes <= 0 || marginBytes < 0) {
            throw new IllegalArgumentException("chunk " + chunkBytes + ", margin " + marginBytes);
        }
        this.memory = memory;
        this.marginBytes = marginBytes;
        this.chunkBytes = chunkBytes;
    }

    public DeviceMemory memory() {
        return memory;
    }

    /** Starts a capture's figures afresh. */
    public void beginCapture() {
        anyDevice = false;
        anyHost = false;
        bytes = 0;
        copyNanos = 0;
    }

    /** The figures of the capture since {@link #beginCapture}. */
    public Report report() {
        Path p = anyHost ? Path.HOST : anyDevice ? Path.DEVICE : Path.NONE;
        return new Report(p, bytes, copyNanos);
    }

    /**
     * Copies the regions (in order, as one tensor) out of the app's memory: makes {@code context} current, waits for the
     * work the step queued ({@link DeviceMemory#synchronize}), copies into the key's shadow or pinned buffer, waits for
     * the copy, and puts back the context that was current before. The result is valid until the next copy of the key.
     */
    public Copy copy(String key, DeviceMemory.DeviceContext context, List<Region> regions) throws DeviceException {
        long total = 0;
        for (Region r : regions) {
            total = Math.addExact(total, r.bytes());
        }
        long t0 = System.nanoTime();
        Copy result;
        try (DeviceMemory.ContextScope scope = memory.enter(context)) {
            memory.synchronize();
            Shadow shadow = shadowFor(key, total, context);
            if (shadow != null) {
                long offset = 0;
                for (Region r : regions) {
                    memory.copyDeviceToDevice(shadow.address() + offset, r.address(), r.bytes());
                    offset += r.bytes();
                }
                memory.synchronize(); // the copy must be complete before the steps may overwrite the source
                ensureChunkBuffers();
                result = new Copy(null, new ShadowStream(this, shadow.address(), total, context));
                anyDevice = true;
            } else {
                ByteBuffer host = pinnedFor(key, total);
                long offset = 0;
                for (Region r : regions) {
                    ByteBuffer slice = host.duplicate();
                    slice.position((int) offset).limit((int) (offset + r.bytes()));
                    memory.copyToHost(slice.slice(), r.address());
                    offset += r.bytes();
                }
                result = new Copy(host, null);
                anyHost = true;
            }
        } finally {
            copyNanos += System.nanoTime() - t0;
        }
        bytes += total;
        return result;
    }

    /** The key's shadow of at least {@code total} bytes, kept or newly allocated, or null when the device lacks room. */
    private Shadow shadowFor(String key, long total, DeviceMemory.DeviceContext context) throws DeviceException {
        Shadow s = shadows.get(key);
        if (s != null && s.bytes() >= total && s.context().equals(context)) {
            return s;
        }
        if (s != null) {
            freeShadow(key, s);
        }
        long free = memory.freeBytes();
        if (free - total < marginBytes) {
            return null;
        }
        long address;
        try {
            address = memory.allocate(total);
        } catch (DeviceException e) {
            return null; // another allocation took the room meanwhile: the host path still works
        }
        Shadow fresh = new Shadow(address, total, context);
        shadows.put(key, fresh);
        return fresh;
    }

    private void freeShadow(String key, Shadow s) throws DeviceException {
        shadows.remove(key);
        try (DeviceMemory.ContextScope scope = memory.enter(s.context())) {
            memory.free(s.address());
        }
    }

    private ByteBuffer pinnedFor(String key, long total) throws DeviceException {
        if (total > Integer.MAX_VALUE) {
            throw new DeviceException("'" + key + "' holds " + total + " bytes, more than one pinned buffer can hold");
        }
        DeviceMemory.PinnedBuffer b = pinned.get(key);
        if (b == null || b.buffer().capacity() < total) {
            if (b != null) {
                pinned.remove(key);
                b.close();
            }
            b = memory.allocatePinned(total);
            pinned.put(key, b);
        }
        ByteBuffer view = b.buffer().duplicate();
        view.clear().limit((int) total);
        return view.slice();
    }

    private void ensureChunkBuffers() throws DeviceException {
        for (int i = 0; i < chunks.length; i++) {
            if (chunks[i] == null) {
                chunks[i] = memory.allocatePinned(chunkBytes);
            }
        }
        if (copyThread == null) {
            copyThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "pauser-device-copy");
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** Device bytes held by shadows. */
    public long shadowBytes() {
        long n = 0;
        for (Shadow s : shadows.values()) {
            n += s.bytes();
        }
        return n;
    }

    /**
     * Frees every shadow (each in its own context); they are allocated again at the next capture that has room.
     * Returns the bytes freed. Call where no write of a shadow is in flight.
     */
    public long freeShadows() throws DeviceException {
        long freed = 0;
        for (Map.Entry<String, Shadow> e : new ArrayList<>(shadows.entrySet())) {
            freeShadow(e.getKey(), e.getValue());
            freed += e.getValue().bytes();
        }
        return freed;
    }

    /**
     * A shadow's bytes, readable once by {@link #writeTo}: copied device to host into one pinned chunk buffer on
     * {@code pauser-device-copy} while the writer writes the previous chunk from the other, so the bus and the disk work
     * at the same time.
     */
    public static final class ShadowStream {
        private final DeviceStaging staging;
        private final long address;
        private final long bytes;
        private final DeviceMemory.DeviceContext context;

        ShadowStream(DeviceStaging staging, long address, long bytes, DeviceMemory.DeviceContext context) {
            this.staging = staging;
            this.address = address;
            this.bytes = bytes;
            this.context = context;
        }

        public long bytes() {
            return bytes;
        }

        /**
         * Hands every byte of the shadow to {@code sink} in order, one chunk at a time; runs on the caller's thread
         * (the writer), the device copies on {@code pauser-device-copy}. A failed device copy is an {@link IOException}.
         */
        public void writeTo(ChunkSink sink) throws IOException {
            int chunk = staging.chunkBytes;
            long count = (bytes + chunk - 1) / chunk;
            Future<ByteBuffer> pending = count == 0 ? null : staging.copyThread.submit(() -> copyChunk(0));
            try {
                for (long i = 0; i < count; i++) {
                    ByteBuffer ready = await(pending);
                    long next = i + 1;
                    pending = next < count ? staging.copyThread.submit(() -> copyChunk(next)) : null;
                    sink.accept(ready);
                }
            } finally {
                if (pending != null) {
                    // a failed write: let the copy in flight finish before its buffer can be used again
                    try {
                        await(pending);
                    } catch (IOException ignored) {
                        // the write's own failure is what the caller reports
                    }
                }
            }
        }

        /** Copies chunk {@code i} into pinned buffer {@code i % 2}; on {@code pauser-device-copy}. */
        private ByteBuffer copyChunk(long i) throws DeviceException {
            long offset = i * staging.chunkBytes;
            int len = (int) Math.min(staging.chunkBytes, bytes - offset);
            ByteBuffer dst = staging.chunks[(int) (i % 2)].buffer().duplicate();
            dst.clear().limit(len);
            dst = dst.slice();
            try (DeviceMemory.ContextScope scope = staging.memory.enter(context)) {
                staging.memory.copyToHost(dst.duplicate(), address + offset);
            }
            return dst;
        }

        private static ByteBuffer await(Future<ByteBuffer> f) throws IOException {
            try {
                return f.get();
            } catch (ExecutionException e) {
                throw new IOException("copying a GPU field's shadow to host memory failed: " + e.getCause().getMessage(),
                        e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while copying a GPU field's shadow to host memory", e);
            }
        }
    }
}
