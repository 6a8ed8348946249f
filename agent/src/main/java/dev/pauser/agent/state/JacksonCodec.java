package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JavaType;
import dev.pauser.agent.snapshot.Entry;
import dev.pauser.agent.snapshot.JsonEntry;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.Map;

/**
 * Collections, maps, arrays of objects and plain objects (records, or classes with a no-argument constructor) of the
 * supported value types, as JSON through Jackson with field access (getters and setters ignored; {@code transient}
 * fields skipped), read back as the field's declared generic type only (see {@link Json}). A collection, map or object
 * array the field already holds is restored in place (cleared and refilled; same length for arrays), so final fields
 * and references to it stay valid; otherwise the field is set to the new value. Only the declared types are
 * restored: a {@code TreeMap}'s comparator and aliasing between values are not kept.
 */
final class JacksonCodec implements Codec {

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return !type.isPrimitive();
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        return Json.problem(genericType);
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)
                || type.isArray() && !type.getComponentType().isPrimitive();
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        JavaType type = Json.javaType(field.field().getGenericType());
        return new JsonEntry(field.key(), field.field().getDeclaringClass().getName(), javaType(field),
                Json.MAPPER.writerFor(type).writeValueAsString(value));
    }

    /** Reads a JSON entry as the field's declared type; a failure is a mismatch naming what didn't fit. */
    static Object read(StateField field, Entry entry) throws Mismatch {
        if (!(entry instanceof JsonEntry j)) {
            throw new Mismatch("retyped", "checkpoint has a tensor, code has " + field.javaType());
        }
        Object value;
        try {
            value = Json.MAPPER.readerFor(Json.javaType(field.field().getGenericType())).readValue(j.json());
        } catch (Exception e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new Mismatch("unreadable", "its value can't be read as " + field.javaType() + ": " + why);
        }
        if (value == null && field.field().getType().isPrimitive()) {
            throw new Mismatch("retyped", "checkpoint has null, code has " + field.javaType());
        }
        return value;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        Object value = read(field, entry);
        if (current != null && value != null) {
            if (current instanceof Collection c) {
                return () -> {
                    try {
                        c.clear();
                        c.addAll((Collection) value);
                    } catch (UnsupportedOperationException e) {
                        replace(field, owner, value, "an unmodifiable collection");
                    }
                };
            }
            if (current instanceof Map m) {
                return () -> {
                    try {
                        m.clear();
                        m.putAll((Map) value);
                    } catch (UnsupportedOperationException e) {
                        replace(field, owner, value, "an unmodifiable map");
                    }
                };
            }
            if (current instanceof Object[] a) {
                Object[] v = (Object[]) value;
                if (a.length == v.length) {
                    return () -> System.arraycopy(v, 0, a, 0, v.length);
                }
                if (!field.writable()) {
                    throw new Mismatch("reshaped", "checkpoint has length " + v.length + ", code has " + a.length
                            + " and the field can't be replaced");
                }
            }
        }
        if (!field.writable()) {
            throw new Mismatch("retyped", "the field holds " + (current == null ? "null" : "a value that can't be"
                    + " filled in place") + " and can't be written (static final or record component)");
        }
        return () -> field.set(owner, value);
    }

    private static void replace(StateField field, Object owner, Object value, String what) throws Exception {
        if (!field.writable()) {
            throw new IllegalStateException(field.describe() + " holds " + what + " and can't be written");
        }
        field.set(owner, value);
    }
}
