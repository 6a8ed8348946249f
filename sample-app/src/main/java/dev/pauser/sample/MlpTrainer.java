package dev.pauser.sample;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/**
 * What both trainers of the sample MLP share, whichever device computes: the network's layout, the initial weights,
 * the order of the batches and the step that walks it, and the hash of the parameters. A subclass ({@link
 * SampleTrainer} on the CPU, {@link CudaTrainer} on an NVIDIA GPU) adds the parameters and the Adam moments as
 * {@code @TrainState} fields in its device's memory, and runs one batch through forward, backward and Adam.
 *
 * <p>The {@code @TrainState} fields here and in the subclass are the whole training state, found by the agent on the
 * trainer object it registers (the subclass's instance), and only {@link #trainStep()} changes them. The data is a
 * pure function of the options and evaluation reads the parameters only, so a run restored from a snapshot of those
 * fields taken between two steps goes on exactly as the uninterrupted run would have.
 *
 * <p>Threads: every method runs on the thread that runs the training loop.
 */
abstract class MlpTrainer implements Trainer {

    // ---- training state of every device (the subclass adds params, adamM and adamV) ----

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

    // ---- display: never read by the math ----

    private double lastLoss = Double.NaN;
    /** Steps this JVM has run (a restored run starts again at 0): for progress lines only. */
    private long stepsRunHere;

    /** The layout of {@code options}' network, and the batch order at step 0. */
    MlpTrainer(Options options) {
        this.options = options;
        this.layout = new MlpGraphs.Layout(options.features(), options.hidden(), options.layers(), options.classes());
        this.shuffleRng = new Random(options.seed());
        this.order = new int[options.trainRows()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        shuffle(order, shuffleRng);
    }

    /**
     * One training step: takes the next mini-batch (reshuffling at the end of an epoch) and has the device train on it
     * ({@link #trainBatch}). Once {@code step} has reached {@code --steps} it does nothing (so a run whose state is
     * restored at the end trains no more, whether the restore happens before the loop's check or at this method's
     * entry).
     */
    @TrainStep
    @Override
    public final void trainStep() throws Exception {
        if (step >= options.steps()) {
            return;
        }
        if (cursor + options.batch() > order.length) {
            shuffle(order, shuffleRng);
            epoch++;
            cursor = 0;
        }
        lastLoss = trainBatch(cursor, step + 1);
        cursor += options.batch();
        step++;
        stepsRunHere++;
        if (options.stepDelayMillis() > 0) {
            Thread.sleep(options.stepDelayMillis());
        }
    }

    /**
     * Trains on the batch of the rows {@code order[first]} to {@code order[first + batch - 1]}: forward, softmax
     * cross-entropy, backward, and Adam's update number {@code adamStep} (1 for the first step) of the parameters and
     * moments. Changes no other state.
     *
     * @return the batch's mean loss
     */
    abstract float trainBatch(int first, long adamStep) throws Exception;

    /** The parameters in the flat layout of {@link MlpGraphs.Layout}, on the host; the caller doesn't change them. */
    abstract float[] parametersOnHost() throws Exception;

    /** The hash of the parameters (see {@link Trainer#weightsSha256}). */
    @Override
    public final String weightsSha256() throws Exception {
        return sha256(parametersOnHost());
    }

    @Override
    public final double lastLoss() {
        return lastLoss;
    }

    @Override
    public final long step() {
        return step;
    }

    @Override
    public final long epoch() {
        return epoch;
    }

    @Override
    public final long stepsRunHere() {
        return stepsRunHere;
    }

    @Override
    public final int parameterCount() {
        return layout.totalSize;
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
}
