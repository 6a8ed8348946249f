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
import dev.pauser.agent.store.CheckpointReader;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
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

    /** A type Jackson writes as one JSON scalar, with no fields to walk. */
    static boolean isLeaf(Class<?> type) {
        return LEAVES.contains(type);
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
