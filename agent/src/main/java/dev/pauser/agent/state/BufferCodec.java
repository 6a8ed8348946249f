package dev.pauser.agent.state;

import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Type;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * NIO buffers, heap and direct: {@code ByteBuffer} (U8), {@code FloatBuffer} (F32), {@code DoubleBuffer} (F64),
 * {@code IntBuffer} (I32), {@code LongBuffer} (I64), {@code ShortBuffer} (I16), {@code CharBuffer} (U16). The tensor is
 * the content from index 0 to the limit (shape {@code [limit]}); position, limit, capacity, byte order and
 * heap/direct are recorded in the Java type as {@code java.nio.FloatBuffer{direct=true,order=LITTLE_ENDIAN,position=0,
 * limit=100,capacity=100}}. The mark is not kept. Restored in place when the field holds a writable buffer of the same
 * capacity (content 0..limit, then limit, position and, for a ByteBuffer, the byte order); a field holding null gets a
 * new buffer of the recorded kind; another capacity is a shape mismatch.
 */
final class BufferCodec implements Codec {
    private static final Map<Class<?>, DType> TYPES = new LinkedHashMap<>();

    static {
        TYPES.put(ByteBuffer.class, DType.U8);
        TYPES.put(FloatBuffer.class, DType.F32);
        TYPES.put(DoubleBuffer.class, DType.F64);
        TYPES.put(IntBuffer.class, DType.I32);
        TYPES.put(LongBuffer.class, DType.I64);
        TYPES.put(ShortBuffer.class, DType.I16);
        TYPES.put(CharBuffer.class, DType.U16);
    }

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return Buffer.class.isAssignableFrom(type);
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        return kind(type) == null ? "declare it as one of " + TYPES.keySet().stream().map(Class::getSimpleName).toList()
                : null;
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true;
    }

    private static Class<?> kind(Class<?> type) {
        for (Class<?> k : TYPES.keySet()) {
            if (k.isAssignableFrom(type)) {
                return k;
            }
        }
        return null;
    }

    private static ByteOrder order(Buffer b) {
        if (b instanceof ByteBuffer x) {
            return x.order();
        } else if (b instanceof FloatBuffer x) {
            return x.order();
        } else if (b instanceof DoubleBuffer x) {
            return x.order();
        } else if (b instanceof IntBuffer x) {
            return x.order();
        } else if (b instanceof LongBuffer x) {
            return x.order();
        } else if (b instanceof ShortBuffer x) {
            return x.order();
        }
        return ((CharBuffer) b).order();
    }

    @Override
    public long bytes(StateField field, Object value) {
        return (long) ((Buffer) value).limit() * TYPES.get(kind(field.field().getType())).size();
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) {
        Buffer b = (Buffer) value;
        Class<?> kind = kind(field.field().getType());
        DType dtype = TYPES.get(kind);
        int limit = b.limit();
        ByteBuffer slot = staging.slot(field.key(), (long) limit * dtype.size());
        Buffer src = b.duplicate().position(0);
        if (src instanceof ByteBuffer x) {
            slot.put(x);
        } else if (src instanceof FloatBuffer x) {
            slot.asFloatBuffer().put(x);
        } else if (src instanceof DoubleBuffer x) {
            slot.asDoubleBuffer().put(x);
        } else if (src instanceof IntBuffer x) {
            slot.asIntBuffer().put(x);
        } else if (src instanceof LongBuffer x) {
            slot.asLongBuffer().put(x);
        } else if (src instanceof ShortBuffer x) {
            slot.asShortBuffer().put(x);
        } else {
            slot.asCharBuffer().put((CharBuffer) src);
        }
        slot.position(0);
        String type = field.field().getGenericType().getTypeName() + "{direct=" + b.isDirect() + ",order=" + order(b)
                + ",position=" + b.position() + ",limit=" + limit + ",capacity=" + b.capacity() + "}";
        return new TensorEntry(field.key(), field.field().getDeclaringClass().getName(), type, dtype,
                new long[] {limit}, slot);
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        Class<?> kind = kind(field.field().getType());
        DType dtype = TYPES.get(kind);
        if (!(entry instanceof TensorEntry t) || t.dtype() != dtype || t.shape().length != 1) {
            throw new Mismatch("retyped", "checkpoint has " + describe(entry) + ", code has " + kind.getName()
                    + " (" + dtype + ")");
        }
        Map<String, String> attrs = StateSchema.attributes(entry.javaType());
        int position;
        int limit;
        int capacity;
        boolean direct;
        ByteOrder order;
        try {
            position = Integer.parseInt(attrs.get("position"));
            limit = Integer.parseInt(attrs.get("limit"));
            capacity = Integer.parseInt(attrs.get("capacity"));
            direct = Boolean.parseBoolean(attrs.get("direct"));
            order = "BIG_ENDIAN".equals(attrs.get("order")) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        } catch (RuntimeException e) {
            throw new Mismatch("unreadable", "the buffer's position/limit/capacity are missing from its type '"
                    + entry.javaType() + "'");
        }
        if (!(0 <= position && position <= limit && limit <= capacity && t.shape()[0] == limit
                && t.data().remaining() == (long) limit * dtype.size())) {
            throw new Mismatch("unreadable", "inconsistent buffer: position " + position + ", limit " + limit
                    + ", capacity " + capacity + ", " + t.data().remaining() + " bytes");
        }
        ByteBuffer src = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (current != null) {
            Buffer now = (Buffer) current;
            if (now.capacity() == capacity && !now.isReadOnly()) {
                return () -> fill(now, src, position, limit, order);
            }
            if (!field.writable() || now.capacity() != capacity) {
                throw new Mismatch("reshaped", "checkpoint has a buffer of capacity " + capacity + ", code has "
                        + (now.isReadOnly() ? "a read-only buffer" : "capacity " + now.capacity()));
            }
        } else if (!field.writable()) {
            throw new Mismatch("retyped", "the field is null and can't be written (static final)");
        }
        return () -> {
            Buffer fresh = allocate(kind, capacity, direct, order);
            fill(fresh, src, position, limit, order);
            field.set(owner, fresh);
        };
    }

    private static String describe(Entry e) {
        return e instanceof TensorEntry t ? t.dtype() + " " + Tensors.shapeString(t.shape()) : "a JSON value";
    }

    private static Buffer allocate(Class<?> kind, int capacity, boolean direct, ByteOrder order) {
        if (kind == ByteBuffer.class) {
            return (direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity)).order(order);
        }
        if (!direct) {
            if (kind == FloatBuffer.class) {
                return FloatBuffer.allocate(capacity);
            } else if (kind == DoubleBuffer.class) {
                return DoubleBuffer.allocate(capacity);
            } else if (kind == IntBuffer.class) {
                return IntBuffer.allocate(capacity);
            } else if (kind == LongBuffer.class) {
                return LongBuffer.allocate(capacity);
            } else if (kind == ShortBuffer.class) {
                return ShortBuffer.allocate(capacity);
            }
            return CharBuffer.allocate(capacity);
        }
        DType dtype = TYPES.get(kind);
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.multiplyExact(capacity, dtype.size())).order(order);
        if (kind == FloatBuffer.class) {
            return bytes.asFloatBuffer();
        } else if (kind == DoubleBuffer.class) {
            return bytes.asDoubleBuffer();
        } else if (kind == IntBuffer.class) {
            return bytes.asIntBuffer();
        } else if (kind == LongBuffer.class) {
            return bytes.asLongBuffer();
        } else if (kind == ShortBuffer.class) {
            return bytes.asShortBuffer();
        }
        return bytes.asCharBuffer();
    }

    /** Content 0..limit from the little-endian bytes, then limit, position (and a ByteBuffer's order). */
    private static void fill(Buffer target, ByteBuffer src, int position, int limit, ByteOrder order) {
        Buffer dst = target.duplicate().clear();
        if (dst instanceof ByteBuffer x) {
            x.put(src.duplicate());
        } else if (dst instanceof FloatBuffer x) {
            x.put(src.asFloatBuffer());
        } else if (dst instanceof DoubleBuffer x) {
            x.put(src.asDoubleBuffer());
        } else if (dst instanceof IntBuffer x) {
            x.put(src.asIntBuffer());
        } else if (dst instanceof LongBuffer x) {
            x.put(src.asLongBuffer());
        } else if (dst instanceof ShortBuffer x) {
            x.put(src.asShortBuffer());
        } else {
            ((CharBuffer) dst).put(src.asCharBuffer());
        }
        target.clear().limit(limit).position(position);
        if (target instanceof ByteBuffer x) {
            x.order(order);
        }
    }
}
