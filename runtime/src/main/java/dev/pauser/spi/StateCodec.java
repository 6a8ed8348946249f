package dev.pauser.spi;

import java.nio.ByteBuffer;

/**
 * Teaches the Pauser agent to checkpoint a {@code @TrainState} field type it does not know.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} through the class loader of the trainer class: list
 * the implementation's binary name in {@code META-INF/services/dev.pauser.spi.StateCodec} in your jar. It needs a public
 * no-argument constructor. Codecs found this way are asked before the built-in ones, in class-path order; the first whose
 * {@link #handles} answers {@code true} for a field's declared type encodes that field.
 *
 * <p>The agent calls these methods reflectively (it lives in the bootstrap class loader and can't link against your
 * code): keep to the signatures below. {@link #encode} runs on one of Pauser's threads (the gate's control thread
 * {@code pauser-gate}, or the one taking a checkpoint on pause, stop or exit) while every step thread is held at a step
 * boundary, never on a training thread: keep it to a copy, and don't rely on thread-locals or a GPU context the
 * training thread has current. The buffer it returns is read before the next {@code encode} call of the same codec, so a
 * codec may reuse one buffer. Stored values are untrusted input: {@link #decode} must validate what it reads.
 *
 * <p>The bytes are stored as a one-dimensional tensor of {@link #dtype()} elements (little-endian) in
 * {@code state.safetensors}, so choose a real element type when the value is numeric.
 *
 * <p>Example: a codec for a fixed-size vector class of your own.
 *
 * <pre>{@code
 * public final class Vec3Codec implements StateCodec {
 *     public boolean handles(Class<?> type) {
 *         return type == Vec3.class;
 *     }
 *
 *     public String dtype() {
 *         return "F64";
 *     }
 *
 *     public ByteBuffer encode(Object value) {
 *         Vec3 v = (Vec3) value;
 *         return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(v.x).putDouble(v.y).putDouble(v.z).flip();
 *     }
 *
 *     public Object decode(ByteBuffer data, Object current, Class<?> type) {
 *         if (data.remaining() != 24) {
 *             throw new IllegalArgumentException("a Vec3 needs 24 bytes, got " + data.remaining());
 *         }
 *         ByteBuffer le = data.order(ByteOrder.LITTLE_ENDIAN);
 *         return new Vec3(le.getDouble(), le.getDouble(), le.getDouble());
 *     }
 * }
 * // META-INF/services/dev.pauser.spi.StateCodec:  com.example.Vec3Codec
 * }</pre>
 */
public interface StateCodec {

    /** True when this codec encodes fields declared with {@code type}. Called once per field at start-up. */
    boolean handles(Class<?> type);

    /**
     * The safetensors element type of the bytes {@link #encode} returns: one of {@code F64 F32 I64 I32 I16 U16 I8 U8
     * BOOL}. The default, {@code U8}, stores opaque bytes.
     */
    default String dtype() {
        return "U8";
    }

    /**
     * The value's state as bytes, from the buffer's position to its limit (little-endian when numeric). {@code value}
     * is never null: a null field is stored by the agent without calling the codec.
     */
    ByteBuffer encode(Object value) throws Exception;

    /**
     * Rebuilds a value from what {@link #encode} returned (a read-only buffer, little-endian, position to limit).
     * {@code current} is the field's value now (possibly null): fill it in place and return it when its identity
     * matters (device memory, a final field), or return a new value; the agent writes the returned value into the field
     * unless it is {@code current}. {@code type} is the field's declared type. It is called after every field of the
     * checkpoint has been checked, while fields are written; throwing fails the resume with a message naming the field.
     */
    Object decode(ByteBuffer data, Object current, Class<?> type) throws Exception;
}
