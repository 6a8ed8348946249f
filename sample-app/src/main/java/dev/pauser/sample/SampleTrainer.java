package dev.pauser.sample;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

/**
 * A small deterministic trainer: linear regression by mini-batch SGD on data drawn from a seeded generator. It knows
 * nothing of Pauser beyond the two annotations. (The sample-app issue turns it into an ONNX Runtime trainer.)
 */
public final class SampleTrainer {
    @TrainState
    private final float[] weights;
    @TrainState
    private final Random rng;
    @TrainState
    private long step;

    private final float[] trueWeights;
    private final int batch;
    private final float lr;
    private final long stepDelayMillis;
    private double lastLoss;

    SampleTrainer(int features, int batch, float lr, long seed, long stepDelayMillis) {
        this.weights = new float[features];
        this.trueWeights = new float[features];
        Random truth = new Random(seed ^ 0x5DEECE66DL);
        for (int i = 0; i < features; i++) {
            trueWeights[i] = (float) truth.nextGaussian();
        }
        this.rng = new Random(seed);
        this.batch = batch;
        this.lr = lr;
        this.stepDelayMillis = stepDelayMillis;
    }

    /** One SGD step on a fresh mini-batch. */
    @TrainStep
    void trainStep() throws InterruptedException {
        int n = weights.length;
        float[] grad = new float[n];
        double loss = 0;
        float[] x = new float[n];
        for (int b = 0; b < batch; b++) {
            float y = 0;
            float pred = 0;
            for (int i = 0; i < n; i++) {
                x[i] = (float) rng.nextGaussian();
                y += trueWeights[i] * x[i];
                pred += weights[i] * x[i];
            }
            y += 0.01f * (float) rng.nextGaussian();
            float err = pred - y;
            loss += err * err;
            for (int i = 0; i < n; i++) {
                grad[i] += err * x[i];
            }
        }
        for (int i = 0; i < n; i++) {
            weights[i] -= lr * grad[i] / batch;
        }
        lastLoss = loss / batch;
        step++;
        if (stepDelayMillis > 0) {
            Thread.sleep(stepDelayMillis);
        }
    }

    String weightsSha256() throws Exception {
        ByteBuffer bytes = ByteBuffer.allocate(weights.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float w : weights) {
            bytes.putFloat(w);
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
    }

    public static void main(String[] args) throws Exception {
        long steps = 300;
        long delay = 20;
        int logEvery = 25;
        long seed = 42;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            try {
                switch (a) {
                    case "--steps": steps = Long.parseLong(v); i++; break;
                    case "--step-delay-ms": delay = Long.parseLong(v); i++; break;
                    case "--log-every": logEvery = Integer.parseInt(v); i++; break;
                    case "--seed": seed = Long.parseLong(v); i++; break;
                    default: throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (RuntimeException e) {
                System.err.println("sample-app: " + (e.getMessage() == null ? "bad value for " + a : e.getMessage())
                        + "\nusage: sample-app [--steps N] [--step-delay-ms MS] [--log-every N] [--seed S]");
                System.exit(2);
            }
        }
        SampleTrainer t = new SampleTrainer(32, 16, 0.05f, seed, delay);
        while (t.step < steps) {
            t.trainStep();
            if (t.step % logEvery == 0) {
                System.out.printf("step %d loss %.6f%n", t.step, t.lastLoss);
            }
        }
        System.out.println("final-weights-sha256=" + t.weightsSha256());
    }
}
