package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.agent.store.Entry;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Plans the restore of one stored object graph into the live graph the field holds: walks both from the field's value
 * in step, binds each stored object (by id) to the live object at the same path the first time it is reached, and
 * returns the writes that make the live graph equal to the stored one: primitive fields, values, references (so shared
 * references and cycles come back as they were stored), arrays filled in place (a live array of another length is a
 * {@code reshaped} mismatch), collections and maps refilled. Nothing is written while planning.
 *
 * <p>This class does the matching and the planning; its helpers each do one job: {@link GraphShapes} compares stored
 * types and shapes with the live ones, {@link GraphCreation} creates a stored object whose live counterpart is null,
 * {@link GraphValues} reads stored leaves back into values, {@link GraphWrites} makes the writes into live containers.
 * Every difference (a class changed, a field added, removed or retyped, a live object of another class, a length a
 * final field can't take) is collected; the plan throws one {@link Codec.Mismatch} listing them all.
 *
 * <p>Runs on the thread where the trainer is restored, as does the returned write.
 */
final class GraphRestore {
    private final String key;
    private final Map<String, Entry> parts;
    private final ClassLoader loader;
    private final JsonNode[] nodes;
    private final JsonNode classes;
    private final Object[] live;
    private final Deque<Runnable> pending = new ArrayDeque<>();
    private final List<Codec.Write> writes = new ArrayList<>();
    private final List<String> mismatches = new ArrayList<>();
    private String firstKind;

    private GraphRestore(String key, Map<String, Entry> parts, ClassLoader loader, JsonNode[] nodes,
            JsonNode classes) {
        this.key = key;
        this.parts = parts;
        this.loader = loader;
        this.nodes = nodes;
        this.classes = classes;
        this.live = new Object[nodes.length];
    }

    /** The writes restoring {@code doc} into {@code current}; the field itself is set with {@code setRoot}. */
    static Codec.Write plan(StateField field, JsonNode doc, Map<String, Entry> parts, Object current,
            Setter setRoot) throws Codec.Mismatch {
        if (doc == null || !ObjectGraphCodec.FORMAT.equals(doc.path("format").asText())
                || !doc.path("objects").isArray() || !doc.path("classes").isObject()) {
            throw new Codec.Mismatch("unreadable", "its object graph is not in the form " + ObjectGraphCodec.FORMAT);
        }
        JsonNode objects = doc.get("objects");
        JsonNode[] nodes = new JsonNode[objects.size()];
        for (int i = 0; i < nodes.length; i++) {
            JsonNode n = objects.get(i);
            if (n.path("id").asInt(-1) != i || !n.path("class").isTextual()) {
                throw new Codec.Mismatch("unreadable", "object " + i + " of its graph has no matching id or class");
            }
            nodes[i] = n;
        }
        if (nodes.length == 0) {
            throw new Codec.Mismatch("unreadable", "its object graph is empty");
        }
        ClassLoader loader = field.field().getDeclaringClass().getClassLoader();
        GraphRestore r = new GraphRestore(field.key(), parts, loader, nodes, doc.get("classes"));
        ObjectNode rootRef = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("ref", 0);
        r.reference(rootRef, current, GraphPath.ROOT, field.field().getType(), field.writable() ? setRoot : null);
        while (!r.pending.isEmpty()) {
            r.pending.poll().run();
        }
        if (!r.mismatches.isEmpty()) {
            throw new Codec.Mismatch(r.firstKind, String.join("; ", r.mismatches));
        }
        List<Codec.Write> writes = r.writes;
        return () -> {
            for (Codec.Write w : writes) {
                w.run();
            }
        };
    }

    /** Writes a value where a reference was found (a field, an array slot), or null where none can be written. */
    @FunctionalInterface
    interface Setter {
        void set(Object value) throws Exception;
    }

    private void mismatch(String kind, GraphPath path, String message) {
        if (firstKind == null) {
            firstKind = kind;
        }
        mismatches.add("at " + where(path) + ": " + message);
    }

    private String where(GraphPath path) {
        String p = path.toString();
        return p.isEmpty() ? key : key + "." + p;
    }

    /** Makes the reference at {@code path} (live value {@code current}) equal the stored one; plans the writes. */
    private void reference(JsonNode stored, Object current, GraphPath path, Class<?> declared, Setter setter) {
        Object target;
        if (stored.isNull()) {
            target = null;
        } else if (stored.has("ref")) {
            int id = stored.get("ref").asInt(-1);
            if (id < 0 || id >= nodes.length) {
                mismatch("unreadable", path, "a reference to the missing object " + stored.get("ref"));
                return;
            }
            target = bind(id, current, path, declared, setter != null);
            if (target == null) {
                return; // a mismatch was recorded
            }
        } else {
            try {
                target = GraphValues.leafValue(stored, loader);
            } catch (Exception e) {
                mismatch("retyped", path, "the value " + stored + " can't be read: " + StateCapture.message(e));
                return;
            }
            if (Objects.equals(target, current)) {
                return;
            }
        }
        if (target == current) {
            return;
        }
        if (setter == null) {
            mismatch("retyped", path, "the live graph holds " + describe(current) + " where the checkpoint has "
                    + (target == null ? "null" : "a " + target.getClass().getTypeName()) + ", and it can't be"
                    + " replaced (a record component or the final field itself)");
            return;
        }
        if (target != null && !declared.isPrimitive() && !declared.isInstance(target)) {
            mismatch("retyped", path, "a " + target.getClass().getTypeName() + " doesn't fit "
                    + declared.getTypeName());
            return;
        }
        Object t = target;
        writes.add(() -> setter.set(t));
    }

    private static String describe(Object o) {
        return o == null ? "null" : "a " + o.getClass().getTypeName();
    }

    /**
     * The live object for stored object {@code id}: the one already bound to it, {@code current} when it is of the
     * stored class (filled later), or a new one; null after recording a mismatch.
     */
    private Object bind(int id, Object current, GraphPath path, Class<?> declared, boolean replaceable) {
        if (live[id] != null) {
            return live[id];
        }
        JsonNode node = nodes[id];
        String cls = node.get("class").asText();
        Object target = current;
        boolean sameClass = current != null && current.getClass().getTypeName().equals(cls);
        if (sameClass && current.getClass().isArray() && Array.getLength(current) != GraphShapes.length(node)) {
            // as for a @TrainState array: a model built with other sizes is not the one checkpointed
            mismatch("reshaped", path, "the checkpoint has " + cls + " of length " + GraphShapes.length(node)
                    + ", the live one has length " + Array.getLength(current));
            return null;
        } else if (current != null && !sameClass) {
            mismatch("retyped", path, "the checkpoint has a " + cls + ", the live graph a "
                    + current.getClass().getTypeName());
            return null;
        }
        if (target == null) {
            if (!replaceable) {
                mismatch("retyped", path, "the live graph holds null where the checkpoint has a " + cls
                        + ", and it can't be written");
                return null;
            }
            try {
                target = GraphCreation.create(node, cls, declared, loader);
            } catch (Exception e) {
                mismatch("added", path, "the live graph holds null where the checkpoint has a " + cls + ", which"
                        + " can't be created here (" + StateCapture.message(e) + "): create it before the first step");
                return null;
            }
        }
        live[id] = target;
        Object bound = target;
        pending.add(() -> fill(node, bound, path));
        return target;
    }

    /** Plans the writes of one bound object's contents. */
    private void fill(JsonNode node, Object o, GraphPath path) {
        try {
            switch (GraphRules.kind(o.getClass())) {
                case PRIMITIVE_ARRAY -> writes.add(GraphWrites.tensor(node, o, parts));
                case OBJECT_ARRAY -> {
                    JsonNode elements = node.path("elements");
                    Class<?> component = o.getClass().getComponentType();
                    for (int i = 0; i < elements.size(); i++) {
                        int at = i;
                        reference(elements.get(i), Array.get(o, i), path.index(i), component,
                                v -> Array.set(o, at, v));
                    }
                }
                case COLLECTION -> collection(node, o, path);
                case MAP -> map(node, o, path);
                case ATOMIC -> writes.add(GraphWrites.atomic(node, o));
                case RANDOM -> {
                    RandomCodec.Fill f = RandomCodec.fill((ObjectNode) node.path("state").path("fields"),
                            node.get("class").asText(), o.getClass());
                    writes.add(() -> f.into(o));
                }
                case STATELESS -> { }
                case OBJECT -> object(node, o, path);
                default -> mismatch("retyped", path, "a " + o.getClass().getName() + " "
                        + GraphRules.refusal(o.getClass()));
            }
        } catch (Codec.Mismatch m) {
            mismatch(m.kind, path, m.getMessage());
        } catch (Exception e) {
            mismatch("unreadable", path, StateCapture.message(e));
        }
    }

    private void object(JsonNode node, Object o, GraphPath path) throws IllegalAccessException {
        Class<?> c = o.getClass();
        JsonNode stored = node.path("fields");
        JsonNode storedTypes = classes.path(c.getName());
        Map<String, Field> fields = GraphRules.fields(c);
        List<GraphShapes.Difference> differences = GraphShapes.fieldDifferences(c, storedTypes);
        for (GraphShapes.Difference d : differences) {
            mismatch(d.kind(), path, d.message());
        }
        if (!differences.isEmpty()) {
            return;
        }
        for (Map.Entry<String, Field> e : fields.entrySet()) {
            Field f = e.getValue();
            JsonNode v = stored.get(e.getKey());
            GraphPath at = path.field(e.getKey());
            if (v == null) {
                mismatch("unreadable", at, "the checkpoint has no value for it");
                continue;
            }
            if (f.getType().isPrimitive()) {
                Object value;
                try {
                    value = GraphValues.primitive(v, f.getType());
                } catch (RuntimeException x) {
                    mismatch("unreadable", at, "the value " + v + " is not a " + f.getType());
                    continue;
                }
                if (Objects.equals(value, f.get(o))) {
                    continue;
                }
                if (!GraphRules.writable(f)) {
                    mismatch("retyped", at, "the record component differs from the checkpoint and can't be written");
                    continue;
                }
                writes.add(() -> f.set(o, value));
            } else {
                reference(v, f.get(o), at, f.getType(), GraphRules.writable(f) ? x -> f.set(o, x) : null);
            }
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void collection(JsonNode node, Object o, GraphPath path) {
        Collection c = (Collection) o;
        List<Object> now = GraphRules.elements(o);
        JsonNode elements = node.path("elements");
        Object[] wanted = new Object[elements.size()];
        for (int i = 0; i < wanted.length; i++) {
            int at = i;
            Object cur = i < now.size() ? now.get(i) : null;
            wanted[i] = cur;
            reference(elements.get(i), cur, path.index(i), Object.class, v -> wanted[at] = v);
        }
        // the element setters only fill 'wanted', so they run first; the collection is refilled after them
        writes.add(GraphWrites.refill(c, wanted));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void map(JsonNode node, Object o, GraphPath path) throws Exception {
        Map m = (Map) o;
        Map<Object, Object> wanted = new LinkedHashMap<>();
        for (JsonNode pair : node.path("entries")) {
            Object k = GraphValues.leafValue(pair.get(0), loader);
            Object cur = m.get(k);
            wanted.put(k, cur);
            reference(pair.get(1), cur, path.index(k), Object.class, v -> wanted.put(k, v));
        }
        writes.add(GraphWrites.refill(m, wanted));
    }

}
