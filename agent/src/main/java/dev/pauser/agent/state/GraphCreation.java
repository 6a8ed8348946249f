package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Creates the live object for a stored one whose live counterpart is null, without running a constructor, and only
 * when every one of its fields comes from the checkpoint: a class of the app or a library (loaded by name through the
 * loader of the object holding it, and assignable to the holder's declared type), an array, a {@code java.util}
 * list/set/map with a no-argument constructor, an atomic or a {@code Random}. Runs on the thread where the
 * trainer is restored, while the restore is planned; the new object is empty until the planned writes run.
 */
final class GraphCreation {
    private static final Set<String> CREATABLE_JDK = Set.of("java.util.ArrayList", "java.util.LinkedList",
            "java.util.ArrayDeque", "java.util.HashMap", "java.util.LinkedHashMap", "java.util.HashSet",
            "java.util.LinkedHashSet", "java.util.Random", AtomicInteger.class.getName(), AtomicLong.class.getName(),
            AtomicBoolean.class.getName());

    private GraphCreation() {
    }

    /** A new, empty object of stored class {@code cls} (node {@code node}); throws saying why it can't be created. */
    static Object create(JsonNode node, String cls, Class<?> declared, ClassLoader loader) throws Exception {
        if (cls.endsWith("[]")) {
            Class<?> component = GraphValues.classNamed(cls.substring(0, cls.length() - 2), loader);
            return Array.newInstance(component, GraphShapes.length(node));
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
}
