package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One walk of an object graph from a field's value, breadth first (no recursion, so a long linked structure can't
 * overflow the stack): every object reached gets an id the first time (so shared references and cycles become
 * {@code {"ref": id}}), its path from the field (the first way it was reached), and a node in the document described in
 * {@link ObjectGraphCodec}. With no staging it only collects the problems (at registration); with staging it also
 * copies each primitive array into a tensor entry. Runs where the field is captured (steps held) or registered.
 */
final class GraphCapture {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String key;
    private final String declaringClass;
    private final Staging staging;
    private final IdentityHashMap<Object, Integer> ids = new IdentityHashMap<>();
    private final List<Object> objects = new ArrayList<>();
    private final List<GraphPath> paths = new ArrayList<>();
    private final Deque<Integer> pending = new ArrayDeque<>();
    private final ObjectNode classes = NODES.objectNode();
    private final ArrayNode nodes = NODES.arrayNode();
    private final List<Entry> tensors = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    /** The small primitive arrays of each dtype, as (node, array), in the order they were met. */
    private final Map<DType, List<Object[]>> packed = new java.util.EnumMap<>(DType.class);

    /** Arrays with at least this many elements get a tensor of their own; smaller ones share one per dtype. */
    static final int OWN_TENSOR_ELEMENTS = 64;
    /** The longest path that names a tensor. */
    private static final int MAX_PATH_KEY = 200;

    private GraphCapture(String key, String declaringClass, Staging staging) {
        this.key = key;
        this.declaringClass = declaringClass;
        this.staging = staging;
    }

    /** Every problem of the graph under {@code value}, one line each naming its path; empty when it can be state. */
    static List<String> problems(String key, Object value) {
        GraphCapture walk = new GraphCapture(key, "", null);
        walk.walk(value);
        return walk.problems;
    }

    /** The graph as its JSON document (first) and its tensors; throws listing every problem when it can't be state. */
    static List<Entry> capture(StateField field, Object value, Staging staging) throws Exception {
        GraphCapture walk = new GraphCapture(field.key(), field.field().getDeclaringClass().getName(), staging);
        walk.walk(value);
        if (!walk.problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", walk.problems));
        }
        ObjectNode doc = NODES.objectNode();
        doc.put("format", ObjectGraphCodec.FORMAT);
        doc.put("root", 0);
        doc.set("classes", walk.classes);
        doc.set("objects", walk.nodes);
        String json = Json.MAPPER.writeValueAsString(doc);
        if ((long) json.length() > Json.MAX_VALUE_BYTES) {
            throw new IllegalStateException("'" + field.key() + "' is " + json.length() + " characters of JSON; one"
                    + " value can hold at most " + Json.MAX_VALUE_BYTES + " (hold large data in primitive arrays)");
        }
        List<Entry> out = new ArrayList<>(walk.tensors.size() + 1);
        out.add(new dev.pauser.agent.store.JsonEntry(field.key(), walk.declaringClass,
                new ObjectGraphCodec().javaType(field), json));
        out.addAll(walk.tensors);
        return out;
    }

    private void walk(Object root) {
        idOf(root, GraphPath.ROOT);
        while (!pending.isEmpty()) {
            int id = pending.poll();
            nodes.add(node(id, objects.get(id), paths.get(id)));
        }
        pack();
    }

    /** The id of an object with identity, numbered on first sight and queued for its node. */
    private int idOf(Object o, GraphPath path) {
        Integer id = ids.get(o);
        if (id != null) {
            return id;
        }
        int n = objects.size();
        ids.put(o, n);
        objects.add(o);
        paths.add(path);
        pending.add(n);
        return n;
    }

    private String where(GraphPath path) {
        String p = path.toString();
        return p.isEmpty() ? key : key + "." + p;
    }

    /** A reference in the graph: null, an inline leaf, or {@code {"ref": id}}. */
    private JsonNode ref(Object o, GraphPath path) {
        if (o == null) {
            return NODES.nullNode();
        }
        if (GraphRules.isLeaf(o.getClass())) {
            return leaf(o);
        }
        GraphRules.Kind kind = GraphRules.kind(o.getClass());
        if (kind == GraphRules.Kind.REFUSED) {
            problems.add(where(path) + ": a " + o.getClass().getName() + " " + GraphRules.refusal(o.getClass()));
            return NODES.nullNode();
        }
        ObjectNode r = NODES.objectNode();
        r.put("ref", idOf(o, path));
        return r;
    }

    /** {@code {"class": ..., "value": ...}}. */
    static ObjectNode leaf(Object o) {
        ObjectNode n = NODES.objectNode();
        Class<?> c = o instanceof Enum<?> e ? e.getDeclaringClass() : o.getClass();
        n.put("class", c.getName());
        if (o instanceof Boolean b) {
            n.put("value", b);
        } else if (o instanceof Double || o instanceof Float) {
            double d = ((Number) o).doubleValue();
            if (Double.isFinite(d)) {
                n.set("value", o instanceof Float f ? NODES.numberNode(f) : NODES.numberNode(d));
            } else {
                n.put("value", o.toString());
            }
        } else if (o instanceof Byte || o instanceof Short || o instanceof Integer || o instanceof Long) {
            n.put("value", ((Number) o).longValue());
        } else if (o instanceof Enum<?> e) {
            n.put("value", e.name());
        } else if (o instanceof Class<?> k) {
            n.put("value", k.getName());
        } else if (o instanceof BigInteger || o instanceof BigDecimal) {
            n.put("value", o.toString());
        } else {
            n.put("value", o.toString()); // String, Character
        }
        return n;
    }

    /** A primitive field's value. */
    private static JsonNode primitive(Field f, Object owner) throws IllegalAccessException {
        Class<?> t = f.getType();
        if (t == boolean.class) {
            return NODES.booleanNode(f.getBoolean(owner));
        }
        if (t == char.class) {
            return NODES.textNode(String.valueOf(f.getChar(owner)));
        }
        if (t == double.class || t == float.class) {
            double d = f.getDouble(owner);
            if (!Double.isFinite(d)) {
                return NODES.textNode(Double.toString(d));
            }
            return t == float.class ? NODES.numberNode(f.getFloat(owner)) : NODES.numberNode(d);
        }
        return NODES.numberNode(f.getLong(owner));
    }

    private ObjectNode node(int id, Object o, GraphPath path) {
        ObjectNode n = NODES.objectNode();
        n.put("id", id);
        Class<?> c = o.getClass();
        n.put("class", c.getTypeName());
        try {
            switch (GraphRules.kind(c)) {
                case PRIMITIVE_ARRAY -> tensor(n, id, o, path);
                case OBJECT_ARRAY, COLLECTION -> {
                    if (o instanceof Set<?>) {
                        for (Object e : (Set<?>) o) {
                            if (e != null && !GraphRules.isLeaf(e.getClass())) {
                                problems.add(where(path) + ": a set of " + e.getClass().getName() + " objects can't"
                                        + " be matched to the live objects on restore (sets may hold only values)");
                                break;
                            }
                        }
                    }
                    ArrayNode elements = n.putArray("elements");
                    int i = 0;
                    for (Object e : GraphRules.elements(o)) {
                        elements.add(ref(e, path.index(i++)));
                    }
                }
                case MAP -> {
                    ArrayNode entries = n.putArray("entries");
                    for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                        Object k = e.getKey();
                        if (k == null || !GraphRules.isLeaf(k.getClass())) {
                            problems.add(where(path) + ": a map key of type " + (k == null ? "null"
                                    : k.getClass().getName()) + " (map keys must be strings, numbers or enums)");
                            continue;
                        }
                        ArrayNode pair = entries.addArray();
                        pair.add(leaf(k));
                        pair.add(ref(e.getValue(), path.index(k)));
                    }
                }
                case ATOMIC -> {
                    if (o instanceof AtomicLong a) {
                        n.put("value", a.get());
                    } else if (o instanceof AtomicInteger a) {
                        n.put("value", a.get());
                    } else {
                        n.put("value", ((AtomicBoolean) o).get());
                    }
                }
                case RANDOM -> n.set("state", RandomCodec.state(o));
                case STATELESS -> n.put("stateless", true);
                case OBJECT -> fields(n, o, path);
                default -> problems.add(where(path) + ": a " + c.getName() + " " + GraphRules.refusal(c));
            }
        } catch (IllegalAccessException | RuntimeException e) {
            problems.add(where(path) + ": a " + c.getName() + " can't be read: " + StateCapture.message(e));
        }
        return n;
    }

    private void fields(ObjectNode n, Object o, GraphPath path) throws IllegalAccessException {
        Class<?> c = o.getClass();
        if (!classes.has(c.getName())) {
            ObjectNode types = classes.putObject(c.getName());
            GraphRules.fieldTypes(c).forEach(types::put);
        }
        ObjectNode values = n.putObject("fields");
        for (Map.Entry<String, Field> e : GraphRules.fields(c).entrySet()) {
            Field f = e.getValue();
            if (f.getType().isPrimitive()) {
                values.set(e.getKey(), primitive(f, o));
            } else {
                values.set(e.getKey(), ref(f.get(o), path.field(e.getKey())));
            }
        }
    }

    /**
     * A primitive array: from {@link #OWN_TENSOR_ELEMENTS} elements on its own tensor keyed {@code fieldKey/path};
     * a smaller one a slice of its dtype's shared tensor {@code fieldKey/packed.<DTYPE>} (a data set of many short rows
     * would otherwise be thousands of tensors), filled after the walk ({@link #pack}).
     */
    private void tensor(ObjectNode n, int id, Object array, GraphPath path) {
        int length = Array.getLength(array);
        DType dtype = Tensors.dtypeOf(array.getClass().getComponentType());
        n.put("length", length);
        if (length < OWN_TENSOR_ELEMENTS) {
            n.put("packed", key + "/packed." + dtype);
            packed.computeIfAbsent(dtype, d -> new ArrayList<>()).add(new Object[] {n, array});
            return;
        }
        String at = path.toString();
        // a path too long to be a readable name (deep inside a linked structure): the object's id instead
        String tensorKey = key + "/" + (at.isEmpty() ? "." : at.length() > MAX_PATH_KEY ? "@" + id : at);
        n.put("tensor", tensorKey);
        if (staging == null) {
            return;
        }
        ByteBuffer slot = staging.slot(tensorKey, (long) length * dtype.size());
        Tensors.put(slot, array);
        slot.flip();
        tensors.add(new TensorEntry(tensorKey, declaringClass, array.getClass().getTypeName(), dtype,
                new long[] {length}, slot));
    }

    /** Copies the small arrays into one tensor per dtype, each node given its element offset there. */
    private void pack() {
        for (Map.Entry<DType, List<Object[]>> e : packed.entrySet()) {
            DType dtype = e.getKey();
            long elements = 0;
            for (Object[] p : e.getValue()) {
                ((ObjectNode) p[0]).put("offset", elements);
                elements += Array.getLength(p[1]);
            }
            if (staging == null) {
                continue;
            }
            String tensorKey = key + "/packed." + dtype;
            ByteBuffer slot = staging.slot(tensorKey, Math.multiplyExact(elements, (long) dtype.size()));
            for (Object[] p : e.getValue()) {
                Tensors.put(slot, p[1]);
            }
            slot.flip();
            String javaType = e.getValue().get(0)[1].getClass().getTypeName(); // one component type per dtype
            tensors.add(new TensorEntry(tensorKey, declaringClass, javaType, dtype, new long[] {elements}, slot));
        }
    }
}
