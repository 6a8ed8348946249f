package dev.pauser.sample;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

/**
 * A small builder for ONNX graphs over the ONNX protobuf classes: each call adds one node and returns the name of its
 * output, so a graph reads like the math it computes. Opset 17, IR version 8.
 */
final class OnnxGraph {
    static final int OPSET = 17;
    static final int IR_VERSION = 8;
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private int counter;

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /** Declares a graph input of the given element type and shape. */
    String input(String name, int elemType, long... shape) {
        graph.addInput(valueInfo(name, elemType, shape));
        return name;
    }

    /** Declares {@code value} (a node output) as a graph output under {@code name}. */
    void output(String name, String value, int elemType, long... shape) {
        if (!name.equals(value)) {
            op("Identity", name, new String[] {value});
        }
        graph.addOutput(valueInfo(name, elemType, shape));
    }

    /** A float constant of the given shape (a scalar when no dims are given). */
    String constant(float value, long... shape) {
        String name = fresh("c");
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT);
        long n = 1;
        for (long d : shape) {
            t.addDims(d);
            n *= d;
        }
        for (long i = 0; i < n; i++) {
            t.addFloatData(value);
        }
        graph.addInitializer(t);
        return name;
    }

    /** A 1-D float constant. */
    String constantFloats(float... values) {
        String name = fresh("c");
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).addDims(values.length);
        for (float v : values) {
            t.addFloatData(v);
        }
        graph.addInitializer(t);
        return name;
    }

    /** A 1-D int64 constant. */
    String constantLongs(long... values) {
        String name = fresh("c");
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(values.length);
        for (long v : values) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return name;
    }

    String add(String a, String b) {
        return op("Add", a, b);
    }

    String sub(String a, String b) {
        return op("Sub", a, b);
    }

    String mul(String a, String b) {
        return op("Mul", a, b);
    }

    String div(String a, String b) {
        return op("Div", a, b);
    }

    /** {@code alpha * op(a) @ op(b) + c}, with optional transposes ({@code c} may be null). */
    String gemm(String a, String b, String c, boolean transA, boolean transB) {
        String out = fresh("Gemm");
        NodeProto.Builder n = node("Gemm", out, c == null ? new String[] {a, b} : new String[] {a, b, c});
        n.addAttribute(intAttr("transA", transA ? 1 : 0));
        n.addAttribute(intAttr("transB", transB ? 1 : 0));
        graph.addNode(n);
        return out;
    }

    /** Sums over the given axes; {@code keepDims} false drops them. */
    String reduceSum(String x, boolean keepDims, long... axes) {
        String out = fresh("ReduceSum");
        NodeProto.Builder n = node("ReduceSum", out, new String[] {x, constantLongs(axes)});
        n.addAttribute(intAttr("keepdims", keepDims ? 1 : 0));
        graph.addNode(n);
        return out;
    }

    /** An op with a single int attribute, e.g. Softmax's axis. */
    String opWithInt(String type, String attr, long value, String... inputs) {
        String out = fresh(type);
        NodeProto.Builder n = node(type, out, inputs);
        n.addAttribute(intAttr(attr, value));
        graph.addNode(n);
        return out;
    }

    String argMax(String x, long axis) {
        String out = fresh("ArgMax");
        NodeProto.Builder n = node("ArgMax", out, new String[] {x});
        n.addAttribute(intAttr("axis", axis));
        n.addAttribute(intAttr("keepdims", 0));
        graph.addNode(n);
        return out;
    }

    String cast(String x, int to) {
        return opWithInt("Cast", "to", to, x);
    }

    /** A single-output node with no attributes. */
    String op(String type, String... inputs) {
        String out = fresh(type);
        graph.addNode(node(type, out, inputs));
        return out;
    }

    private String op(String type, String out, String[] inputs) {
        graph.addNode(node(type, out, inputs));
        return out;
    }

    /** The serialized model, ready for {@code OrtEnvironment.createSession(byte[], options)}. */
    byte[] toModelBytes() {
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("pauser-sample-app")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build()
                .toByteArray();
    }

    private NodeProto.Builder node(String type, String out, String[] inputs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName(out + "_node").addOutput(out);
        for (String in : inputs) {
            n.addInput(in);
        }
        return n;
    }

    private String fresh(String prefix) {
        return prefix + "_" + (counter++);
    }

    private static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static ValueInfoProto valueInfo(String name, int elemType, long[] shape) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : shape) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
                .build();
    }
}
