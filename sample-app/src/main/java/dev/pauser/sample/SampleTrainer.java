package dev.pauser.sample;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Trains a multi-layer perceptron classifier with ONNX Runtime as its compute engine, and knows nothing of Pauser beyond
 * its two annotations.
 *
 * <p>Each {@link #trainStep()} runs one ONNX graph ({@link MlpGraphs#trainStep}) that takes the parameters, the Adam
 * moments and one mini-batch, and returns the loss, the new parameters and the new moments. Everything that decides
 * the rest of the run is in the {@code @TrainState} fields, and only {@link #trainStep()} changes them: every step
 * fills ONNX Runtime's input buffers from those arrays and copies every output back into them, the data is a pure
 * function of the options, and evaluation reads the parameters only. So a run restored from a snapshot of those fields taken between two steps goes on exactly as
 * the uninterrupted run would have.
 */
public final class SampleTrainer implements Trainer {

    // ---- training state: all of it, and only trainStep() changes it ----

    /** All parameters, layer by layer, each layer's weights {@code [in][out]} then its bias (see {@link MlpGraphs}). */
    @TrainState
    float[] params;
    /** Adam's first moments, same layout as {@link #params}. */
    @TrainState
    float[] adamM;
    /** Adam's second moments, same layout as {@link #params}. */
    @TrainState
    float[] adamV;
    /** Completed training steps. */
    @TrainState
    long step;
    /** Completed passes over the training set (a pass ends when fewer than a batch of rows is left). */
    @TrainState
    long epoch;
    /** Position in {@link #order} of the next batch's first row. */
    @TrainState
    int cursor;
    /** This epoch's order of the training rows. */
    @TrainState
    int[] order;
    /** Shuffles {@link #order} at each epoch's end. */
    @TrainState
    Random shuffleRng;

    // ---- configuration and things derived from it: the same in every run with the same options ----

    final Options options;
    final MlpGraphs.Layout layout;
    final Dataset data;
    private final OrtEnvironment env;
    private final OrtSession trainSession;
    private final OrtSession evalSession;

    // ---- scratch and display: never read by the math ----

    private final float[] batchX;
    private final long[] batchY;
    private final StepBuffers io;
    private double lastLoss = Double.NaN;
    /** Steps this JVM has run (a restored run starts again at 0): for progress lines only. */
    private long stepsRunHere;

    SampleTrainer(Options options) throws OrtException {
        this.options = options;
        this.layout = new MlpGraphs.Layout(options.features(), options.hidden(), options.layers(), options.classes());
        this.data = new Dataset(options.seed(), options.features(), options.classes(), options.trainRows(),
                options.testRows());
        this.env = OrtEnvironment.getEnvironment();
        this.trainSession = env.createSession(
                MlpGraphs.trainStep(layout, options.batch(), options.lr(), false), sessionOptions());
        this.evalSession = env.createSession(MlpGraphs.evaluate(layout, data.testRows()), sessionOptions());
        this.batchX = new float[options.batch() * options.features()];
        this.batchY = new long[options.batch()];
        this.io = new StepBuffers(env, layout, options.batch(), options.features());

        // The state at step 0.
        this.params = initialParameters(layout, options.seed());
        this.adamM = new float[layout.totalSize];
        this.adamV = new float[layout.totalSize];
        this.shuffleRng = new Random(options.seed());
        this.order = new int[data.trainRows()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        shuffle(order, shuffleRng);
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

    /**
     * Initial weights from a generator of their own (used only here): He-scaled for layers followed by a ReLU, LeCun
     * for the output layer; zero biases.
     */
    static float[] initialParameters(MlpGraphs.Layout layout, long seed) {
        float[] p = new float[layout.totalSize];
        Random init = new Random(seed ^ 0x1417L);
        for (MlpGraphs.Tensor t : layout.tensors) {
            if (t.shape().length == 2) {
                boolean output = t == layout.weight(layout.linearLayers() - 1);
                double std = Math.sqrt((output ? 1.0 : 2.0) / t.shape()[0]);
                for (int i = 0; i < t.size(); i++) {
                    p[t.offset() + i] = (float) (std * init.nextGaussian());
                }
            }
        }
        return p;
    }

    /**
     * One training step: takes the next mini-batch (reshuffling at the end of an epoch), runs the training graph once,
     * and copies the new parameters and moments back. Once {@code step} has reached {@code --steps} it does nothing
     * (so a run whose state is restored at the end trains no more, whether the restore happens before the loop's
     * check or at this method's entry).
     */
    @TrainStep
    @Override
    public void trainStep() throws OrtException, InterruptedException {
        if (step >= options.steps()) {
            return;
        }
        int batch = options.batch();
        int features = options.features();
        if (cursor + batch > order.length) {
            shuffle(order, shuffleRng);
            epoch++;
            cursor = 0;
        }
        for (int b = 0; b < batch; b++) {
            int row = order[cursor + b];
            System.arraycopy(data.trainX, row * features, batchX, b * features, features);
            batchY[b] = data.trainY[row];
        }
        io.x.put(0, batchX);
        io.y.put(0, batchY);
        io.t.put(0, (float) (step + 1));
        for (MlpGraphs.Tensor t : layout.tensors) {
            io.in(t.name()).fill(params, t);
            io.in("m_" + t.name()).fill(adamM, t);
            io.in("v_" + t.name()).fill(adamV, t);
        }
        try (OrtSession.Result ignored = trainSession.run(io.inputs, io.outputs)) {
            for (MlpGraphs.Tensor t : layout.tensors) {
                io.out("new_" + t.name()).copyTo(params, t);
                io.out("new_m_" + t.name()).copyTo(adamM, t);
                io.out("new_v_" + t.name()).copyTo(adamV, t);
            }
            lastLoss = io.loss.get(0);
        }
        cursor += batch;
        step++;
        stepsRunHere++;
        if (options.stepDelayMillis() > 0) {
            Thread.sleep(options.stepDelayMillis());
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

    @Override
    public double lastLoss() {
        return lastLoss;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    @Override
    public long stepsRunHere() {
        return stepsRunHere;
    }

    @Override
    public int parameterCount() {
        return layout.totalSize;
    }

    /** The hash of {@link #params} (see {@link Trainer#weightsSha256}). */
    @Override
    public String weightsSha256() {
        return sha256(params);
    }

    /**
     * SHA-256 over {@code params} as float32 little-endian, in their order (the order of the flat layout: layer by
     * layer, input side first, each layer's weights row-major {@code [in][out]}, then its bias).
     */
    static String sha256(float[] params) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = chunk.asFloatBuffer();
        for (int i = 0; i < params.length; i += floats.capacity()) {
            int n = Math.min(floats.capacity(), params.length - i);
            floats.clear();
            floats.put(params, i, n);
            sha.update(chunk.array(), 0, n * Float.BYTES);
        }
        return HexFormat.of().formatHex(sha.digest());
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

    /** Fisher-Yates with {@code rng}: the shuffle of every device, so a seed gives the same batches everywhere. */
    static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }

    /**
     * Trains until {@code step} reaches {@code --steps} on the device of {@code --device}, then prints the two result
     * lines. The loop reads the state, so a run whose state was restored at step k goes on from k, and one restored at
     * the end trains nothing.
     *
     * @throws CudaTrainer.CudaUnavailable for {@code --device cuda} where no NVIDIA GPU and driver can be used
     * @throws CudaTrainer.OutOfDeviceMemory for {@code --device cuda} where the GPU's free memory is too small
     */
    static void run(Options options, PrintStream out) throws Exception {
        try (Trainer trainer = options.device().equals("cuda")
                ? CudaTrainer.open(options)
                : new SampleTrainer(options)) {
            out.println("sample-app: " + options.describe() + " parameters=" + trainer.parameterCount());
            long logEvery = options.logEvery();
            long sinceRun = 0;
            long sinceNanos = System.nanoTime();
            while (trainer.step() < options.steps()) {
                long runBefore = trainer.stepsRunHere();
                trainer.trainStep();
                boolean trained = trainer.stepsRunHere() > runBefore; // not when a restore found the run complete
                if (trained && logEvery > 0 && (trainer.step() % logEvery == 0 || trainer.step() == options.steps())) {
                    long now = System.nanoTime();
                    double rate = (trainer.stepsRunHere() - sinceRun) / Math.max(1e-9, (now - sinceNanos) / 1e9);
                    out.printf(Locale.ROOT, "step %d/%d epoch %d loss %.6f test-accuracy %.4f steps/s %.1f%n",
                            trainer.step(), options.steps(), trainer.epoch(), trainer.lastLoss(),
                            trainer.testAccuracy(), rate);
                    sinceRun = trainer.stepsRunHere();
                    sinceNanos = System.nanoTime();
                }
            }
            out.printf(Locale.ROOT, "accuracy=%.6f%n", trainer.testAccuracy());
            out.println("final-weights-sha256=" + trainer.weightsSha256());
        }
    }

    /**
     * Exit status: 0 done, 2 bad options (one line on standard error, then the usage), or {@code --device cuda} without
     * a usable NVIDIA GPU or with too little GPU memory for the options (one line on standard error).
     */
    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (Options.HelpRequested e) {
            System.out.println(Options.USAGE);
            return;
        } catch (Options.UsageException e) {
            System.err.println("sample-app: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        try {
            run(options, System.out);
        } catch (CudaTrainer.CudaUnavailable e) {
            System.err.println("sample-app: --device cuda needs an NVIDIA GPU and its driver: " + e.getMessage());
            System.exit(2);
        } catch (CudaTrainer.OutOfDeviceMemory e) {
            System.err.println("sample-app: " + e.getMessage());
            System.exit(2);
        }
    }
}
