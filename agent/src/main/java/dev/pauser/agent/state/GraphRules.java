package dev.pauser.agent.state;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.Buffer;
import java.nio.channels.Channel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@link ObjectGraphCodec} does with each object of a graph, by its class. The app's and libraries' classes are
 * walked field by field (every instance field of the class and its superclasses, private, final and transient ones
 * too). JDK classes are never walked by their internals: values ({@link #isLeaf}), arrays, {@code java.util}
 * collections and maps (by their elements), atomics and random generators (by their value or seed) have a rule;
 * plain {@code Object}s and locks carry no state and are left as they are; anything else of the JDK is refused.
 */
final class GraphRules {
    /** How one object is stored. */
    enum Kind {
        /** A value written inline: boxed primitives, String, BigInteger, BigDecimal, enum constants, Class. */
        LEAF,
        /** A primitive array: a tensor. */
        PRIMITIVE_ARRAY,
        /** An array of references: its elements. */
        OBJECT_ARRAY,
        /** A {@code java.util} list, deque, queue or set: its elements in iteration order. */
        COLLECTION,
        /** A {@code java.util} map: its entries; the keys must be leaves. */
        MAP,
        /** AtomicInteger, AtomicLong, AtomicBoolean: the value. */
        ATOMIC,
        /** {@code java.util.Random} and its JDK subclasses: the generator's state ({@link RandomCodec#state}). */
        RANDOM,
        /** No state: a plain {@code java.lang.Object} or a {@code java.util.concurrent.locks} lock; kept as it is. */
        STATELESS,
        /** Refused: see {@link #refusal}. */
        REFUSED,
        /** An object of the app or a library: its fields. */
        OBJECT
    }

    private static final Set<Class<?>> LEAVES = Set.of(Boolean.class, Byte.class, Short.class, Character.class,
            Integer.class, Long.class, Float.class, Double.class, String.class, BigInteger.class, BigDecimal.class,
            Class.class);

    /** JDK types that hold a thread, an OS resource or native memory: never state, with what each is. */
    private static final Map<Class<?>, String> NEVER = new LinkedHashMap<>();

    static {
        NEVER.put(Thread.class, "a thread");
        NEVER.put(ThreadGroup.class, "a thread group");
        NEVER.put(ClassLoader.class, "a class loader");
        NEVER.put(Socket.class, "a socket");
        NEVER.put(ServerSocket.class, "a socket");
        NEVER.put(DatagramSocket.class, "a socket");
        NEVER.put(Channel.class, "a channel");
        NEVER.put(InputStream.class, "a stream");
        NEVER.put(OutputStream.class, "a stream");
        NEVER.put(Reader.class, "a reader");
        NEVER.put(Writer.class, "a writer");
        NEVER.put(Reference.class, "a reference");
        NEVER.put(Cleaner.class, "a cleaner");
        NEVER.put(Executor.class, "an executor");
        NEVER.put(Process.class, "a process");
        NEVER.put(Buffer.class, "an NIO buffer (its memory may be native)");
    }

    private GraphRules() {
    }

    static boolean isLeaf(Class<?> c) {
        return LEAVES.contains(c) || c.isEnum() || c.getSuperclass() != null && c.getSuperclass().isEnum();
    }

    static Kind kind(Class<?> c) {
        if (isLeaf(c)) {
            return Kind.LEAF;
        }
        if (c.isArray()) {
            return c.getComponentType().isPrimitive() ? Kind.PRIMITIVE_ARRAY : Kind.OBJECT_ARRAY;
        }
        if (refusal(c) != null) {
            return Kind.REFUSED;
        }
        if (!Annotations.isJdk(c)) {
            return Kind.OBJECT;
        }
        String n = c.getName();
        if (c == Object.class || n.startsWith("java.util.concurrent.locks.")) {
            return Kind.STATELESS;
        }
        if (c == AtomicInteger.class || c == AtomicLong.class || c == AtomicBoolean.class) {
            return Kind.ATOMIC;
        }
        if (Random.class.isAssignableFrom(c)) {
            return Kind.RANDOM;
        }
        if (n.startsWith("java.util.") && Collection.class.isAssignableFrom(c)) {
            return Kind.COLLECTION;
        }
        if (n.startsWith("java.util.") && Map.class.isAssignableFrom(c)) {
            return Kind.MAP;
        }
        return Kind.REFUSED;
    }

    /** Why an object of this class can't be part of the state (the words after "a ClassName at path"), or null. */
    static String refusal(Class<?> c) {
        for (Map.Entry<Class<?>, String> never : NEVER.entrySet()) {
            if (never.getKey().isAssignableFrom(c)) {
                return "is " + never.getValue() + ", which is not state (give the field holding it a"
                        + " dev.pauser.spi.StateCodec)";
            }
        }
        if (Random.class.isAssignableFrom(c) && Annotations.isJdk(c) && c != Random.class) {
            return "keeps its state outside the object (use java.util.Random)";
        }
        if (c.isHidden() || c.isSynthetic()) {
            return "is a lambda or hidden class, whose fields can't be written";
        }
        if (Annotations.isJdk(c)) {
            if (c.isArray() || isLeaf(c)) {
                return null;
            }
            String n = c.getName();
            boolean ruled = c == Object.class || n.startsWith("java.util.concurrent.locks.")
                    || c == AtomicInteger.class || c == AtomicLong.class || c == AtomicBoolean.class || c == Random.class
                    || n.startsWith("java.util.") && (Collection.class.isAssignableFrom(c)
                            || Map.class.isAssignableFrom(c));
            return ruled ? null : "is a JDK class without a rule for its state (give the field holding it a"
                    + " dev.pauser.spi.StateCodec)";
        }
        for (Class<?> k = c.getSuperclass(); k != null && k != Object.class; k = k.getSuperclass()) {
            if (Annotations.isJdk(k)) {
                return "extends the JDK class " + k.getName() + ", whose fields are not walked (give the field"
                        + " holding it a dev.pauser.spi.StateCodec)";
            }
        }
        return null;
    }

    /**
     * The instance fields of an object class, subclass first, by their name in the graph: the field name, or
     * {@code DeclaringClass.name} for a field a subclass hides. Made accessible.
     */
    static Map<String, Field> fields(Class<?> c) {
        Map<String, Field> out = new LinkedHashMap<>();
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                f.setAccessible(true);
                String name = out.containsKey(f.getName()) ? k.getName() + "." + f.getName() : f.getName();
                out.put(name, f);
            }
        }
        return out;
    }

    /** The declared types of {@link #fields}, as recorded in the checkpoint ({@code "classes"}). */
    static Map<String, String> fieldTypes(Class<?> c) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Field> e : fields(c).entrySet()) {
            out.put(e.getKey(), e.getValue().getGenericType().getTypeName());
        }
        return out;
    }

    /** True when a field can be written by reflection: not a record component, not in a hidden class. */
    static boolean writable(Field f) {
        return !f.getDeclaringClass().isRecord() && !f.getDeclaringClass().isHidden();
    }

    /** The elements of a collection or object array, in order. */
    static List<Object> elements(Object value) {
        if (value instanceof Object[] a) {
            return java.util.Arrays.asList(a);
        }
        return new ArrayList<>((Collection<?>) value);
    }
}
