package dev.pauser.agent.checkpoint;

import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.state.StateField;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.TensorEntry;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One trainer whose state every checkpoint holds: its identity, its object ({@code self}, null for a class whose state
 * is static only) and the {@link StateCapture} that copies its fields into its own staging buffers. Its capture and
 * staging methods run where every step thread is held (the gate's control thread, or that of a held checkpoint).
 */
final class RegisteredTrainer {
    final TrainerId id;
    final Class<?> type;
    final Object self;
    final StateCapture capture;

    RegisteredTrainer(TrainerId id, Class<?> type, Object self, StateCapture capture) {
        this.id = id;
        this.type = type;
        this.self = self;
        this.capture = capture;
    }

    /** What the agent knows this trainer by: its object, or its class for static state. */
    Object key() {
        return self != null ? self : type;
    }

    /**
     * Takes over as staging the buffers among {@code loaded} (tensor data by entry name) stored under this trainer's
     * entry names; returns the bytes taken.
     */
    long adopt(Map<String, ByteBuffer> loaded) {
        Map<String, ByteBuffer> byField = new HashMap<>();
        for (StateField f : capture.schema().fields()) {
            ByteBuffer b = loaded.get(id.entryName(f.key()));
            if (b != null) {
                byField.put(f.key(), b);
            }
        }
        return capture.adopt(byField);
    }

    /** Captures the fields under this trainer's entry names. */
    List<Entry> captureEntries() {
        List<Entry> entries = capture.capture(self);
        if (id.ordinal() == 0) {
            return entries;
        }
        List<Entry> named = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            named.add(withKey(e, id.entryName(e.key())));
        }
        return named;
    }

    /** {@code e} under another name, the data shared. */
    static Entry withKey(Entry e, String key) {
        if (key.equals(e.key())) {
            return e;
        }
        if (e instanceof TensorEntry t) {
            return new TensorEntry(key, t.declaringClass(), t.javaType(), t.dtype(), t.shape(), t.data(), t.source());
        }
        JsonEntry j = (JsonEntry) e;
        return new JsonEntry(key, j.declaringClass(), j.javaType(), j.json());
    }
}
