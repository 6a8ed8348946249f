package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceRelease;
import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Captures the {@code @TrainState} fields of a trainer as entries, where every step thread is held at a boundary: on
 * the gate's control thread {@code pauser-gate} at a safe point, or on the thread of a held checkpoint (the pause hook on
 * {@code pauser-gate}, the stop on {@code pauser-stop}, the exit on {@code pauser-exit}); never on a training thread.
 *
 * <p>Tensors are copied with bulk copies into one reusable set of direct, page-aligned, pre-touched staging buffers
 * (one per tensor key, grown when a value grows, never shrunk); the returned {@link dev.pauser.agent.store.TensorEntry
 * TensorEntries} are views of those buffers, valid until the next {@link #capture} call: the writer must be done with
 * them first (one staging set, so a new capture waits for, or is coalesced with, the write in flight). JSON values are
 * serialized here, so later changes to the fields don't leak into the checkpoint. Large arrays are copied over several
 * threads ({@code pauser-capture-N}, see {@link ParallelCopy}); the staging can be allocated ahead, in the background
 * ({@link #prepareStaging}). GPU fields are copied by the
 * staging's {@link DeviceStaging} (a shadow on the device, streamed when the checkpoint is written, or pinned host
 * memory); {@link #deviceReport} says which. Not thread-safe: one capture at a time.
 */
public final class StateCapture {
    private final StateSchema schema;
    private final Staging staging;

    public StateCapture(StateSchema schema) {
        this.schema = schema;
        this.staging = new Staging();
    }

    /** With GPU fields staged by what {@code deviceStaging} makes of the trainer's device memory. */
    public StateCapture(StateSchema schema, Function<DeviceMemory, DeviceStaging> deviceStaging) {
        this.schema = schema;
        this.staging = new Staging(deviceStaging);
    }

    /** What the last capture's GPU fields took ({@link DeviceStaging.Path#NONE} when it had none). */
    public DeviceStaging.Report deviceReport() {
        DeviceStaging d = staging.deviceOrNull();
        return d == null ? new DeviceStaging.Report(DeviceStaging.Path.NONE, 0, 0) : d.report();
    }

    /**
     * The pointer objects of the trainer's GPU fields (array elements one by one), for giving their memory back while
     * paused; empty when it has none, or when the CUDA driver can't be used (the captures report that). Call where the
     * steps are held.
     */
    public List<DeviceRelease.Target> deviceTargets(Object trainer) throws Exception {
        List<DeviceRelease.Target> out = new ArrayList<>();
        for (StateField f : schema.fields()) {
            if (!(f.codec instanceof DeviceBufferCodec d)) {
                continue;
            }
            DeviceMemory memory = d.memoryOrNull(f);
            Object value = f.get(f.owner(trainer));
            if (memory == null || value == null) {
                continue;
            }
            if (value.getClass().isArray()) {
                for (int i = 0; i < java.lang.reflect.Array.getLength(value); i++) {
                    Object p = java.lang.reflect.Array.get(value, i);
                    if (p != null) {
                        out.add(new DeviceRelease.Target(f.describe() + "[" + i + "]", p, memory));
                    }
                }
            } else {
                out.add(new DeviceRelease.Target(f.describe(), value, memory));
            }
        }
        return out;
    }

    /** The staging of this trainer's GPU fields, or null when none was captured yet. */
    public DeviceStaging deviceStaging() {
        return staging.deviceOrNull();
    }

    public StateSchema schema() {
        return schema;
    }

    /**
     * Every field's entry, in schema order. {@code trainer} may be null when the schema has only static fields. A field
     * that can't be encoded (a ragged array, a generator swapped for a ThreadLocalRandom, ...) fails the whole capture
     * with a {@link StateException} listing every such field.
     */
    public List<Entry> capture(Object trainer) {
        List<Entry> entries = new ArrayList<>(schema.fields().size());
        List<String> problems = new ArrayList<>();
        DeviceStaging device = staging.deviceOrNull();
        if (device != null) {
            device.beginCapture();
        }
        for (StateField f : schema.fields()) {
            try {
                Object value = f.get(f.owner(trainer));
                if (value == null) {
                    entries.add(new JsonEntry(f.key(), f.field().getDeclaringClass().getName(), f.javaType(), "null"));
                } else {
                    f.codec.capture(f, value, staging, entries);
                }
            } catch (Exception e) {
                problems.add(f.describe() + " ('" + f.key() + "'): " + message(e));
            }
        }
        if (!problems.isEmpty()) {
            throw new StateException("pauser: the state can't be captured", problems);
        }
        return entries;
    }

    /**
     * Takes over, as staging, the buffers of this schema's tensor keys found in {@code buffers} (a checkpoint's tensor
     * data, no longer needed once it is restored); returns the bytes taken. Call where {@link #capture} may be called.
     */
    public long adopt(java.util.Map<String, java.nio.ByteBuffer> buffers) {
        long taken = 0;
        for (StateField f : schema.fields()) {
            // Only where restore copied out of the buffer: a codec of the app's may keep a view of it in the field.
            boolean copied = f.codec instanceof ArrayCodec || f.codec instanceof BufferCodec;
            java.nio.ByteBuffer b = buffers.get(f.key());
            if (copied && b != null && staging.adopt(f.key(), b)) {
                taken += b.capacity();
            }
        }
        return taken;
    }

    /**
     * The staging bytes, by tensor key, that the trainer's copied tensor fields (arrays and NIO buffers) need with their
     * current values; read from any thread while training runs, so a value being replaced may be missed (its slot is
     * then grown at the capture, as without preparation).
     */
    public Map<String, Long> stagingSizes(Object trainer) {
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (StateField f : schema.fields()) {
            if (!(f.codec instanceof ArrayCodec || f.codec instanceof BufferCodec)) {
                continue;
            }
            try {
                Object value = f.get(f.owner(trainer));
                long bytes = value == null ? -1 : f.codec.bytes(f, value);
                if (bytes >= 0) {
                    sizes.put(f.key(), bytes);
                }
            } catch (Exception | LinkageError e) {
                // unreadable now: the capture reads it at the safe point and names the problem there
            }
        }
        return sizes;
    }

    /** Direct memory {@link #prepareStaging} would allocate for {@code sizes}. Any thread. */
    public long stagingMissing(Map<String, Long> sizes) {
        return staging.missingBytes(sizes);
    }

    /**
     * Allocates and touches the staging buffers for {@code sizes} ahead of the first capture, and starts the threads
     * that copy large arrays; runs in the background (the checkpoint preparation on "pauser-writer").
     */
    public void prepareStaging(Map<String, Long> sizes) {
        ParallelCopy.start();
        staging.prepare(sizes);
    }

    /**
     * Runs the capture's bulk copies and JSON encoding once on throwaway values, so that the first capture finds their
     * classes loaded and initialized. Any thread; touches no state.
     */
    public static void warmUp() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (Object a : new Object[] {new float[2], new double[2], new long[2], new int[2], new short[2], new char[2],
            new byte[2], new boolean[2]}) {
            b.clear();
            Tensors.put(b, a);
        }
        try {
            Json.MAPPER.writerFor(Json.javaType(Object[].class))
                    .writeValueAsString(new Object[] {0L, 0.5d, "", true, java.util.List.of(1), java.util.Map.of()});
        } catch (Exception e) {
            // loads the same classes whether or not it succeeds
        }
    }

    /**
     * Builds the JSON writers of the trainer's JSON fields (Jackson finds and caches each type's serializer when its
     * writer is made), so the first capture doesn't do it while the steps are held. Reads the field types only; any
     * thread.
     */
    public void prepareJsonWriters() {
        for (StateField f : schema.fields()) {
            if (f.codec instanceof ScalarCodec || f.codec instanceof JacksonCodec) {
                try {
                    Json.MAPPER.writerFor(Json.javaType(f.field().getGenericType()));
                } catch (RuntimeException | LinkageError e) {
                    // the capture meets the same problem and names the field
                }
            }
        }
    }

    /** Starts the threads that copy large arrays into staging. Any thread. */
    public static void startCopyThreads() {
        ParallelCopy.start();
    }

    /** Bytes held by the staging buffers. */
    public long stagingBytes() {
        return staging.totalBytes();
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.toString() : m.lines().findFirst().orElse(m);
    }
}
