package dev.pauser.agent.state;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pauser.agent.snapshot.CheckpointReader;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one Jackson mapper for state values, and the start-up check of which types it may handle.
 *
 * <p>Checkpoints are untrusted input, so the mapper reads only the types the code declares: field access (getters and
 * setters ignored), no default typing, annotations ignored (so no {@code @JsonTypeInfo} on an app class can turn on
 * polymorphic reading of class names from the file), unknown properties fail.
 *
 * <p>What is written must read back: reading has no length limit of its own on numbers and strings (Jackson's defaults,
 * 1000 digits and 20M characters, would refuse a {@code BigInteger} or a {@code String} the writer wrote without
 * complaint). Their size is bounded instead by the per-value cap the checkpoint reader applies before it allocates
 * ({@link #MAX_VALUE_BYTES}), which capture checks too. Nesting depth has one limit, {@link #MAX_DEPTH}, for writing and
 * reading alike, so a value too deep fails the checkpoint that would write it, not the resume.
 */
final class Json {
    /** The deepest nesting of JSON arrays and objects written or read. */
    static final int MAX_DEPTH = 1000;
    /** The most bytes one value may take: what the checkpoint reader reads into one buffer (just under 2 GiB). */
    static final long MAX_VALUE_BYTES = CheckpointReader.MAX_FIELD_BYTES;

    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNumberLength(Integer.MAX_VALUE)
                            .maxStringLength(Integer.MAX_VALUE)
                            .maxNameLength(Integer.MAX_VALUE)
                            .maxNestingDepth(MAX_DEPTH)
                            .maxDocumentLength(-1)
                            .build())
                    .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                    .build())
            .visibility(PropertyAccessor.ALL, Visibility.NONE)
            .visibility(PropertyAccessor.FIELD, Visibility.ANY)
            .visibility(PropertyAccessor.CREATOR, Visibility.ANY)
            .disable(MapperFeature.USE_ANNOTATIONS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Set<Class<?>> LEAVES = Set.of(Boolean.class, Byte.class, Short.class, Character.class,
            Integer.class, Long.class, Float.class, Double.class, String.class, BigInteger.class, BigDecimal.class,
            AtomicBoolean.class, AtomicInteger.class, AtomicLong.class);

    private Json() {
    }

    static JavaType javaType(Type type) {
        return MAPPER.getTypeFactory().constructType(type);
    }

    static boolean isScalar(Class<?> type) {
        return type.isPrimitive() || type.isEnum() || LEAVES.contains(type) && !type.getName().contains("Atomic");
    }

    /** Why Jackson can't round-trip this declared type exactly, or null when it can. */
    static String problem(Type type) {
        return problem(type, new HashSet<>());
    }

    private static String problem(Type type, Set<Type> seen) {
        if (!seen.add(type)) {
            return null;
        }
        if (type instanceof Class<?> c) {
            if (c.isPrimitive() || c.isEnum() || LEAVES.contains(c)) {
                return null;
            }
            if (c.isArray()) {
                return problem(c.getComponentType(), seen);
            }
            if (Collection.class.isAssignableFrom(c) || Map.class.isAssignableFrom(c)) {
                return "declare the element types of " + c.getName() + " (e.g. List<Float>): raw collections can't be"
                        + " restored exactly";
            }
            if (c == Object.class || c.isInterface() || Modifier.isAbstract(c.getModifiers())) {
                return "declare a concrete type instead of " + c.getTypeName()
                        + " (the checkpoint stores no class names)";
            }
            if (Annotations.isJdk(c)) {
                return "no codec handles the JDK class " + c.getName() + " (add a dev.pauser.spi.StateCodec)";
            }
            if (c.isAnonymousClass() || c.isLocalClass()
                    || c.isMemberClass() && !Modifier.isStatic(c.getModifiers())) {
                return c.getName() + " must be a top-level or static nested class";
            }
            if (c.isRecord()) {
                for (RecordComponent rc : c.getRecordComponents()) {
                    String p = problem(rc.getGenericType(), seen);
                    if (p != null) {
                        return p + " (in " + c.getName() + "." + rc.getName() + ")";
                    }
                }
                return null;
            }
            try {
                c.getDeclaredConstructor();
            } catch (NoSuchMethodException e) {
                return c.getName() + " needs a no-argument constructor (any visibility) to be restored from JSON";
            }
            for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
                if (Annotations.isJdk(k)) {
                    return c.getName() + " extends " + k.getName() + ", which is not supported";
                }
                for (Field f : k.getDeclaredFields()) {
                    int m = f.getModifiers();
                    if (Modifier.isStatic(m) || Modifier.isTransient(m) || f.isSynthetic()) {
                        continue;
                    }
                    String p = problem(f.getGenericType(), seen);
                    if (p != null) {
                        return p + " (in " + k.getName() + "." + f.getName() + ")";
                    }
                }
            }
            return null;
        }
        if (type instanceof ParameterizedType pt) {
            Class<?> raw = (Class<?>) pt.getRawType();
            if (Collection.class.isAssignableFrom(raw) || Map.class.isAssignableFrom(raw)) {
                if (!raw.getName().startsWith("java.util.") || raw.getName().startsWith("java.util.concurrent.")
                        && !raw.getName().startsWith("java.util.concurrent.Concurrent")) {
                    return raw.getName() + " is not supported: use a java.util collection or map";
                }
                Type[] args = pt.getActualTypeArguments();
                if (Map.class.isAssignableFrom(raw) && args.length == 2) {
                    Type key = args[0];
                    if (!(key instanceof Class<?> k && (k == String.class || k.isEnum() || LEAVES.contains(k)
                            && !k.getName().contains("Atomic")))) {
                        return "map keys must be strings, numbers or enums, not " + key.getTypeName();
                    }
                }
                for (Type a : args) {
                    String p = problem(a, seen);
                    if (p != null) {
                        return p;
                    }
                }
                return null;
            }
            return "generic class " + pt.getTypeName() + " is not supported (declare a concrete non-generic type)";
        }
        if (type instanceof GenericArrayType ga) {
            return problem(ga.getGenericComponentType(), seen);
        }
        return "declare a concrete type instead of " + type.getTypeName();
    }

    // ---- the nested field types of a value: recorded in the checkpoint, compared on restore ----

    /**
     * The declared field types of every class a value of this declared type may hold, found by walking the type (not a
     * value): {@code "com.example.Opt#lr" -> "double"} for each non-static, non-transient field (record components
     * included) of each app class reached through fields, array and collection elements and map values. Each class
     * once, so a type that refers to itself ends the walk.
     */
    static Map<String, String> nestedFields(Type declared) {
        Map<String, String> out = new LinkedHashMap<>();
        walkTypes(declared, new HashSet<>(), c -> {
            for (Map.Entry<String, Type> f : fields(c).entrySet()) {
                out.put(c.getName() + "#" + f.getKey(), f.getValue().getTypeName());
            }
        });
        return out;
    }

    private static void walkTypes(Type type, Set<Class<?>> seen, java.util.function.Consumer<Class<?>> visit) {
        Type element = element(type);
        if (element != null) {
            walkTypes(element, seen, visit);
            return;
        }
        if (type instanceof Class<?> c && isObject(c) && seen.add(c)) {
            visit.accept(c);
            for (Type t : fields(c).values()) {
                walkTypes(t, seen, visit);
            }
        }
    }

    /**
     * One line per difference between the nested field types recorded in a checkpoint and the code's, each naming the
     * path from the key ({@code 'opt.lr'}, {@code 'layers[].bias'}): {@code added}, {@code removed}, {@code retyped}.
     * Empty when they agree. A field whose type changed is reported, not walked into.
     */
    static List<String> compareNested(String key, Type declared, Map<String, String> recorded) {
        Map<String, Map<String, String>> byClass = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : recorded.entrySet()) {
            int hash = e.getKey().indexOf('#');
            if (hash > 0) {
                byClass.computeIfAbsent(e.getKey().substring(0, hash), k -> new LinkedHashMap<>())
                        .put(e.getKey().substring(hash + 1), e.getValue());
            }
        }
        List<String> out = new ArrayList<>();
        compare(key, declared, byClass, new HashSet<>(), out);
        return out;
    }

    private static void compare(String path, Type type, Map<String, Map<String, String>> recorded, Set<Class<?>> seen,
            List<String> out) {
        Type element = element(type);
        if (element != null) {
            compare(path + "[]", element, recorded, seen, out);
            return;
        }
        if (!(type instanceof Class<?> c) || !isObject(c) || !seen.add(c)) {
            return;
        }
        Map<String, String> before = recorded.getOrDefault(c.getName(), Map.of());
        Map<String, Type> now = fields(c);
        for (Map.Entry<String, Type> f : now.entrySet()) {
            String at = "'" + path + "." + f.getKey() + "' (" + c.getName() + "." + f.getKey() + ")";
            String was = before.get(f.getKey());
            String is = f.getValue().getTypeName();
            if (was == null) {
                out.add("added: " + at + " (" + is + ") is in the code but not in the checkpoint");
            } else if (!was.equals(is)) {
                out.add("retyped: " + at + ": checkpoint has " + was + ", code has " + is);
            } else {
                compare(path + "." + f.getKey(), f.getValue(), recorded, seen, out);
            }
        }
        for (Map.Entry<String, String> f : before.entrySet()) {
            if (!now.containsKey(f.getKey())) {
                out.add("removed: '" + path + "." + f.getKey() + "' (" + f.getValue() + ", declared in " + c.getName()
                        + ") is in the checkpoint but not in the code");
            }
        }
    }

    /** The element type of an array or collection, the value type of a map; null for anything else. */
    private static Type element(Type type) {
        if (type instanceof Class<?> c && c.isArray()) {
            return c.getComponentType();
        }
        if (type instanceof GenericArrayType ga) {
            return ga.getGenericComponentType();
        }
        if (type instanceof ParameterizedType pt && pt.getRawType() instanceof Class<?> raw) {
            Type[] args = pt.getActualTypeArguments();
            if (Collection.class.isAssignableFrom(raw) && args.length == 1) {
                return args[0];
            }
            if (Map.class.isAssignableFrom(raw) && args.length == 2) {
                return args[1];
            }
        }
        return null;
    }

    /** An app class Jackson writes field by field (what {@link #problem} accepts as a plain object or record). */
    private static boolean isObject(Class<?> c) {
        return !(c.isPrimitive() || c.isEnum() || c.isArray() || LEAVES.contains(c) || c.isInterface()
                || Modifier.isAbstract(c.getModifiers()) || Collection.class.isAssignableFrom(c)
                || Map.class.isAssignableFrom(c) || Annotations.isJdk(c));
    }

    /** The fields Jackson writes for a plain object or record, by name, subclass first. */
    static Map<String, Type> fields(Class<?> c) {
        Map<String, Type> out = new LinkedHashMap<>();
        if (c.isRecord()) {
            for (RecordComponent rc : c.getRecordComponents()) {
                out.put(rc.getName(), rc.getGenericType());
            }
            return out;
        }
        for (Class<?> k = c; k != null && k != Object.class && !Annotations.isJdk(k); k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                int m = f.getModifiers();
                if (!Modifier.isStatic(m) && !Modifier.isTransient(m) && !f.isSynthetic()) {
                    out.putIfAbsent(f.getName(), f.getGenericType());
                }
            }
        }
        return out;
    }

    // ---- why a value could not be written ----

    /**
     * Finds a reference cycle in a value, following what Jackson writes (fields of plain objects, elements, map values),
     * or a nesting deeper than {@link #MAX_DEPTH}: the words after "its value", or null when there is neither. Called
     * only after writing failed, so its cost doesn't matter.
     */
    static String shapeProblem(String key, Object value) {
        List<Object> stack = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        return walkValue(key, value, stack, paths);
    }

    private static String walkValue(String path, Object value, List<Object> stack, List<String> paths) {
        if (value == null || isScalar(value.getClass()) || value.getClass().isArray()
                && value.getClass().getComponentType().isPrimitive() || value instanceof Number
                || value instanceof AtomicBoolean) {
            return null;
        }
        for (int i = 0; i < stack.size(); i++) {
            if (stack.get(i) == value) {
                return "has a reference cycle (" + path + " refers back to " + paths.get(i) + ")";
            }
        }
        if (stack.size() >= MAX_DEPTH) {
            return "nests deeper than " + MAX_DEPTH + " levels (at " + path + ")";
        }
        stack.add(value);
        paths.add(path);
        try {
            if (value instanceof Object[] a) {
                for (int i = 0; i < a.length; i++) {
                    String p = walkValue(path + "[" + i + "]", a[i], stack, paths);
                    if (p != null) {
                        return p;
                    }
                }
            } else if (value instanceof Collection<?> c) {
                int i = 0;
                for (Object o : c) {
                    String p = walkValue(path + "[" + i++ + "]", o, stack, paths);
                    if (p != null) {
                        return p;
                    }
                }
            } else if (value instanceof Map<?, ?> m) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String p = walkValue(path + "[" + e.getKey() + "]", e.getValue(), stack, paths);
                    if (p != null) {
                        return p;
                    }
                }
            } else if (!Annotations.isJdk(value.getClass())) {
                for (Class<?> k = value.getClass(); k != null && k != Object.class && !Annotations.isJdk(k);
                        k = k.getSuperclass()) {
                    for (Field f : k.getDeclaredFields()) {
                        int mod = f.getModifiers();
                        if (Modifier.isStatic(mod) || Modifier.isTransient(mod) || f.isSynthetic()
                                || f.getType().isPrimitive() || !f.trySetAccessible()) {
                            continue;
                        }
                        Object child;
                        try {
                            child = f.get(value);
                        } catch (IllegalAccessException e) {
                            continue;
                        }
                        String p = walkValue(path + "." + f.getName(), child, stack, paths);
                        if (p != null) {
                            return p;
                        }
                    }
                }
            }
            return null;
        } finally {
            stack.remove(stack.size() - 1);
            paths.remove(paths.size() - 1);
        }
    }
}
