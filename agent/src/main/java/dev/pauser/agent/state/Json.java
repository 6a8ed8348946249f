package dev.pauser.agent.state;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.HashSet;
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
 */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
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
}
