package dev.pauser.agent.state;

import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code ai.onnxruntime.OnnxTensor}, reached only by reflection on the value's own classes (ONNX Runtime lives in the
 * app's class loader). Captured with {@code getInfo()} (element type, shape) and {@code getByteBuffer()} (a copy of the
 * data, native order, which must be little-endian); the Java type records ORT's element type
 * ({@code ai.onnxruntime.OnnxTensor{FLOAT}}), as FLOAT16/BFLOAT16 have no dtype of their own (stored as U16). Restored
 * into a new tensor of the same type and shape with {@code OnnxTensor.createTensor(OrtEnvironment.getEnvironment(),
 * ByteBuffer, long[], OnnxJavaType)} (a direct buffer), set into the field; the old tensor is then closed. A shape
 * different from the field's current tensor is a mismatch. String tensors are not supported.
 */
final class OnnxTensorCodec implements Codec {
    static final String TENSOR = "ai.onnxruntime.OnnxTensor";

    private static final Map<String, DType> TYPES = Map.of("FLOAT", DType.F32, "DOUBLE", DType.F64, "INT8", DType.I8,
            "INT16", DType.I16, "INT32", DType.I32, "INT64", DType.I64, "BOOL", DType.BOOL, "UINT8", DType.U8,
            "FLOAT16", DType.U16, "BFLOAT16", DType.U16);

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        return type.getName().equals(TENSOR);
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return false;
    }

    @Override
    public String javaType(StateField field) {
        return TENSOR;
    }

    private static Object info(Object tensor) throws ReflectiveOperationException {
        Method m = tensor.getClass().getMethod("getInfo");
        return m.invoke(tensor);
    }

    private static long[] shape(Object info) throws ReflectiveOperationException {
        return (long[]) info.getClass().getMethod("getShape").invoke(info);
    }

    private static String elementType(Object info) throws ReflectiveOperationException {
        return String.valueOf(info.getClass().getField("type").get(info));
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("ONNX tensors are captured on little-endian machines only");
        }
        Object info = info(value);
        String type = elementType(info);
        DType dtype = TYPES.get(type);
        if (dtype == null) {
            throw new IllegalStateException("ONNX tensors of type " + type + " are not supported");
        }
        long[] shape = shape(info);
        ByteBuffer data = (ByteBuffer) value.getClass().getMethod("getByteBuffer").invoke(value);
        if (data == null) {
            throw new IllegalStateException("the ONNX tensor gave no data buffer");
        }
        ByteBuffer slot = staging.slot(field.key(), data.remaining());
        slot.put(data.duplicate());
        slot.flip();
        return new TensorEntry(field.key(), field.field().getDeclaringClass().getName(), TENSOR + "{" + type + "}",
                dtype, shape, slot);
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        if (!(entry instanceof TensorEntry t)) {
            throw new Mismatch("retyped", "checkpoint has a JSON value, code has " + TENSOR);
        }
        String type = StateSchema.attributeText(entry.javaType());
        if (TYPES.get(type) != t.dtype()) {
            throw new Mismatch("unreadable", "ONNX element type '" + type + "' doesn't fit dtype " + t.dtype());
        }
        long n;
        try {
            n = Math.multiplyExact(Tensors.elements(t.shape()), t.dtype().size());
        } catch (ArithmeticException e) {
            n = -1;
        }
        if (n != t.data().remaining()) {
            throw new Mismatch("unreadable", "shape " + Tensors.shapeString(t.shape()) + " doesn't fit its "
                    + t.data().remaining() + " bytes");
        }
        if (current != null) {
            try {
                Object info = info(current);
                long[] now = shape(info);
                if (!Arrays.equals(now, t.shape()) || !elementType(info).equals(type)) {
                    throw new Mismatch("reshaped", "checkpoint has " + type + " " + Tensors.shapeString(t.shape())
                            + ", code has " + elementType(info) + " " + Tensors.shapeString(now));
                }
            } catch (ReflectiveOperationException e) {
                throw new Mismatch("unreadable", "can't read the current ONNX tensor: " + e);
            }
        }
        if (!field.writable()) {
            throw new Mismatch("retyped", "an ONNX tensor field can't be static final");
        }
        Class<?> tensorClass = field.field().getType();
        return () -> {
            ClassLoader loader = tensorClass.getClassLoader();
            Class<?> envClass = Class.forName("ai.onnxruntime.OrtEnvironment", true, loader);
            @SuppressWarnings({"unchecked", "rawtypes"})
            Class<Enum> typeClass = (Class<Enum>) Class.forName("ai.onnxruntime.OnnxJavaType", true, loader);
            Object env = envClass.getMethod("getEnvironment").invoke(null);
            @SuppressWarnings("unchecked")
            Object javaType = Enum.valueOf(typeClass, type);
            ByteBuffer data = ByteBuffer.allocateDirect(t.data().remaining()).order(ByteOrder.nativeOrder());
            data.put(t.data().duplicate()).flip();
            Object fresh = tensorClass.getMethod("createTensor", envClass, ByteBuffer.class, long[].class, typeClass)
                    .invoke(null, env, data, t.shape().clone(), javaType);
            field.set(owner, fresh);
            if (current != null && current != fresh) {
                current.getClass().getMethod("close").invoke(current);
            }
        };
    }
}
