package dev.pauser.agent.state;

import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Array;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Primitive arrays of any rank ({@code float[]}, {@code double[][]}, {@code int[][][]}, ...) as tensors: the dtype of the
 * element type ({@code char} → U16, {@code boolean} → BOOL, {@code byte} → I8), the shape of the array, row-major
 * little-endian bytes. Multi-dimensional arrays must be rectangular: a ragged array or a null row is an error at
 * capture naming the field and the row (store ragged data in a {@code List<float[]>}, which goes to JSON). Restored in
 * place when the field holds an array of the same shape (so final fields and aliases keep working); a field holding
 * null gets a new array.
 */
final class ArrayCodec implements Codec {

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return type.isArray() && leaf(type).isPrimitive();
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true;
    }

    static Class<?> leaf(Class<?> type) {
        Class<?> c = type;
        while (c.isArray()) {
            c = c.getComponentType();
        }
        return c;
    }

    static int rank(Class<?> type) {
        int r = 0;
        for (Class<?> c = type; c.isArray(); c = c.getComponentType()) {
            r++;
        }
        return r;
    }

    /** The shape of a rectangular array; throws naming the first ragged or null row. */
    static long[] shape(Object array, int rank) {
        long[] shape = new long[rank];
        Object o = array;
        for (int d = 0; d < rank; d++) {
            int n = Array.getLength(o);
            shape[d] = n;
            if (n == 0 || d == rank - 1) {
                break;
            }
            o = Array.get(o, 0);
            if (o == null) {
                throw new IllegalStateException("null row at " + "[0]".repeat(d + 1));
            }
        }
        checkRectangular(array, shape, 0, "");
        return shape;
    }

    private static void checkRectangular(Object array, long[] shape, int d, String at) {
        if (array == null) {
            throw new IllegalStateException("null row at " + at + " (only rectangular arrays are tensors)");
        }
        int n = Array.getLength(array);
        if (n != shape[d]) {
            throw new IllegalStateException("ragged array: " + (at.isEmpty() ? "it" : "row " + at) + " has length " + n
                    + ", expected " + shape[d] + " (only rectangular arrays are tensors)");
        }
        if (d + 1 < shape.length) {
            for (int i = 0; i < n; i++) {
                checkRectangular(Array.get(array, i), shape, d + 1, at + "[" + i + "]");
            }
        }
    }

    @Override
    public long bytes(StateField field, Object value) {
        Class<?> type = field.field().getType();
        try {
            return Math.multiplyExact(Tensors.elements(shape(value, rank(type))), Tensors.dtypeOf(leaf(type)).size());
        } catch (RuntimeException raggedOrHuge) {
            return raggedOrHuge instanceof ArithmeticException ? Long.MAX_VALUE : -1; // ragged: named at capture
        }
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) {
        Class<?> type = field.field().getType();
        DType dtype = Tensors.dtypeOf(leaf(type));
        long[] shape = shape(value, rank(type));
        long bytes = Math.multiplyExact(Tensors.elements(shape), dtype.size());
        ByteBuffer slot = staging.slot(field.key(), bytes);
        copyOut(value, shape.length, slot);
        slot.flip();
        return new TensorEntry(field.key(), field.field().getDeclaringClass().getName(), javaType(field), dtype, shape,
                slot);
    }

    private static void copyOut(Object array, int rank, ByteBuffer dst) {
        if (rank == 1) {
            ParallelCopy.put(dst, array);
        } else {
            for (Object row : (Object[]) array) {
                copyOut(row, rank - 1, dst);
            }
        }
    }

    private static void copyIn(ByteBuffer src, Object array, int rank) {
        if (rank == 1) {
            Tensors.get(src, array);
        } else {
            for (Object row : (Object[]) array) {
                copyIn(src, row, rank - 1);
            }
        }
    }

    private static long[] shapeOrNull(Object array, int rank) {
        try {
            return shape(array, rank);
        } catch (IllegalStateException e) {
            return null;
        }
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        Class<?> type = field.field().getType();
        DType dtype = Tensors.dtypeOf(leaf(type));
        if (!(entry instanceof TensorEntry t)) {
            throw new Mismatch("retyped", "checkpoint has a JSON value, code has the tensor " + type.getTypeName());
        }
        if (t.dtype() != dtype || t.shape().length != rank(type)) {
            throw new Mismatch("retyped", "checkpoint has " + t.dtype() + " " + Tensors.shapeString(t.shape())
                    + ", code has " + type.getTypeName() + " (" + dtype + ", rank " + rank(type) + ")");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensors.elements(t.shape()), dtype.size());
        } catch (ArithmeticException e) {
            throw new Mismatch("unreadable", "shape " + Tensors.shapeString(t.shape()) + " is too large");
        }
        if (bytes != t.data().remaining() || Arrays.stream(t.shape()).anyMatch(d -> d < 0 || d > Integer.MAX_VALUE)) {
            throw new Mismatch("unreadable", "shape " + Tensors.shapeString(t.shape()) + " needs " + bytes
                    + " bytes, the checkpoint holds " + t.data().remaining());
        }
        ByteBuffer src = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (current != null) {
            long[] now = shapeOrNull(current, rank(type));
            if (now != null && Arrays.equals(now, t.shape())) {
                return () -> copyIn(src, current, now.length);
            }
            if (!field.writable()) {
                throw new Mismatch("reshaped", "checkpoint has shape " + Tensors.shapeString(t.shape())
                        + ", code has " + (now == null ? "a ragged array" : Tensors.shapeString(now))
                        + " and the field can't be replaced");
            }
            if (now != null) {
                throw new Mismatch("reshaped", "checkpoint has shape " + Tensors.shapeString(t.shape())
                        + ", code has " + Tensors.shapeString(now));
            }
        } else if (!field.writable()) {
            throw new Mismatch("retyped", "the field is null and can't be written (static final)");
        }
        return () -> {
            int[] dims = new int[t.shape().length];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = (int) t.shape()[i];
            }
            Object fresh = Array.newInstance(leaf(type), dims);
            copyIn(src, fresh, dims.length);
            field.set(owner, fresh);
        };
    }

}
