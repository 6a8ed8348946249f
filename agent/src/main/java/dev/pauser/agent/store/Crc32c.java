package dev.pauser.agent.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The CRC32C checksums a checkpoint records, computed in one place so that the writer, the reader and the check for an
 * unchanged state agree on which bytes a field's checksum covers: a tensor's data bytes, a JSON value's UTF-8 bytes.
 * Stateless; any thread.
 */
public final class Crc32c {
    private Crc32c() {
    }

    /**
     * The checksum a manifest records for this field's value. Reads a tensor's data through a duplicate. A streamed
     * tensor's bytes are not at hand: its checksum is computed as it is written, so asking here is an error.
     */
    public static int ofField(Entry e) {
        if (e instanceof TensorEntry t) {
            if (t.streamed()) {
                throw new IllegalArgumentException("'" + t.key() + "' is streamed: its CRC32C is known once written");
            }
            return of(t.data());
        }
        return of(valueBytes((JsonEntry) e));
    }

    /** The bytes {@code values.json} holds for a JSON field, the bytes its checksum covers. */
    static byte[] valueBytes(JsonEntry j) {
        return j.json().getBytes(StandardCharsets.UTF_8);
    }

    /** The checksum of {@code b}'s bytes from its position to its limit; {@code b} itself is not moved. */
    static int of(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate());
        return (int) crc.getValue();
    }

    static int of(byte[] b) {
        CRC32C crc = new CRC32C();
        crc.update(b);
        return (int) crc.getValue();
    }
}
