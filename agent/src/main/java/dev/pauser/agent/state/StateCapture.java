package dev.pauser.agent.state;

import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Captures the {@code @TrainState} fields of a trainer as entries, on the training thread at a step boundary.
 *
 * <p>Tensors are copied with bulk copies into one reusable set of direct, page-aligned, pre-touched staging buffers
 * (one per tensor key, grown when a value grows, never shrunk); the returned {@link dev.pauser.agent.store.TensorEntry
 * TensorEntries} are views of those buffers, valid until the next {@link #capture} call: the writer must be done with
 * them first (one staging set, so a new capture waits for, or is coalesced with, the write in flight). JSON values are
 * serialized here, so later changes to the fields don't leak into the checkpoint. Not thread-safe: one capture at a
 * time.
 */
public final class StateCapture {
    private final StateSchema schema;
    private final Staging staging = new Staging();

    public StateCapture(StateSchema schema) {
        this.schema = schema;
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
        for (StateField f : schema.fields()) {
            try {
                Object value = f.get(f.owner(trainer));
                if (value == null) {
                    entries.add(new JsonEntry(f.key(), f.field().getDeclaringClass().getName(), f.javaType(), "null"));
                } else {
                    entries.add(f.codec.capture(f, value, staging));
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

    /** Bytes held by the staging buffers. */
    public long stagingBytes() {
        return staging.totalBytes();
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.toString() : m.lines().findFirst().orElse(m);
    }
}
