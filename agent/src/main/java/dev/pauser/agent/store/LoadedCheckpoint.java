package dev.pauser.agent.store;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint read back and verified. Tensor data buffers are little-endian, position 0, limit = byte length; large ones
 * are page-aligned direct buffers, small ones heap buffers. Entries come in the manifest's order.
 */
public record LoadedCheckpoint(Path dir, Manifest manifest, List<Entry> entries) {
    public long step() {
        return manifest.step();
    }

    public Map<String, String> info() {
        return manifest.info();
    }

    public Instant wallTime() {
        return manifest.wallTime();
    }

    /** Entries by key, in manifest order. */
    public Map<String, Entry> byKey() {
        Map<String, Entry> m = new LinkedHashMap<>();
        for (Entry e : entries) {
            m.put(e.key(), e);
        }
        return Collections.unmodifiableMap(m);
    }
}
