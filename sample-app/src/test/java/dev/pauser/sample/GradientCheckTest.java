package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The training graph's hand-written backprop against central finite differences of an independent double-precision
 * forward pass written in plain Java, and its Adam update against the textbook formula, on tiny networks.
 */
class GradientCheckTest {
    static final int FEATURES = 3;
    static final int HIDDEN = 5;
    static final int CLASSES = 4;
    static final int BATCH = 6;
    static final float LR = 0.01f;
    static final float T = 3;

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void gradientsMatchFiniteDifferencesAndAdamMatchesTheFormula(int layers) throws Exception {
        MlpGraphs.Layout layout = new MlpGraphs.Layout(FEATURES, HIDDEN, layers, CLASSES);
        Random r = new Random(1234 + layers);
        float[] params = MlpTrainer.initialParameters(layout, 99);
        for (MlpGraphs.Tensor t : layout.tensors) {
            if (t.shape().length == 1) {
                for (int i = 0; i < t.size(); i++) {
                    params[t.offset() + i] = (float) (0.3 * r.nextGaussian()); // non-zero biases
                }
            }
        }
        float[] m = new float[layout.totalSize];
        float[] v = new float[layout.totalSize];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) (0.01 * r.nextGaussian());
            v[i] = (float) (0.001 * r.nextDouble());
        }
        float[] x = new float[BATCH * FEATURES];
        long[] y = new long[BATCH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int b = 0; b < BATCH; b++) {
            y[b] = r.nextInt(CLASSES);
        }

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float graphLoss;
        float[] grad = new float[layout.totalSize];
        float[] newParams = new float[layout.totalSize];
        float[] newM = new float[layout.totalSize];
        float[] newV = new float[layout.totalSize];
        try (OrtSession s = env.createSession(MlpGraphs.trainStep(layout, BATCH, LR, true),
                SampleTrainer.sessionOptions())) {
            Map<String, OnnxTensor> in = new LinkedHashMap<>();
            in.put("x", OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {BATCH, FEATURES}));
            in.put("y", OnnxTensor.createTensor(env, LongBuffer.wrap(y), new long[] {BATCH}));
            in.put("t", OnnxTensor.createTensor(env, T));
            for (MlpGraphs.Tensor t : layout.tensors) {
                in.put(t.name(), slice(env, params, t));
                in.put("m_" + t.name(), slice(env, m, t));
                in.put("v_" + t.name(), slice(env, v, t));
            }
            try (OrtSession.Result out = s.run(in)) {
                graphLoss = (Float) out.get("loss").orElseThrow().getValue();
                for (MlpGraphs.Tensor t : layout.tensors) {
                    read(out, "grad_" + t.name(), grad, t);
                    read(out, "new_" + t.name(), newParams, t);
                    read(out, "new_m_" + t.name(), newM, t);
                    read(out, "new_v_" + t.name(), newV, t);
                }
            }
            for (OnnxTensor t : in.values()) {
                t.close();
            }
        }

        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        double refLoss = referenceLoss(layout, p, x, y);
        assertEquals(refLoss, graphLoss, 1e-5 * Math.max(1, refLoss), "loss");

        double maxGrad = 0;
        double eps = 1e-6;
        for (int i = 0; i < p.length; i++) {
            double keep = p[i];
            p[i] = keep + eps;
            double up = referenceLoss(layout, p, x, y);
            p[i] = keep - eps;
            double down = referenceLoss(layout, p, x, y);
            p[i] = keep;
            double fd = (up - down) / (2 * eps);
            assertEquals(fd, grad[i], 1e-4 + 1e-3 * Math.abs(fd), "d loss / d " + nameOf(layout, i));
            maxGrad = Math.max(maxGrad, Math.abs(fd));
        }
        assertTrue(maxGrad > 1e-2, "the check needs gradients that are not all tiny: " + maxGrad);

        double b1 = MlpGraphs.BETA1;
        double b2 = MlpGraphs.BETA2;
        double alpha = LR * Math.sqrt(1 - Math.pow(b2, T)) / (1 - Math.pow(b1, T));
        for (int i = 0; i < p.length; i++) {
            double g = grad[i];
            double mi = b1 * m[i] + (1 - b1) * g;
            double vi = b2 * v[i] + (1 - b2) * g * g;
            double pi = params[i] - alpha * mi / (Math.sqrt(vi) + MlpGraphs.EPSILON);
            assertEquals(mi, newM[i], 1e-6 + 1e-5 * Math.abs(mi), "m of " + nameOf(layout, i));
            assertEquals(vi, newV[i], 1e-8 + 1e-5 * Math.abs(vi), "v of " + nameOf(layout, i));
            assertEquals(pi, newParams[i], 1e-6 + 1e-5 * Math.abs(pi), "new value of " + nameOf(layout, i));
        }
    }

    /** Mean softmax cross-entropy of the MLP, in double precision, written independently of the graphs. */
    static double referenceLoss(MlpGraphs.Layout layout, double[] p, float[] x, long[] y) {
        int n = layout.linearLayers();
        double total = 0;
        for (int b = 0; b < y.length; b++) {
            double[] a = new double[FEATURES];
            for (int i = 0; i < FEATURES; i++) {
                a[i] = x[b * FEATURES + i];
            }
            for (int l = 0; l < n; l++) {
                MlpGraphs.Tensor w = layout.weight(l);
                MlpGraphs.Tensor bias = layout.bias(l);
                int in = (int) w.shape()[0];
                int out = (int) w.shape()[1];
                double[] z = new double[out];
                for (int o = 0; o < out; o++) {
                    double s = p[bias.offset() + o];
                    for (int i = 0; i < in; i++) {
                        s += a[i] * p[w.offset() + i * out + o];
                    }
                    z[o] = l + 1 < n ? Math.max(0, s) : s;
                }
                a = z;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double z : a) {
                max = Math.max(max, z);
            }
            double sum = 0;
            for (double z : a) {
                sum += Math.exp(z - max);
            }
            total += max + Math.log(sum) - a[(int) y[b]];
        }
        return total / y.length;
    }

    private static String nameOf(MlpGraphs.Layout layout, int index) {
        for (MlpGraphs.Tensor t : layout.tensors) {
            if (index >= t.offset() && index < t.offset() + t.size()) {
                return t.name() + "[" + (index - t.offset()) + "]";
            }
        }
        return "?" + index;
    }

    private static OnnxTensor slice(OrtEnvironment env, float[] a, MlpGraphs.Tensor t) throws Exception {
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(a, t.offset(), t.size()).slice(), t.shape());
    }

    private static void read(OrtSession.Result out, String name, float[] into, MlpGraphs.Tensor t) {
        ((OnnxTensor) out.get(name).orElseThrow()).getFloatBuffer().get(into, t.offset(), t.size());
    }
}
