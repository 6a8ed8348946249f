package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Reads the leaves of a stored object graph back into Java values: a primitive field's stored value as its boxed type,
 * an inline leaf {@code {"class", "value"}} (a box, a string, a big number, a class, an enum constant) as its object,
 * and a stored class name as its class. Classes are loaded by name through the loader of the object holding the graph.
 * Pure functions: they run on the thread where the trainer is restored, while the restore is planned, and touch
 * nothing live.
 */
final class GraphValues {
    private GraphValues() {
    }

    /** The class a stored name stands for: a primitive, an array ({@code int[][]}) or a class of {@code loader}. */
    static Class<?> classNamed(String name, ClassLoader loader) throws ClassNotFoundException {
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
                    return classNamed(name.substring(0, name.length() - 2), loader).arrayType();
                }
                return Class.forName(name, false, loader);
        }
    }

    /** A primitive field's stored value as its boxed type; IllegalArgumentException when it is not one. */
    static Object primitive(JsonNode v, Class<?> t) {
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
    static Object leafValue(JsonNode n, ClassLoader loader) throws Exception {
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
            case "java.lang.Class": return classNamed(v.asText(), loader);
            default:
                Class<?> c = Class.forName(cls, false, loader);
                if (!c.isEnum()) {
                    throw new IllegalStateException(cls + " is not a value type");
                }
                return Enum.valueOf((Class) c, v.asText());
        }
    }
}
