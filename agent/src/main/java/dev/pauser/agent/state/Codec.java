package dev.pauser.agent.state;

import dev.pauser.agent.store.Entry;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;

/** How one family of field types becomes an {@link Entry} and back. One implementation per family. */
interface Codec {

    /** True when this codec takes fields declared with this type (it may still reject them in {@link #problem}). */
    boolean handles(Class<?> type, Type genericType);

    /**
     * Why a field of this type can't be checkpointed (one line, without the field's name), or null when it can.
     * Called once per field at start-up, after {@link #handles} said yes.
     */
    default String problem(Class<?> type, Type genericType) {
        return null;
    }

    /**
     * True when a non-null current value is filled in place, so a field that can't be written (static final, record
     * component) can still be restored.
     */
    boolean inPlace(Class<?> type);

    /**
     * The type recorded in the entry, compared on restore: by default the field's generic type. Codecs may append
     * attributes in braces ({@code java.nio.FloatBuffer{...}}); only the part before the brace is compared.
     */
    default String javaType(StateField field) {
        return field.field().getGenericType().getTypeName();
    }

    /**
     * The bytes a non-null value takes in a checkpoint, when known without encoding it (an array's or buffer's size, fixed
     * when it is created), else -1. Checked against {@link Staging#MAX_BYTES} when a trainer is registered.
     */
    default long bytes(StateField field, Object value) {
        return -1;
    }

    /** Encodes a non-null value. Tensors are copied into {@code staging}. */
    Entry capture(StateField field, Object value, Staging staging) throws Exception;

    /**
     * Encodes a non-null value as one or more entries, the field's own entry (keyed {@link StateField#key()}) first; a
     * codec that stores a value in several entries names the others {@code key/...} ({@link #ownsPart}).
     */
    default void capture(StateField field, Object value, Staging staging, List<Entry> out) throws Exception {
        out.add(capture(field, value, staging));
    }

    /** True when the entry {@code entryKey} is a further part of this field's value, captured with it. */
    default boolean ownsPart(StateField field, String entryKey) {
        return false;
    }

    /** As {@link #plan(StateField, Entry, Object, Object)}, given the field's further entries by key. */
    default Write plan(StateField field, Entry entry, Map<String, Entry> parts, Object owner, Object current)
            throws Mismatch {
        return plan(field, entry, owner, current);
    }

    /**
     * Checks an entry against the field and its current value without changing anything, and returns the write to
     * perform later. {@code owner} holds the field (null for a static). Throws {@link Mismatch} when they don't fit.
     */
    Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch;

    /** The second phase of a restore: writes one field. */
    @FunctionalInterface
    interface Write {
        void run() throws Exception;
    }

    /** An entry that doesn't fit the field: the message completes "'key' (Class.field): ...". */
    final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;

        final String kind;

        Mismatch(String kind, String message) {
            super(message, null, false, false);
            this.kind = kind;
        }
    }
}
