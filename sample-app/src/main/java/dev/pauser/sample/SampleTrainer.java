package dev.pauser.sample;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.pauser.TrainState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Trains the sample MLP ({@link MlpTrainer}) with ONNX Runtime on the CPU as its compute engine, and knows nothing of
 * Pauser beyond its two annotations. Its {@link #main} is the sample app's entry point ({@link SampleApp}).
 *
 * <p>Each step runs one ONNX graph ({@link MlpGraphs#trainStep}) that takes the parameters, the Adam moments and one
 * mini-batch, and returns the loss, the new parameters and the new moments: every step fills ONNX Runtime's input
 * buffers from the {@code @TrainState} arrays and copies every output back into them, so nothing outside those fields
 * carries from one step to the next.
 */
public final class SampleTrainer extends MlpTrainer {

    // ---- training state of the CPU mode, with MlpTrainer's: only trainStep() changes it ----

    /** All parameters, layer by layer, each layer's weights {@code [in][out]} then its bias (see {@link MlpGraphs}). */
    @TrainState
    float[] params;
    /** Adam's first moments, same layout as {@link #params}. */
    @TrainState
    float[] adamM;
    /** Adam's second moments, same layout as {@link #params}. */
    @TrainState
    float[] adamV;

    // ---- configuration and things derived from it: the same in every run with the same options ----

    final Dataset data;
    private final OrtEnvironment env;
    private final OrtSession trainSession;
    private final OrtSession evalSession;

    // ---- scratch: never read by the math across steps ----

    private final float[] batchX;
    private final long[] batchY;
    private final StepBuffers io;

    SampleTrainer(Options options) throws OrtException {
        super(options);
        this.data = new Dataset(options.seed(), options.features(), options.classes(), options.trainRows(),
                options.testRows());
        this.env = OrtEnvironment.getEnvironment();
        this.trainSession = env.createSession(
                MlpGraphs.trainStep(layout, options.batch(), options.lr(), false), sessionOptions());
        this.evalSession = env.createSession(MlpGraphs.evaluate(layout, data.testRows()), sessionOptions());
        this.batchX = new float[options.batch() * options.features()];
        this.batchY = new long[options.batch()];
        this.io = new StepBuffers(env, layout, options.batch(), options.features());

        // The parameters and moments at step 0.
        this.params = initialParameters(layout, options.seed());
        this.adamM = new float[layout.totalSize];
        this.adamV = new float[layout.totalSize];
    }

    /**
     * ONNX Runtime on one thread, operators in sequence: the same inputs give the same bits in every run on the same
     * machine (different CPUs may pick different kernels, so hashes can differ between machines).
     */
    static OrtSession.SessionOptions sessionOptions() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(1);
        o.setInterOpNumThreads(1);
        o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        o.setDeterministicCompute(true);
        return o;
    }

    /** Runs the training graph once on the batch, and copies the new parameters and moments back. */
    @Override
    float trainBatch(int first, long adamStep) throws OrtException {
        int features = options.features();
        for (int b = 0; b < options.batch(); b++) {
            int row = order[first + b];
            System.arraycopy(data.trainX, row * features, batchX, b * features, features);
            batchY[b] = data.trainY[row];
        }
        io.x.put(0, batchX);
        io.y.put(0, batchY);
        io.t.put(0, (float) adamStep);
        for (MlpGraphs.Tensor p : layout.tensors) {
            io.in(p.name()).fill(params, p);
            io.in("m_" + p.name()).fill(adamM, p);
            io.in("v_" + p.name()).fill(adamV, p);
        }
        try (OrtSession.Result ignored = trainSession.run(io.inputs, io.outputs)) {
            for (MlpGraphs.Tensor p : layout.tensors) {
                io.out("new_" + p.name()).copyTo(params, p);
                io.out("new_m_" + p.name()).copyTo(adamM, p);
                io.out("new_v_" + p.name()).copyTo(adamV, p);
            }
            return io.loss.get(0);
        }
    }

    /** The fraction of test rows classified correctly by the current parameters. Reads the state, changes nothing. */
    @Override
    public double testAccuracy() throws OrtException {
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        try {
            inputs.put("x", OnnxTensor.createTensor(env, FloatBuffer.wrap(data.testX),
                    new long[] {data.testRows(), data.features}));
            inputs.put("y", OnnxTensor.createTensor(env, LongBuffer.wrap(data.testY), new long[] {data.testRows()}));
            for (MlpGraphs.Tensor t : layout.tensors) {
                inputs.put(t.name(), tensor(params, t));
            }
            try (OrtSession.Result out = evalSession.run(inputs)) {
                long correct = (Long) out.get("correct").orElseThrow().getValue();
                return (double) correct / data.testRows();
            }
        } finally {
            for (OnnxTensor t : inputs.values()) {
                t.close();
            }
        }
    }

    /** {@link #params} itself: the hash only reads it. */
    @Override
    float[] parametersOnHost() {
        return params;
    }

    @Override
    public void close() throws OrtException {
        trainSession.close();
        evalSession.close();
        io.close();
    }

    /**
     * The direct buffers ONNX Runtime reads the training step's inputs from and writes its outputs into, with a tensor
     * over each, made once (a 600 MB model would otherwise allocate and copy twice its state per step). They carry
     * nothing from one step to the next: each step fills every input from the {@code @TrainState} arrays and copies
     * every output back into them.
     */
    private static final class StepBuffers implements AutoCloseable {
        final FloatBuffer x;
        final LongBuffer y;
        final FloatBuffer t;
        final FloatBuffer loss;
        final Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        final Map<String, OnnxTensor> outputs = new LinkedHashMap<>();
        private final Map<String, Slot> slots = new LinkedHashMap<>();

        StepBuffers(OrtEnvironment env, MlpGraphs.Layout layout, int batch, int features) throws OrtException {
            x = direct(batch * features);
            y = ByteBuffer.allocateDirect(batch * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
            t = direct(1);
            loss = direct(1);
            inputs.put("x", OnnxTensor.createTensor(env, x, new long[] {batch, features}));
            inputs.put("y", OnnxTensor.createTensor(env, y, new long[] {batch}));
            inputs.put("t", OnnxTensor.createTensor(env, t, new long[0]));
            outputs.put("loss", OnnxTensor.createTensor(env, loss, new long[0]));
            for (MlpGraphs.Tensor p : layout.tensors) {
                for (String prefix : new String[] {"", "m_", "v_"}) {
                    slot(env, inputs, prefix + p.name(), p);
                    slot(env, outputs, "new_" + prefix + p.name(), p);
                }
            }
        }

        Slot in(String name) {
            return slots.get(name);
        }

        Slot out(String name) {
            return slots.get(name);
        }

        private void slot(OrtEnvironment env, Map<String, OnnxTensor> into, String name, MlpGraphs.Tensor p)
                throws OrtException {
            FloatBuffer b = direct(p.size());
            into.put(name, OnnxTensor.createTensor(env, b, p.shape()));
            slots.put(name, new Slot(b));
        }

        private static FloatBuffer direct(int floats) {
            return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        @Override
        public void close() {
            inputs.values().forEach(OnnxTensor::close);
            outputs.values().forEach(OnnxTensor::close);
        }
    }

    /** One direct buffer; absolute bulk copies only, so its position never moves. */
    private record Slot(FloatBuffer buffer) {
        void fill(float[] array, MlpGraphs.Tensor t) {
            buffer.put(0, array, t.offset(), t.size());
        }

        void copyTo(float[] array, MlpGraphs.Tensor t) {
            buffer.get(0, array, t.offset(), t.size());
        }
    }

    private OnnxTensor tensor(float[] array, MlpGraphs.Tensor t) throws OrtException {
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(array, t.offset(), t.size()).slice(), t.shape());
    }

    /** The sample app: see {@link SampleApp#main} for the exit statuses. */
    public static void main(String[] args) throws Exception {
        SampleApp.main(args);
    }
}
