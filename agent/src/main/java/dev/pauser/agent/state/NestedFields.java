package dev.pauser.agent.state;

import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The nested field types of a JSON-stored value: recorded in the checkpoint when it is written ({@link #of}), compared
 * with the code's on restore ({@link #compare(String, Type, Map)}), so a class that gained, lost or retyped a field is
 * named rather than read wrongly. Walks declared types, never values.
 */
final class NestedFields {
    private NestedFields() {
    }

    /**
     * The declared field types of every class a value of this declared type may hold, found by walking the type (not a
     * value): {@code "com.example.Opt#lr" -> "double"} for each non-static, non-transient field (record components
     * included) of each app class reached through fields, array and collection elements and map values. Each class
     * once, so a type that refers to itself ends the walk.
     */
    static Map<String, String> of(Type declared) {
        Map<String, String> out = new LinkedHashMap<>();
        walkTypes(declared, new HashSet<>(), c -> {
            for (Map.Entry<String, Type> f : fields(c).entrySet()) {
                out.put(c.getName() + "#" + f.getKey(), f.getValue().getTypeName());
            }
        });
        return out;
    }

    private static void walkTypes(Type type, Set<Class<?>> seen, Consumer<Class<?>> visit) {
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
    static List<String> compare(String key, Type declared, Map<String, String> recorded) {
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

    /** An app class Jackson writes field by field (what {@link Json#problem} accepts as a plain object or record). */
    private static boolean isObject(Class<?> c) {
        return !(c.isPrimitive() || c.isEnum() || c.isArray() || Json.isLeaf(c) || c.isInterface()
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
}
