package dev.pauser.agent.state;

import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.lang.reflect.Type;

/**
 * Primitives, boxed primitives, {@code String} and enums, as one JSON value each: numbers exactly (Java's shortest
 * round-tripping decimal; NaN and infinities as the strings "NaN", "Infinity", "-Infinity"), a {@code char} as a
 * one-character string, an enum by its {@code name()}. Final fields can't hold them restorably unless they are plain
 * instance fields without a constant initializer.
 */
final class ScalarCodec implements Codec {

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return Json.isScalar(type);
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return false;
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        return new JsonEntry(field.key(), field.field().getDeclaringClass().getName(), javaType(field),
                JacksonCodec.write(field, value));
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        Object value = JacksonCodec.read(field, entry);
        return () -> field.set(owner, value);
    }
}
