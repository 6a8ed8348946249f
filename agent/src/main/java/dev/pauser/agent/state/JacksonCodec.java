package dev.pauser.agent.state;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JavaType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.lang.reflect.Field;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.HashMap;
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

    /** The nested field types of each field's declared type, worked out at its first capture (capture thread only). */
    private final Map<Field, Map<String, String>> nested = new HashMap<>();

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        Map<String, String> types = nested.computeIfAbsent(field.field(),
                f -> NestedFields.of(f.getGenericType()));
        return new JsonEntry(field.key(), field.field().getDeclaringClass().getName(), javaType(field),
                write(field, value), types);
    }

    /**
     * The value as JSON, or an exception whose one-line message says why it can't be written so that it reads back: a
     * reference cycle or a nesting deeper than {@link Json#MAX_DEPTH} (named with its path), more bytes than one value
     * may hold.
     */
    static String write(StateField field, Object value) throws Exception {
        JavaType type = Json.javaType(field.field().getGenericType());
        String json;
        try {
            json = Json.MAPPER.writerFor(type).writeValueAsString(value);
        } catch (JsonProcessingException | StackOverflowError e) {
            // Jackson meets a cycle as a nesting too deep (or a stack overflow), and its message then lists the whole
            // reference chain: find and name the cycle instead.
            String shape = Json.shapeProblem(field.key(), value);
            if (shape != null) {
                throw new IllegalStateException("'" + field.key() + "' of " + field.field().getDeclaringClass().getName()
                        + " " + shape + ": " + (shape.startsWith("has a reference cycle") ? "break it" : "flatten it")
                        + " (a transient field is skipped) or use a dev.pauser.spi.StateCodec");
            }
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
            why = String.valueOf(why).lines().findFirst().orElse("");
            throw new IllegalStateException("its value can't be written as JSON: "
                    + (why.length() > 300 ? why.substring(0, 300) + "..." : why), e);
        }
        long bytes = utf8Length(json);
        if (bytes > Json.MAX_VALUE_BYTES) {
            throw new IllegalStateException("'" + field.key() + "' is " + bytes + " bytes of JSON; one value can hold at"
                    + " most " + Json.MAX_VALUE_BYTES + " (split it into several @TrainState fields)");
        }
        return json;
    }

    private static long utf8Length(String s) {
        if ((long) s.length() * 3 <= Json.MAX_VALUE_BYTES) {
            return s.length(); // a lower bound; exact only when it matters
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /**
     * Reads a JSON entry as the field's declared type. A value that doesn't fit that type (a property the class no
     * longer has, an enum constant it lost) is a {@code retyped} mismatch; a value Jackson can't even parse (malformed,
     * over a limit) is {@code unreadable}, which is never a code change.
     */
    static Object read(StateField field, Entry entry) throws Mismatch {
        if (!(entry instanceof JsonEntry j)) {
            throw new Mismatch("retyped", "checkpoint has a tensor, code has " + field.javaType());
        }
        Object value;
        try {
            value = Json.MAPPER.readerFor(Json.javaType(field.field().getGenericType())).readValue(j.json());
        } catch (Exception e) {
            String why = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
            why = String.valueOf(why).lines().findFirst().orElse("");
            if (unparsable(e)) {
                throw new Mismatch("unreadable", "its value can't be read back: " + why);
            }
            throw new Mismatch("retyped", "its value doesn't fit " + field.javaType() + ": " + why);
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

    /** Malformed JSON or a parser limit, rather than a value of another shape than the declared type. */
    private static boolean unparsable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StreamConstraintsException || t instanceof JsonParseException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return !(e instanceof JsonProcessingException);
    }

    private static void replace(StateField field, Object owner, Object value, String what) throws Exception {
        if (!field.writable()) {
            throw new IllegalStateException(field.describe() + " holds " + what + " and can't be written");
        }
        field.set(owner, value);
    }
}
