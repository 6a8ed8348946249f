package dev.pauser.agent.state;

import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.TensorEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes entries loaded from a checkpoint back into a trainer's {@code @TrainState} fields, in two phases: first every
 * entry is checked against its field (key, Java type, dtype, shape, readable value) without changing anything; then,
 * only if that found no mismatch (or in {@link OnMismatch#WARN} mode), the fields are written.
 *
 * <p>Mismatches, each one line naming the key and field: a key in the checkpoint but not in the code
 * ({@code removed}); a key in the code but not in the checkpoint, unless {@code @TrainState(required = false)}
 * ({@code added}); a different Java type or dtype ({@code retyped}); a different shape or buffer capacity from the
 * array/buffer/tensor the field holds ({@code reshaped}); a value that doesn't fit the declared type, or whose nested
 * field types (recorded for values written field by field) differ from the code's ({@code retyped}, {@code added},
 * {@code removed} with the nested path, {@code 'opt.lr'}). A value that can't be parsed at all (malformed, over a limit)
 * is not a mismatch: it fails the restore whatever {@link OnMismatch} says. Arrays, buffers, collections, maps and generators the field holds are filled in place; other
 * values are written into the field.
 */
public final class StateRestore {
    /** What a mismatch does. */
    public enum OnMismatch {
        /** Throw one {@link StateMismatchException} listing every mismatch; nothing is written. */
        FAIL,
        /** Return the mismatches; those fields keep the code's values, the others are restored. */
        WARN
    }

    private final StateSchema schema;
    /** Set by {@link #restore}: the fields written and their tensor bytes (WARN mode: skipped fields not counted). */
    private int restoredFields;
    private long restoredBytes;
    private List<String> warnings = List.of();

    public StateRestore(StateSchema schema) {
        this.schema = schema;
    }

    /**
     * One line per field an app's {@code StateCodec} restored into a new object while the object the field held before
     * is still referenced from another {@code @TrainState} field of the trainer (or from inside its value): training
     * would go on updating the old object there. Set by {@link #restore}; empty when there is none.
     */
    public List<String> warnings() {
        return warnings;
    }

    /** The number of fields the last {@link #restore} wrote (skipped mismatches not counted). */
    public int restoredFields() {
        return restoredFields;
    }

    /** The tensor bytes of the fields the last {@link #restore} wrote. */
    public long restoredBytes() {
        return restoredBytes;
    }

    /**
     * Restores the trainer's fields (statics too) from the entries. {@code trainer} may be null when the schema has
     * only static fields.
     *
     * @return the mismatches (empty when the checkpoint fits the code exactly); in WARN mode their fields were skipped
     * @throws StateMismatchException in FAIL mode when there is any mismatch, before anything was written
     * @throws StateException when a value can't be parsed at all (in either mode, before anything was written), or when
     *                        a field can't be written in the second phase (a nested state object is null, an app
     *                        codec fails); fields before it were already written
     */
    public List<String> restore(Object trainer, List<? extends Entry> entries, OnMismatch onMismatch) {
        List<String> mismatches = new ArrayList<>();
        Map<String, Entry> byKey = new LinkedHashMap<>();
        for (Entry e : entries) {
            if (byKey.putIfAbsent(e.key(), e) != null) {
                mismatches.add("duplicate: '" + e.key() + "' appears twice in the checkpoint");
            }
        }
        Map<StateField, Map<String, Entry>> parts = new LinkedHashMap<>();
        for (Entry e : byKey.values()) {
            StateField whole = schema.field(e.key()) == null ? partOf(e.key()) : null;
            if (whole != null) {
                parts.computeIfAbsent(whole, k -> new LinkedHashMap<>()).put(e.key(), e);
            } else if (schema.field(e.key()) == null) {
                mismatches.add("removed: '" + e.key() + "' (" + e.javaType() + ", declared in " + e.declaringClass()
                        + ") is in the checkpoint but not in the code");
            }
        }
        restoredFields = 0;
        restoredBytes = 0;
        warnings = List.of();
        List<String> unreadable = new ArrayList<>();
        List<Codec.Write> writes = new ArrayList<>();
        List<StateField> written = new ArrayList<>();
        List<Object> held = new ArrayList<>();
        long bytes = 0;
        for (StateField f : schema.fields()) {
            Entry e = byKey.get(f.key());
            String where = "'" + f.key() + "' (" + f.describe() + ")";
            if (e == null) {
                if (f.required()) {
                    mismatches.add("added: " + where + " is in the code but not in the checkpoint (mark it"
                            + " @TrainState(required = false) if it may be missing)");
                }
                continue;
            }
            String before = StateSchema.baseType(e.javaType());
            if (!before.equals(f.javaType())) {
                mismatches.add("retyped: " + where + ": checkpoint has " + before + dtypeNote(e) + ", code has "
                        + f.javaType());
                continue;
            }
            if (e instanceof JsonEntry j && j.nestedFields() != null && f.codec instanceof JacksonCodec) {
                // Checkpoints written before the nested field types were recorded have none: they are read as
                // before, with only the declared type of the field itself compared.
                List<String> nested = NestedFields.compare(f.key(), f.field().getGenericType(), j.nestedFields());
                if (!nested.isEmpty()) {
                    mismatches.addAll(nested);
                    continue;
                }
            }
            try {
                Object owner = f.owner(trainer);
                Object current = f.get(owner);
                writes.add(plan(f, e, parts.getOrDefault(f, Map.of()), owner, current));
                written.add(f);
                held.add(current);
                bytes += e instanceof TensorEntry t ? t.data().remaining() : 0;
                for (Entry part : parts.getOrDefault(f, Map.of()).values()) {
                    bytes += part instanceof TensorEntry t ? t.data().remaining() : 0;
                }
            } catch (Codec.Mismatch m) {
                if (m.kind.equals("unreadable")) {
                    unreadable.add("'" + f.key() + "' (" + f.describe() + "): " + m.getMessage());
                } else {
                    mismatches.add(m.kind + ": " + where + ": " + m.getMessage());
                }
            } catch (StateException x) {
                throw x; // the field can't be restored in this JVM at all (a GPU field without a usable driver)
            } catch (Exception x) {
                mismatches.add("unreadable: " + where + ": " + StateCapture.message(x));
            }
        }
        if (!unreadable.isEmpty()) {
            // Not a difference between checkpoint and code, so neither listed as a mismatch nor skipped under WARN
            // (which would train on with the code's initial value as if it had been restored).
            throw new StateException("the checkpoint holds " + (unreadable.size() == 1 ? "a value" : "values")
                    + " that can't be read back (not a code change: the checkpoint is damaged or was written with other"
                    + " limits; resume from another checkpoint, or start afresh with resume=never)", unreadable);
        }
        if (!mismatches.isEmpty() && onMismatch == OnMismatch.FAIL) {
            throw new StateMismatchException(mismatches);
        }
        for (int i = 0; i < writes.size(); i++) {
            try {
                writes.get(i).run();
            } catch (Exception x) {
                throw new StateException("pauser: restoring '" + written.get(i).key() + "' ("
                        + written.get(i).describe() + ") failed: " + StateCapture.message(x), x);
            }
        }
        restoredFields = writes.size();
        restoredBytes = bytes;
        warnings = replacedButReferenced(trainer, written, held);
        return mismatches;
    }

    private List<String> replacedButReferenced(Object trainer, List<StateField> written, List<Object> before) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < written.size(); i++) {
            StateField f = written.get(i);
            Object old = before.get(i);
            if (!(f.codec instanceof SpiCodec) || old == null) {
                continue;
            }
            try {
                if (f.get(f.owner(trainer)) == old) {
                    continue;
                }
                for (StateField other : schema.fields()) {
                    if (other == f) {
                        continue;
                    }
                    String where = References.pathTo(other.get(other.owner(trainer)), other.key(), old);
                    if (where != null) {
                        lines.add("the codec " + StateSchema.attributes(f.codec.javaType(f)).get("codec")
                                + " restored '" + f.key() + "' (" + f.describe() + ") as a new object, but the old one"
                                + " is still referenced from '" + where + "' (" + other.describe() + "), which goes on"
                                + " training it: fill the object decode() is given instead of returning a new one");
                        break;
                    }
                }
            } catch (Exception e) {
                // a field that can't be read now was reported by the restore itself
            }
        }
        return lines;
    }

    /** The field whose value the entry is a further part of (an array in an object graph), or null. */
    private StateField partOf(String entryKey) {
        int slash = entryKey.indexOf('/');
        StateField f = slash < 0 ? null : schema.field(entryKey.substring(0, slash));
        return f != null && f.codec.ownsPart(f, entryKey) ? f : null;
    }

    private static Codec.Write plan(StateField f, Entry e, Map<String, Entry> parts, Object owner, Object current)
            throws Codec.Mismatch {
        if (e instanceof JsonEntry j && "null".equals(j.json().strip())) {
            if (f.field().getType().isPrimitive()) {
                throw new Codec.Mismatch("retyped", "checkpoint has null, code has " + f.javaType());
            }
            if (!f.writable()) {
                if (current == null) {
                    return () -> { };
                }
                throw new Codec.Mismatch("retyped", "checkpoint has null and the field can't be written");
            }
            return () -> f.set(owner, null);
        }
        return f.codec.plan(f, e, parts, owner, current);
    }

    private static String dtypeNote(Entry e) {
        return e instanceof TensorEntry t ? " (" + t.dtype() + " " + Tensors.shapeString(t.shape()) + ")" : "";
    }
}
