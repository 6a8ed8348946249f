package dev.pauser.agent.state;

import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * An app's {@code dev.pauser.spi.StateCodec}, called by reflection (the SPI interface lives in the app's copy of
 * pauser-runtime, which the agent can't link against). Its bytes are a 1-D tensor of its dtype, shape
 * {@code [bytes / dtype size]}; the Java type records the codec: {@code com.example.Vec3{codec=com.example.Vec3Codec}}.
 */
final class SpiCodec implements Codec {
    static final String SPI = "dev.pauser.spi.StateCodec";

    private final Object codec;
    private final Method handles;
    private final Method dtype;
    private final Method encode;
    private final Method decode;

    private SpiCodec(Object codec, Class<?> spi) throws NoSuchMethodException {
        this.codec = codec;
        this.handles = spi.getMethod("handles", Class.class);
        this.dtype = spi.getMethod("dtype");
        this.encode = spi.getMethod("encode", Object.class);
        this.decode = spi.getMethod("decode", ByteBuffer.class, Object.class, Class.class);
    }

    /** The codecs the loader's {@code META-INF/services/dev.pauser.spi.StateCodec} lists; none without the SPI. */
    static List<Codec> load(ClassLoader loader, List<String> problems) {
        List<Codec> codecs = new ArrayList<>();
        Class<?> spi;
        try {
            spi = Class.forName(SPI, false, loader);
        } catch (ClassNotFoundException e) {
            return codecs;
        }
        try {
            for (Object c : ServiceLoader.load(spi, loader)) {
                codecs.add(new SpiCodec(c, spi));
            }
        } catch (Throwable e) {
            problems.add("a " + SPI + " could not be loaded: " + e);
        }
        return codecs;
    }

    private Object call(Method m, Object... args) throws Exception {
        try {
            return m.invoke(codec, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception x) {
                throw x;
            }
            throw (Error) cause;
        }
    }

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        try {
            return Boolean.TRUE.equals(call(handles, type));
        } catch (Exception e) {
            throw new IllegalStateException(codec.getClass().getName() + ".handles failed: " + e, e);
        }
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        try {
            dtype();
            return null;
        } catch (Exception e) {
            return codec.getClass().getName() + ".dtype(): " + e.getMessage();
        }
    }

    private DType dtype() throws Exception {
        Object d = call(dtype);
        try {
            return DType.valueOf(String.valueOf(d));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("unknown dtype '" + d + "'", e);
        }
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true;
    }

    @Override
    public String javaType(StateField field) {
        return field.field().getGenericType().getTypeName() + "{codec=" + codec.getClass().getName() + "}";
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        DType d = dtype();
        ByteBuffer bytes = (ByteBuffer) call(encode, value);
        if (bytes == null || bytes.remaining() % d.size() != 0) {
            throw new IllegalStateException(codec.getClass().getName() + ".encode returned "
                    + (bytes == null ? "null" : bytes.remaining() + " bytes, not a whole number of " + d));
        }
        ByteBuffer slot = staging.slot(field.key(), bytes.remaining());
        slot.put(bytes.duplicate()).flip();
        return new TensorEntry(field.key(), field.field().getDeclaringClass().getName(), javaType(field), d,
                new long[] {bytes.remaining() / d.size()}, slot);
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        DType d;
        try {
            d = dtype();
        } catch (Exception e) {
            throw new Mismatch("unreadable", e.getMessage());
        }
        if (!(entry instanceof TensorEntry t) || t.dtype() != d) {
            throw new Mismatch("retyped", "checkpoint has " + (entry instanceof TensorEntry t ? t.dtype().toString()
                    : "a JSON value") + ", the codec " + codec.getClass().getName() + " expects " + d);
        }
        String recorded = StateSchema.attributes(entry.javaType()).get("codec");
        if (recorded != null && !recorded.equals(codec.getClass().getName())) {
            throw new Mismatch("retyped", "checkpoint was written by the codec " + recorded + ", code has "
                    + codec.getClass().getName());
        }
        ByteBuffer data = t.data().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return () -> {
            Object value = call(decode, data, current, field.field().getType());
            if (value != current) {
                field.set(owner, value);
            }
        };
    }
}
