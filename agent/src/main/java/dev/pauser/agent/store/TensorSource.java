package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A tensor's bytes that are not in host memory when the checkpoint is laid out (a GPU field's device-side copy): the
 * store pulls them in chunks while it writes {@code state.safetensors} and computes the field's CRC32C from the same
 * chunks, so the manifest (written after the data) still covers every byte. Read once, on the thread committing.
 */
public interface TensorSource {
    /** How many bytes {@link #writeTo} delivers. */
    long byteLength();

    /** Hands every byte to {@code sink} in order, chunk by chunk; each buffer is valid only during the call. */
    void writeTo(Sink sink) throws IOException;

    /** Receives the chunks. */
    @FunctionalInterface
    interface Sink {
        void accept(ByteBuffer chunk) throws IOException;
    }
}
