package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;

/**
 * Objects no other codec takes (a library's model or trainer: no no-argument constructor, private, final and transient
 * fields, shared references, cycles), checkpointed by walking their object graph by reflection and restored by writing
 * the stored values into the live objects the field already references. Classes are never instantiated from the
 * checkpoint except where {@link GraphCreation} says it is safe, and nothing is deserialized with Java serialization.
 *
 * <p>Stored as one JSON document under the field's key ({@code values.json}) and the primitive arrays as tensors
 * ({@code state.safetensors}): one keyed {@code fieldKey/path.to.array} (the path where the walk first met it) per
 * array of {@link GraphCapture#OWN_TENSOR_ELEMENTS} elements or more, the smaller ones as slices of one tensor per
 * dtype, {@code fieldKey/packed.F64} ({@code "packed", "offset", "length"}):
 * <pre>
 * {"format": "pauser-object-graph/1", "root": 0,
 *  "classes": {"com.example.Net": {"weights": "double[]", "layers": "java.util.List&lt;com.example.Layer&gt;"}},
 *  "objects": [
 *    {"id": 0, "class": "com.example.Net", "fields": {"weights": {"ref": 1}, "layers": {"ref": 2}, "epoch": 3}},
 *    {"id": 1, "class": "double[]", "tensor": "net/weights", "length": 4096},
 *    {"id": 2, "class": "java.util.ArrayList", "elements": [{"ref": 0}, {"class": "java.lang.String", "value": "x"}]}]}
 * </pre>
 * Primitive fields are JSON values (non-finite floats as strings, chars as one-character strings); references are
 * null, {@code {"ref": id}} (an object with identity: shared references and cycles point to the same id), or an inline
 * value {@code {"class", "value"}} (boxed primitives, String, BigInteger, BigDecimal, enum constants, Class). What each
 * JDK class becomes is decided by {@link GraphRules}. Runs where fields are captured and restored.
 */
final class ObjectGraphCodec implements Codec {
    static final String FORMAT = "pauser-object-graph/1";

    /**
     * Declared types of the app's or a library's classes and interfaces (never a JDK type or an array, which keep
     * their codecs); {@link StateSchema} asks it only for a field the JSON codec refuses, so values that codec writes
     * keep their on-disk form.
     */
    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return !type.isPrimitive() && !type.isArray() && !Annotations.isJdk(type);
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        if (!type.isInterface() && !java.lang.reflect.Modifier.isAbstract(type.getModifiers())) {
            return GraphRules.refusal(type);
        }
        return null;
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true;
    }

    @Override
    public String javaType(StateField field) {
        return field.field().getGenericType().getTypeName() + "{codec=object-graph}";
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        return GraphCapture.capture(field, value, staging).get(0);
    }

    @Override
    public void capture(StateField field, Object value, Staging staging, List<Entry> out) throws Exception {
        out.addAll(GraphCapture.capture(field, value, staging));
    }

    @Override
    public boolean ownsPart(StateField field, String entryKey) {
        return entryKey.startsWith(field.key() + "/");
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        return plan(field, entry, Map.of(), owner, current);
    }

    @Override
    public Write plan(StateField field, Entry entry, Map<String, Entry> parts, Object owner, Object current)
            throws Mismatch {
        if (!(entry instanceof JsonEntry j)) {
            throw new Mismatch("retyped", "checkpoint has a tensor, code has the object graph of "
                    + field.javaType());
        }
        JsonNode doc;
        try {
            doc = Json.MAPPER.readTree(j.json());
        } catch (Exception e) {
            throw new Mismatch("unreadable", "its object graph is not JSON: " + StateCapture.message(e));
        }
        return GraphRestore.plan(field, doc, parts, current, v -> field.set(owner, v));
    }

    /** Every problem of the graph the field holds now, one line each naming the path; empty when it can be state. */
    static List<String> problems(StateField field, Object value) {
        return GraphCapture.problems(field.key(), value);
    }
}
