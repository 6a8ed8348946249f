package dev.pauser.agent.store;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor field. {@code data}: little-endian element bytes from {@code position()} to {@code limit()}, exactly
 * {@code product(shape) * dtype.size()} of them; never modified by the store (it reads through duplicates). An empty
 * {@code shape} is a scalar (one element); a zero dimension makes an empty tensor. A captured GPU field may instead have
 * a {@code source} the store streams when it writes (then {@code data} is null); entries read from disk always have
 * {@code data}.
 */
public record TensorEntry(String key, String declaringClass, String javaType, DType dtype, long[] shape, ByteBuffer data,
        TensorSource source) implements Entry {
    public TensorEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        if ((data == null) == (source == null)) {
            throw new IllegalArgumentException("a tensor entry has either data or a source: '" + key + "'");
        }
    }

    /** A tensor whose bytes are in {@code data}. */
    public TensorEntry(String key, String declaringClass, String javaType, DType dtype, long[] shape, ByteBuffer data) {
        this(key, declaringClass, javaType, dtype, shape, Objects.requireNonNull(data, "data"), null);
    }

    /** The bytes of the tensor: {@code data.remaining()}, or what the source delivers. */
    public long byteLength() {
        return data != null ? data.remaining() : source.byteLength();
    }

    /** True when the bytes come from a {@link TensorSource} while the checkpoint is written. */
    public boolean streamed() {
        return source != null;
    }

    /** {@code product(shape) * dtype.size()}; throws {@link ArithmeticException} on overflow or a negative dimension. */
    public long expectedByteLength() {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new ArithmeticException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return Math.multiplyExact(n, (long) dtype.size());
    }

    @Override
    public String toString() {
        return "TensorEntry[" + key + ", " + dtype + Arrays.toString(shape) + ", " + byteLength() + " bytes"
                + (streamed() ? ", streamed]" : "]");
    }
}
