package dev.pauser.agent.state;

import dev.pauser.agent.store.DType;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Bulk copies between one-dimensional primitive arrays and little-endian byte buffers. */
final class Tensors {
    private Tensors() {
    }

    /** The dtype of a primitive element type, or null. */
    static DType dtypeOf(Class<?> primitive) {
        if (primitive == double.class) {
            return DType.F64;
        } else if (primitive == float.class) {
            return DType.F32;
        } else if (primitive == long.class) {
            return DType.I64;
        } else if (primitive == int.class) {
            return DType.I32;
        } else if (primitive == short.class) {
            return DType.I16;
        } else if (primitive == char.class) {
            return DType.U16;
        } else if (primitive == byte.class) {
            return DType.I8;
        } else if (primitive == boolean.class) {
            return DType.BOOL;
        }
        return null;
    }

    /** Copies a 1-D primitive array into {@code dst} (little-endian) at its position, advancing it. */
    static void put(ByteBuffer dst, Object array) {
        int p = dst.position();
        if (array instanceof float[] a) {
            dst.asFloatBuffer().put(a);
            dst.position(p + a.length * 4);
        } else if (array instanceof double[] a) {
            dst.asDoubleBuffer().put(a);
            dst.position(p + a.length * 8);
        } else if (array instanceof long[] a) {
            dst.asLongBuffer().put(a);
            dst.position(p + a.length * 8);
        } else if (array instanceof int[] a) {
            dst.asIntBuffer().put(a);
            dst.position(p + a.length * 4);
        } else if (array instanceof short[] a) {
            dst.asShortBuffer().put(a);
            dst.position(p + a.length * 2);
        } else if (array instanceof char[] a) {
            dst.asCharBuffer().put(a);
            dst.position(p + a.length * 2);
        } else if (array instanceof byte[] a) {
            dst.put(a);
        } else if (array instanceof boolean[] a) {
            for (boolean v : a) {
                dst.put(v ? (byte) 1 : (byte) 0);
            }
        } else {
            throw new IllegalArgumentException("not a primitive array: " + array.getClass().getName());
        }
    }

    /** Fills a 1-D primitive array from {@code src} (little-endian) at its position, advancing it. */
    static void get(ByteBuffer src, Object array) {
        int p = src.position();
        if (array instanceof float[] a) {
            src.asFloatBuffer().get(a);
            src.position(p + a.length * 4);
        } else if (array instanceof double[] a) {
            src.asDoubleBuffer().get(a);
            src.position(p + a.length * 8);
        } else if (array instanceof long[] a) {
            src.asLongBuffer().get(a);
            src.position(p + a.length * 8);
        } else if (array instanceof int[] a) {
            src.asIntBuffer().get(a);
            src.position(p + a.length * 4);
        } else if (array instanceof short[] a) {
            src.asShortBuffer().get(a);
            src.position(p + a.length * 2);
        } else if (array instanceof char[] a) {
            src.asCharBuffer().get(a);
            src.position(p + a.length * 2);
        } else if (array instanceof byte[] a) {
            src.get(a);
        } else if (array instanceof boolean[] a) {
            for (int i = 0; i < a.length; i++) {
                a[i] = src.get() != 0;
            }
        } else {
            throw new IllegalArgumentException("not a primitive array: " + array.getClass().getName());
        }
    }

    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    static String shapeString(long[] shape) {
        return Arrays.toString(shape);
    }
}
