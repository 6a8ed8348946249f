package dev.pauser.sample;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The ONNX graphs of the sample MLP, built in Java: one training step (forward, softmax cross-entropy, hand-written
 * backprop, Adam) and the test-set evaluation (ArgMax against the labels).
 *
 * <p>The network: {@code features → hidden (ReLU) × layers → classes}. Parameters live in one flat {@code float[]},
 * layer by layer, each layer's weights ({@code [in][out]}, row-major) then its bias ({@code [out]}); the Adam moments use
 * the same layout. That order is also the order of the final-weights hash.
 */
final class MlpGraphs {
    static final float BETA1 = 0.9f;
    static final float BETA2 = 0.999f;
    static final float EPSILON = 1e-8f;

    /** One parameter tensor: its name in the graphs, where it sits in the flat arrays, and its shape. */
    record Tensor(String name, int offset, long[] shape) {
        int size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return (int) n;
        }
    }

    /** The parameter layout: w0, b0, w1, b1, ... in the flat arrays. */
    static final class Layout {
        final List<Tensor> tensors;
        final int totalSize;
        final int features;
        final int classes;

        Layout(int features, int hidden, int layers, int classes) {
            this.features = features;
            this.classes = classes;
            List<Tensor> list = new ArrayList<>();
            long offset = 0;
            int in = features;
            for (int l = 0; l <= layers; l++) {
                int out = l == layers ? classes : hidden;
                list.add(new Tensor("w" + l, (int) offset, new long[] {in, out}));
                offset += (long) in * out;
                list.add(new Tensor("b" + l, (int) offset, new long[] {out}));
                offset += out;
                if (offset > Integer.MAX_VALUE - 16) {
                    throw new IllegalArgumentException("the network has " + offset
                            + "+ parameters, more than a Java array holds; use a smaller --hidden or --layers");
                }
                in = out;
            }
            this.tensors = Collections.unmodifiableList(list);
            this.totalSize = (int) offset;
        }

        int linearLayers() {
            return tensors.size() / 2;
        }

        Tensor weight(int l) {
            return tensors.get(2 * l);
        }

        Tensor bias(int l) {
            return tensors.get(2 * l + 1);
        }
    }

    private MlpGraphs() {
    }

    /**
     * The training-step graph. Inputs: {@code x [batch, features]}, {@code y [batch]} (int64 labels), {@code t} (the
     * 1-based Adam step, a float scalar), every parameter {@code w<l>}/{@code b<l>}, and the moments {@code m_<name>},
     * {@code v_<name>}. Outputs: {@code loss} (mean cross-entropy of the batch before the update), {@code new_<name>},
     * {@code new_m_<name>}, {@code new_v_<name>}, and, when {@code withGradients}, {@code grad_<name>}.
     */
    static byte[] trainStep(Layout layout, int batch, float lr, boolean withGradients) {
        OnnxGraph g = new OnnxGraph("mlp_train_step");
        String x = g.input("x", OnnxGraph.FLOAT, batch, layout.features);
        String y = g.input("y", OnnxGraph.INT64, batch);
        String t = g.input("t", OnnxGraph.FLOAT);
        for (Tensor p : layout.tensors) {
            g.input(p.name(), OnnxGraph.FLOAT, p.shape());
        }
        for (Tensor p : layout.tensors) {
            g.input("m_" + p.name(), OnnxGraph.FLOAT, p.shape());
            g.input("v_" + p.name(), OnnxGraph.FLOAT, p.shape());
        }
        int n = layout.linearLayers();

        // Forward: a[0] = x; z[l] = a[l] W[l] + b[l]; a[l+1] = relu(z[l]); logits = z[n-1].
        String[] a = new String[n];
        String[] z = new String[n];
        a[0] = x;
        for (int l = 0; l < n; l++) {
            z[l] = g.gemm(a[l], layout.weight(l).name(), layout.bias(l).name(), false, false);
            if (l + 1 < n) {
                a[l + 1] = g.op("Relu", z[l]);
            }
        }
        String logits = z[n - 1];

        // Loss: -(1/B) sum_b sum_k onehot[b,k] * logsoftmax(logits)[b,k].
        String oneHot = g.opWithInt("OneHot", "axis", -1,
                y, g.constantLongs(layout.classes), g.constantFloats(0f, 1f)); // values: [off, on]
        String logp = g.opWithInt("LogSoftmax", "axis", 1, logits);
        String invBatch = g.constant(1f / batch);
        String loss = g.mul(g.reduceSum(g.mul(oneHot, logp), false, 0, 1), g.constant(-1f / batch));
        g.output("loss", loss, OnnxGraph.FLOAT);

        // Backward. d loss / d logits = (softmax(logits) - onehot) / B.
        String[] grad = new String[layout.tensors.size()];
        String dz = g.mul(g.sub(g.opWithInt("Softmax", "axis", 1, logits), oneHot), invBatch);
        String zero = n > 1 ? g.constant(0f) : null; // only the ReLUs need it
        for (int l = n - 1; l >= 0; l--) {
            grad[2 * l] = g.gemm(a[l], dz, null, true, false);          // dW = a^T dz   [in, out]
            grad[2 * l + 1] = g.reduceSum(dz, false, 0);                // db = sum_b dz [out]
            if (l > 0) {
                String da = g.gemm(dz, layout.weight(l).name(), null, false, true); // da = dz W^T [B, in]
                dz = g.op("Where", g.op("Greater", z[l - 1], zero), da, zero);     // through the ReLU
            }
        }

        // Adam: alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t).
        String one = g.constant(1f);
        String beta1 = g.constant(BETA1);
        String beta2 = g.constant(BETA2);
        String bc1 = g.sub(one, g.op("Pow", beta1, t));
        String bc2 = g.sub(one, g.op("Pow", beta2, t));
        String alpha = g.div(g.mul(g.constant(lr), g.op("Sqrt", bc2)), bc1);
        String oneMinusBeta1 = g.constant(1f - BETA1);
        String oneMinusBeta2 = g.constant(1f - BETA2);
        String eps = g.constant(EPSILON);
        for (int i = 0; i < layout.tensors.size(); i++) {
            Tensor p = layout.tensors.get(i);
            String gr = grad[i];
            String m = g.add(g.mul(beta1, "m_" + p.name()), g.mul(oneMinusBeta1, gr));
            String v = g.add(g.mul(beta2, "v_" + p.name()), g.mul(oneMinusBeta2, g.mul(gr, gr)));
            String update = g.div(g.mul(alpha, m), g.add(g.op("Sqrt", v), eps));
            g.output("new_" + p.name(), g.sub(p.name(), update), OnnxGraph.FLOAT, p.shape());
            g.output("new_m_" + p.name(), m, OnnxGraph.FLOAT, p.shape());
            g.output("new_v_" + p.name(), v, OnnxGraph.FLOAT, p.shape());
            if (withGradients) {
                g.output("grad_" + p.name(), gr, OnnxGraph.FLOAT, p.shape());
            }
        }
        return g.toModelBytes();
    }

    /**
     * The evaluation graph. Inputs: {@code x [rows, features]}, {@code y [rows]} (int64), the parameters. Output:
     * {@code correct}, the int64 count of rows whose ArgMax of the logits equals the label.
     */
    static byte[] evaluate(Layout layout, int rows) {
        OnnxGraph g = new OnnxGraph("mlp_evaluate");
        String act = g.input("x", OnnxGraph.FLOAT, rows, layout.features);
        String y = g.input("y", OnnxGraph.INT64, rows);
        for (Tensor p : layout.tensors) {
            g.input(p.name(), OnnxGraph.FLOAT, p.shape());
        }
        int n = layout.linearLayers();
        for (int l = 0; l < n; l++) {
            act = g.gemm(act, layout.weight(l).name(), layout.bias(l).name(), false, false);
            if (l + 1 < n) {
                act = g.op("Relu", act);
            }
        }
        String hits = g.cast(g.op("Equal", g.argMax(act, 1), y), OnnxGraph.INT64);
        g.output("correct", g.reduceSum(hits, false, 0), OnnxGraph.INT64);
        return g.toModelBytes();
    }
}
