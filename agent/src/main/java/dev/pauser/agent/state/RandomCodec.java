package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * {@code java.util.Random}, {@code SplittableRandom} and the {@code jdk.random} generators ({@code L64X128MixRandom},
 * {@code Xoshiro256PlusPlus}, ...; also a field declared as {@code RandomGenerator} holding one), with their exact
 * internal state: every instance field of the generator's class and superclasses ({@code Random}: the seed,
 * {@code nextNextGaussian}, {@code haveNextNextGaussian}), as JSON
 * {@code {"class": "...", "fields": {"seed": ..., ...}}}. A subclass of {@code Random} of the app's own is captured the
 * same way when its fields are primitives, {@code AtomicLong} or primitive arrays. Restored in place (the same
 * generator object, fields overwritten) when the field holds a generator of the recorded class; a null field gets a new
 * one of the recorded class, which must be the declared class or a JDK generator (class names in a checkpoint are never
 * loaded otherwise). {@code ThreadLocalRandom} (state lives in the thread) and {@code SecureRandom} (state lives in the
 * OS) can't be checkpointed: an error at start-up. Reading JDK internals needs {@link ModuleOpener}.
 */
final class RandomCodec implements Codec {

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return RandomGenerator.class.isAssignableFrom(type);
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        String p = rejected(type);
        if (p != null) {
            return p;
        }
        p = openProblem("java.base", "java.util");
        if (p == null && (type.isInterface() || type.getPackageName().equals("jdk.random"))) {
            p = openProblem("jdk.random", "jdk.random");
        }
        return p;
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true;
    }

    private static String rejected(Class<?> type) {
        if (ThreadLocalRandom.class.isAssignableFrom(type)) {
            return "its state lives in the thread: use a java.util.Random,"
                    + " SplittableRandom or a RandomGeneratorFactory generator in a @TrainState field";
        }
        if (SecureRandom.class.isAssignableFrom(type)) {
            return "its state lives in the OS: use a seeded java.util.Random,"
                    + " SplittableRandom or a RandomGeneratorFactory generator";
        }
        return null;
    }

    /** Null when the package is open to the agent (or absent from this JVM), else how to open it. */
    private static String openProblem(String moduleName, String pkg) {
        Optional<Module> module = ModuleLayer.boot().findModule(moduleName);
        if (module.isEmpty() || module.get().isOpen(pkg, RandomCodec.class.getModule())) {
            return null;
        }
        return "the agent can't read the generators' state: " + moduleName + "/" + pkg + " is not open to it (the"
                + " agent opens it with its Instrumentation; without the agent add --add-opens " + moduleName + "/"
                + pkg + "=ALL-UNNAMED)";
    }

    private static List<Field> stateFields(Class<?> type) {
        List<Field> fields = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers()) && !isStatelessHelper(f)) {
                    fields.add(f);
                }
            }
        }
        return fields;
    }

    /**
     * JDK 17's {@code SplittableRandom.proxy} (an {@code AbstractSplittableGeneratorProxy} that only forwards to the
     * generator itself): no state of its own, recreated by the constructor.
     */
    private static boolean isStatelessHelper(Field f) {
        String t = f.getType().getName();
        return Annotations.isJdk(f.getDeclaringClass()) && t.endsWith("Proxy")
                && (t.startsWith("java.util.") || t.startsWith("jdk.internal.util.random."));
    }

    /** The generator classes whose name a checkpoint may carry into a null field. */
    private static boolean creatable(Class<?> declared, String name) {
        return name.equals(declared.getName()) || name.equals(Random.class.getName())
                || name.equals("java.util.SplittableRandom") || name.startsWith("jdk.random.");
    }

    /** A new generator of the recorded class (its fields are overwritten next). */
    private static Object create(Class<?> declared, String className) throws Exception {
        if (className.equals(Random.class.getName())) {
            return new Random();
        }
        if (className.equals(SplittableRandom.class.getName())) {
            return new SplittableRandom();
        }
        if (className.startsWith("jdk.random.")) {
            // defined by the platform loader, not visible by name from the app's; the factory finds it
            return RandomGeneratorFactory.of(className.substring("jdk.random.".length())).create();
        }
        Constructor<?> c = declared.getDeclaredConstructor();
        c.setAccessible(true);
        return c.newInstance();
    }

    /**
     * The generator's state, {@code {"class": ..., "fields": {...}}}; also the form of a generator inside an object graph
     * ({@link ObjectGraphCodec}).
     */
    static ObjectNode state(Object value) throws IllegalAccessException {
        Class<?> type = value.getClass();
        String p = rejected(type);
        if (p != null) {
            throw new IllegalStateException("a " + type.getName() + " can't be checkpointed: " + p);
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("class", type.getName());
        ObjectNode fields = root.putObject("fields");
        for (Field f : stateFields(type)) {
            f.setAccessible(true);
            String name = fields.has(f.getName()) ? f.getDeclaringClass().getName() + "." + f.getName() : f.getName();
            Object v = f.get(value);
            if (v instanceof AtomicLong a) {
                fields.put(name, a.get());
            } else if (v == null || v instanceof Number || v instanceof Boolean || v instanceof long[]
                    || v instanceof int[] || v instanceof byte[] || v instanceof double[]) {
                fields.set(name, Json.MAPPER.valueToTree(v));
            } else {
                throw new IllegalStateException(type.getName() + "." + f.getName() + " of type "
                        + f.getType().getTypeName() + " can't be captured (generator fields must be primitives,"
                        + " AtomicLong or primitive arrays)");
            }
        }
        return root;
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        return new JsonEntry(field.key(), field.field().getDeclaringClass().getName(), javaType(field),
                Json.MAPPER.writeValueAsString(state(value)));
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        if (!(entry instanceof JsonEntry j)) {
            throw new Mismatch("retyped", "checkpoint has a tensor, code has " + field.javaType());
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(j.json());
        } catch (Exception e) {
            throw new Mismatch("unreadable", "its generator state is not JSON: " + e.getMessage());
        }
        if (root == null || !root.path("class").isTextual() || !root.path("fields").isObject()) {
            throw new Mismatch("unreadable", "its generator state lacks \"class\" or \"fields\"");
        }
        String className = root.get("class").asText();
        Class<?> declared = field.field().getType();
        Class<?> type;
        Object created;
        if (current != null && current.getClass().getName().equals(className)) {
            type = current.getClass();
            created = null;
        } else if (current == null && field.writable() && creatable(declared, className)) {
            try {
                created = create(declared, className);
            } catch (Exception e) {
                throw new Mismatch("retyped", "checkpoint has a " + className + ", which can't be created here: " + e);
            }
            type = created.getClass();
            if (!type.getName().equals(className) || !declared.isAssignableFrom(type)) {
                throw new Mismatch("retyped", "checkpoint has a " + className + ", code has " + declared.getName());
            }
        } else {
            throw new Mismatch("retyped", "checkpoint has a " + className + ", code has "
                    + (current == null ? "null" : "a " + current.getClass().getName()));
        }
        Fill fill = fill((ObjectNode) root.get("fields"), className, type);
        return () -> {
            Object target = created != null ? created : current;
            fill.into(target);
            if (created != null) {
                field.set(owner, target);
            }
        };
    }

    /** Writes a checked generator state into a generator of its class. */
    @FunctionalInterface
    interface Fill {
        void into(Object target) throws Exception;
    }

    /**
     * Checks the recorded fields of a generator of {@code type} ({@code "fields"} of {@link #state}) and returns how to
     * write them into one; throws when they don't fit the class.
     */
    static Fill fill(ObjectNode stored, String className, Class<?> type) throws Mismatch {
        Map<Field, JsonNode> values = new LinkedHashMap<>();
        List<Field> fields = stateFields(type);
        Map<String, Field> byName = new LinkedHashMap<>();
        for (Field f : fields) {
            String name = byName.containsKey(f.getName()) ? f.getDeclaringClass().getName() + "." + f.getName()
                    : f.getName();
            byName.put(name, f);
        }
        if (!byName.keySet().equals(toSet(stored))) {
            throw new Mismatch("retyped", "the state of " + className + " has fields " + toSet(stored)
                    + " in the checkpoint, " + byName.keySet() + " in this JVM");
        }
        for (Map.Entry<String, Field> e : byName.entrySet()) {
            JsonNode v = stored.get(e.getKey());
            Field f = e.getValue();
            Class<?> t = f.getType();
            boolean ok = t == AtomicLong.class || t == long.class || t == int.class || t == short.class
                    || t == byte.class ? v.canConvertToLong() && v.isIntegralNumber()
                    : t == double.class || t == float.class ? v.isNumber() || v.isTextual()
                    : t == boolean.class ? v.isBoolean()
                    : t.isArray() ? v.isArray() || v.isNull() || v.isTextual()
                    : false;
            if (!ok) {
                throw new Mismatch("unreadable", "generator field " + e.getKey() + " has " + v.getNodeType()
                        + ", expected " + t.getTypeName());
            }
            values.put(f, v);
        }
        return target -> {
            for (Map.Entry<Field, JsonNode> e : values.entrySet()) {
                Field f = e.getKey();
                f.setAccessible(true);
                JsonNode v = e.getValue();
                if (f.getType() == AtomicLong.class) {
                    ((AtomicLong) f.get(target)).set(v.longValue());
                } else {
                    f.set(target, Json.MAPPER.treeToValue(v, f.getType()));
                }
            }
        };
    }

    private static java.util.Set<String> toSet(ObjectNode node) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
