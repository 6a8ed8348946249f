package dev.pauser.agent.state;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;

/**
 * Finds compile-time constants: a {@code final} primitive or {@code String} field with a constant initializer carries a
 * {@code ConstantValue} attribute in its class file, and javac inlines its value at every use, so a restored value would
 * never be seen. Reflection can't tell, so the class file is read (from the class's own loader).
 */
final class ConstantFields {
    private ConstantFields() {
    }

    /**
     * True when the field is a compile-time constant, or may be one: a final primitive or String field whose class file
     * can't be read counts as one (the safe answer).
     */
    static boolean isConstant(Field field) {
        if (!Modifier.isFinal(field.getModifiers())
                || !(field.getType().isPrimitive() || field.getType() == String.class)) {
            return false;
        }
        Set<String> constants = constantFieldNames(field.getDeclaringClass());
        return constants == null || constants.contains(field.getName());
    }

    /** Names of the fields with a ConstantValue attribute, or null when the class file can't be read. */
    static Set<String> constantFieldNames(Class<?> type) {
        String resource = type.getName().replace('.', '/') + ".class";
        ClassLoader loader = type.getClassLoader();
        try (InputStream raw = loader == null ? ClassLoader.getSystemResourceAsStream(resource)
                : loader.getResourceAsStream(resource)) {
            if (raw == null) {
                return null;
            }
            return parse(new DataInputStream(raw));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Set<String> parse(DataInputStream in) throws IOException {
        if (in.readInt() != 0xCAFEBABE) {
            return null;
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 3, 4 -> in.skipNBytes(4);
                case 5, 6 -> {
                    in.skipNBytes(8);
                    i++;
                }
                case 7, 8, 16, 19, 20 -> in.skipNBytes(2);
                case 9, 10, 11, 12, 17, 18 -> in.skipNBytes(4);
                case 15 -> in.skipNBytes(3);
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        in.skipNBytes(6); // access, this, super
        int interfaces = in.readUnsignedShort();
        in.skipNBytes(2L * interfaces);
        int fields = in.readUnsignedShort();
        Set<String> constants = new HashSet<>();
        for (int f = 0; f < fields; f++) {
            in.skipNBytes(2);
            String name = utf8[in.readUnsignedShort()];
            in.skipNBytes(2);
            int attributes = in.readUnsignedShort();
            for (int a = 0; a < attributes; a++) {
                String attribute = utf8[in.readUnsignedShort()];
                int length = in.readInt();
                in.skipNBytes(length);
                if ("ConstantValue".equals(attribute)) {
                    constants.add(name);
                }
            }
        }
        return constants;
    }
}
