package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Plans the restore of one stored object graph into the live graph the field holds: walks both from the field's value
 * in step, binds each stored object (by id) to the live object at the same path the first time it is reached, and
 * returns the writes that make the live graph equal to the stored one: primitive fields, values, references (so shared
 * references and cycles come back as they were stored), arrays filled in place (a live array of another length is a
 * {@code reshaped} mismatch), collections and maps refilled. Nothing is written while planning.
 *
 * <p>A stored object whose live counterpart is null is created without running a constructor only when every one of its
 * fields comes from the checkpoint: a class of the app or a library (loaded by name through the loader of the object
 * holding it, and assignable to the holder's declared type), an array, a {@code java.util} list/set/map with a
 * no-argument constructor, an atomic or a {@code Random}. Every difference (a class changed, a field added, removed or
 * retyped, a live object of another class, a length a final field can't take) is collected; the plan throws one
 * {@link Codec.Mismatch} listing them all.
 */
final class GraphRestore {
    private static final Set<String> CREATABLE_JDK = Set.of("java.util.ArrayList", "java.util.LinkedList",
            "java.util.ArrayDeque", "java.util.HashMap", "java.util.LinkedHashMap", "java.util.HashSet",
            "java.util.LinkedHashSet", "java.util.Random", AtomicInteger.class.getName(), AtomicLong.class.getName(),
            AtomicBoolean.class.getName());

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
                target = leafValue(stored);
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
        if (sameClass && current.getClass().isArray() && Array.getLength(current) != length(node)) {
            // as for a @TrainState array: a model built with other sizes is not the one checkpointed
            mismatch("reshaped", path, "the checkpoint has " + cls + " of length " + length(node)
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
                target = create(node, cls, declared);
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

    private static int length(JsonNode node) {
        return node.has("length") ? node.get("length").asInt() : node.path("elements").size();
    }

    /** A new, empty object of a stored class whose every field the checkpoint gives. */
    private Object create(JsonNode node, String cls, Class<?> declared) throws Exception {
        if (cls.endsWith("[]")) {
            Class<?> component = classNamed(cls.substring(0, cls.length() - 2));
            return Array.newInstance(component, length(node));
        }
        if (CREATABLE_JDK.contains(cls)) {
            return Class.forName(cls).getConstructor().newInstance();
        }
        if (cls.startsWith("java.") || cls.startsWith("javax.") || cls.startsWith("jdk.") || cls.startsWith("sun.")) {
            throw new IllegalStateException("a " + cls + " is only restored into an existing one");
        }
        Class<?> c = Class.forName(cls, false, loader);
        if (!declared.isAssignableFrom(c)) {
            throw new IllegalStateException(cls + " is not a " + declared.getTypeName());
        }
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers()) || c.isEnum() || c.isRecord() || c.isHidden()
                || GraphRules.kind(c) != GraphRules.Kind.OBJECT) {
            throw new IllegalStateException(cls + " has no state of its own to create it from");
        }
        return allocate(c);
    }

    /**
     * An instance of {@code c} whose constructors didn't run (only Object's): the checkpoint then writes every field.
     * Through {@code sun.reflect.ReflectionFactory} (module jdk.unsupported), as Java serialization creates objects.
     */
    private static Object allocate(Class<?> c) throws Exception {
        Constructor<?> raw = sun.reflect.ReflectionFactory.getReflectionFactory()
                .newConstructorForSerialization(c, Object.class.getDeclaredConstructor());
        return raw.newInstance();
    }

    private Class<?> classNamed(String name) throws ClassNotFoundException {
        switch (name) {
            case "boolean": return boolean.class;
            case "byte": return byte.class;
            case "short": return short.class;
            case "char": return char.class;
            case "int": return int.class;
            case "long": return long.class;
            case "float": return float.class;
            case "double": return double.class;
            default:
                if (name.endsWith("[]")) {
                    return classNamed(name.substring(0, name.length() - 2)).arrayType();
                }
                return Class.forName(name, false, loader);
        }
    }

    /** Plans the writes of one bound object's contents. */
    private void fill(JsonNode node, Object o, GraphPath path) {
        try {
            switch (GraphRules.kind(o.getClass())) {
                case PRIMITIVE_ARRAY -> tensor(node, o, path);
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
                case ATOMIC -> atomic(node, o, path);
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
        Map<String, String> types = GraphRules.fieldTypes(c);
        boolean differs = false;
        for (Map.Entry<String, String> e : types.entrySet()) {
            JsonNode was = storedTypes.get(e.getKey());
            if (was == null) {
                mismatch("added", path, "field " + c.getName() + "." + e.getKey() + " (" + e.getValue() + ") is in the"
                        + " code but not in the checkpoint");
                differs = true;
            } else if (!was.asText().equals(e.getValue())) {
                mismatch("retyped", path, "field " + c.getName() + "." + e.getKey() + ": checkpoint has "
                        + was.asText() + ", code has " + e.getValue());
                differs = true;
            }
        }
        for (java.util.Iterator<String> it = storedTypes.fieldNames(); it.hasNext();) {
            String name = it.next();
            if (!types.containsKey(name)) {
                mismatch("removed", path, "field " + c.getName() + "." + name + " (" + storedTypes.get(name).asText()
                        + ") is in the checkpoint but not in the code");
                differs = true;
            }
        }
        if (differs) {
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
                    value = primitive(v, f.getType());
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
        boolean same = now.size() == wanted.length;
        for (int i = 0; i < wanted.length; i++) {
            int at = i;
            Object cur = i < now.size() ? now.get(i) : null;
            wanted[i] = cur;
            reference(elements.get(i), cur, path.index(i), Object.class, v -> wanted[at] = v);
        }
        // the element setters only fill 'wanted', so they run first; the collection is refilled after them
        writes.add(() -> {
            List<Object> after = GraphRules.elements(o);
            boolean unchanged = after.size() == wanted.length;
            for (int i = 0; unchanged && i < wanted.length; i++) {
                unchanged = after.get(i) == wanted[i];
            }
            if (!unchanged) {
                c.clear();
                c.addAll(java.util.Arrays.asList(wanted));
            }
        });
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void map(JsonNode node, Object o, GraphPath path) throws Exception {
        Map m = (Map) o;
        Map<Object, Object> wanted = new LinkedHashMap<>();
        for (JsonNode pair : node.path("entries")) {
            Object k = leafValue(pair.get(0));
            Object cur = m.get(k);
            wanted.put(k, cur);
            reference(pair.get(1), cur, path.index(k), Object.class, v -> wanted.put(k, v));
        }
        writes.add(() -> {
            boolean unchanged = m.size() == wanted.size();
            for (Map.Entry<Object, Object> e : wanted.entrySet()) {
                unchanged = unchanged && m.containsKey(e.getKey()) && m.get(e.getKey()) == e.getValue();
            }
            if (!unchanged) {
                m.clear();
                m.putAll(wanted);
            }
        });
    }

    private void atomic(JsonNode node, Object o, GraphPath path) {
        JsonNode v = node.path("value");
        if (o instanceof AtomicLong a && v.isIntegralNumber()) {
            writes.add(() -> a.set(v.longValue()));
        } else if (o instanceof AtomicInteger a && v.isIntegralNumber()) {
            writes.add(() -> a.set(v.intValue()));
        } else if (o instanceof AtomicBoolean a && v.isBoolean()) {
            writes.add(() -> a.set(v.booleanValue()));
        } else {
            mismatch("unreadable", path, "the value " + v + " doesn't fit a " + o.getClass().getName());
        }
    }

    private void tensor(JsonNode node, Object array, GraphPath path) throws Codec.Mismatch {
        boolean own = node.has("tensor");
        String tensorKey = own ? node.path("tensor").asText() : node.path("packed").asText();
        Entry e = parts.get(tensorKey);
        if (!(e instanceof TensorEntry t)) {
            throw new Codec.Mismatch("unreadable", "its tensor '" + tensorKey + "' is missing from the checkpoint");
        }
        DType dtype = Tensors.dtypeOf(array.getClass().getComponentType());
        int length = Array.getLength(array);
        long offset = own ? 0 : node.path("offset").asLong(-1);
        long stored = node.path("length").asLong(-1);
        if (t.dtype() != dtype || t.shape().length != 1 || stored != length) {
            throw new Codec.Mismatch("retyped", "the checkpoint has " + t.dtype() + " " + (own
                    ? Tensors.shapeString(t.shape()) : "[" + stored + "]") + " in '" + tensorKey + "', the live array"
                    + " is " + array.getClass().getTypeName() + " of length " + length);
        }
        long from = offset * dtype.size();
        long to = from + (long) length * dtype.size();
        if (offset < 0 || to > t.data().remaining() || own && to != t.data().remaining()) {
            throw new Codec.Mismatch("unreadable", "elements " + offset + " to " + (offset + length) + " are outside"
                    + " the tensor '" + tensorKey + "' " + Tensors.shapeString(t.shape()));
        }
        ByteBuffer src = t.data().duplicate();
        src.position(src.position() + (int) from).limit(src.position() + (int) (to - from));
        ByteBuffer slice = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        writes.add(() -> Tensors.get(slice.duplicate().order(ByteOrder.LITTLE_ENDIAN), array));
    }

    /** A primitive field's stored value as its boxed type. */
    private static Object primitive(JsonNode v, Class<?> t) {
        if (t == boolean.class) {
            if (!v.isBoolean()) {
                throw new IllegalArgumentException();
            }
            return v.booleanValue();
        }
        if (t == char.class) {
            if (!v.isTextual() || v.asText().length() != 1) {
                throw new IllegalArgumentException();
            }
            return v.asText().charAt(0);
        }
        if (t == double.class || t == float.class) {
            double d = v.isTextual() ? Double.parseDouble(v.asText()) : requireNumber(v).doubleValue();
            return t == float.class ? (Object) (float) d : (Object) d;
        }
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException();
        }
        long l = v.longValue();
        if (t == long.class) {
            return l;
        } else if (t == int.class) {
            return Math.toIntExact(l);
        } else if (t == short.class) {
            return (short) l;
        }
        return (byte) l;
    }

    private static Number requireNumber(JsonNode v) {
        if (!v.isNumber()) {
            throw new IllegalArgumentException();
        }
        return v.numberValue();
    }

    /** An inline leaf {@code {"class", "value"}} as its object. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object leafValue(JsonNode n) throws Exception {
        String cls = n.path("class").asText();
        JsonNode v = n.path("value");
        switch (cls) {
            case "java.lang.Boolean": return primitive(v, boolean.class);
            case "java.lang.Byte": return primitive(v, byte.class);
            case "java.lang.Short": return primitive(v, short.class);
            case "java.lang.Integer": return primitive(v, int.class);
            case "java.lang.Long": return primitive(v, long.class);
            case "java.lang.Float": return primitive(v, float.class);
            case "java.lang.Double": return primitive(v, double.class);
            case "java.lang.Character": return primitive(v, char.class);
            case "java.lang.String": return v.asText();
            case "java.math.BigInteger": return new BigInteger(v.asText());
            case "java.math.BigDecimal": return new BigDecimal(v.asText());
            case "java.lang.Class": return classNamed(v.asText());
            default:
                Class<?> c = Class.forName(cls, false, loader);
                if (!c.isEnum()) {
                    throw new IllegalStateException(cls + " is not a value type");
                }
                return Enum.valueOf((Class) c, v.asText());
        }
    }
}
