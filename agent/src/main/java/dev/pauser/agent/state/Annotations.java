package dev.pauser.agent.state;

import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code @TrainState} by its name: the app's copy of {@code pauser-runtime} may live in any class loader, and the
 * agent (bootstrap loader) can't link against it.
 */
final class Annotations {
    static final String TRAIN_STATE = "dev.pauser.TrainState";

    /**
     * The attributes of one {@code @TrainState}; {@code dtype}, {@code shape} and {@code bytes} describe GPU memory
     * ("" / empty / -1 when not given, or with a runtime jar older than these attributes).
     */
    record TrainStateInfo(String name, boolean required, String dtype, long[] shape, long bytes) {
    }

    /** A field named by the {@code state=} option: as a plain {@code @TrainState}. */
    private static final TrainStateInfo NAMED = new TrainStateInfo("", true, "", new long[0], -1L);

    /** Class binary name to field names, from the {@code state=} option; set once at start-up. */
    private static volatile Map<String, Set<String>> namedFields = Map.of();

    private Annotations() {
    }

    /** The class of the first named step, whose trainer holds named static fields of other classes; null if none. */
    private static volatile String foreignStaticsOwner;

    static void nameFields(Map<String, Set<String>> fields, String staticsOwner) {
        namedFields = Map.copyOf(fields);
        foreignStaticsOwner = staticsOwner;
    }

    /** Class binary name to field names named by the {@code state=} option. */
    static Map<String, Set<String>> namedFields() {
        return namedFields;
    }

    static String foreignStaticsOwner() {
        return foreignStaticsOwner;
    }

    /** True when the {@code state=} option names this field. */
    static boolean isNamed(Field field) {
        Set<String> named = namedFields.get(field.getDeclaringClass().getName());
        return named != null && named.contains(field.getName());
    }

    /** The field's {@code @TrainState}, as given by the annotation or by the {@code state=} option, or null. */
    static TrainStateInfo trainState(Field field) {
        if (isNamed(field)) {
            TrainStateInfo annotated = annotated(field);
            return annotated != null ? annotated : NAMED;
        }
        return annotated(field);
    }

    private static TrainStateInfo annotated(Field field) {
        for (Annotation a : field.getDeclaredAnnotations()) {
            Class<? extends Annotation> type = a.annotationType();
            if (type.getName().equals(TRAIN_STATE)) {
                Object shape = attribute(a, "shape");
                Object bytes = attribute(a, "bytes");
                return new TrainStateInfo(stringAttribute(a, "name", ""), booleanAttribute(a, "required", true),
                        stringAttribute(a, "dtype", ""), shape instanceof long[] l ? l.clone() : new long[0],
                        bytes instanceof Long b ? b : -1L);
            }
        }
        return null;
    }

    /** True when the class or a superclass declares a {@code @TrainState} field. */
    static boolean hasTrainStateFields(Class<?> type) {
        if (type.isPrimitive() || type.isArray() || type.isInterface() || isJdk(type)) {
            return false;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (trainState(f) != null) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean isJdk(Class<?> type) {
        String n = type.getName();
        return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("jdk.") || n.startsWith("sun.")
                || n.startsWith("com.sun.");
    }

    private static String stringAttribute(Annotation a, String name, String dflt) {
        Object v = attribute(a, name);
        return v instanceof String s ? s : dflt;
    }

    private static boolean booleanAttribute(Annotation a, String name, boolean dflt) {
        Object v = attribute(a, name);
        return v instanceof Boolean b ? b : dflt;
    }

    /** An attribute's value, or null when this version of the annotation lacks it. */
    private static Object attribute(Annotation a, String name) {
        try {
            Method m = a.annotationType().getMethod(name);
            return m.invoke(a);
        } catch (NoSuchMethodException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read @TrainState." + name + ": " + e, e);
        }
    }
}
