package dev.pauser.bench;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import java.io.Serializable;

/**
 * The state of the "what users write by hand" comparison: four {@code float[]} tensors of {@code <mb>/4} MiB each and a
 * few scalars, as a small model's trainer holds them. Serializable and with public fields, so the harness writes the same
 * state through {@code ObjectOutputStream} and Jackson; run as a main it is the trainer the agent checkpoints (light
 * steps until killed). Argument: the size of all four tensors together in MiB.
 */
public final class HandWrittenState implements Serializable {
    private static final long serialVersionUID = 1L;

    @TrainState
    public float[] weights1;
    @TrainState
    public float[] weights2;
    @TrainState
    public float[] moments1;
    @TrainState
    public float[] moments2;
    @TrainState
    public long step;
    @TrainState
    public double learningRate = 1e-3;
    @TrainState
    public int epoch;

    public HandWrittenState() {
        // for Jackson
    }

    HandWrittenState(int mb) {
        int n = (int) ((long) mb * (1 << 20) / 4 / Float.BYTES);
        weights1 = filled(n, 1e-7f);
        weights2 = filled(n, 2e-7f);
        moments1 = filled(n, 3e-7f);
        moments2 = filled(n, 4e-7f);
    }

    private static float[] filled(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i * scale; // touched and varied: real resident memory, digits for the JSON writer to print
        }
        return a;
    }

    @TrainStep
    void train() throws InterruptedException {
        int from = (int) ((step * 1024) % Math.max(1, weights1.length - 1024));
        for (int i = from; i < Math.min(weights1.length, from + 1024); i++) {
            weights1[i] -= (float) learningRate * moments1[i];
        }
        step++;
        epoch = (int) (step / 1000);
        Thread.sleep(1);
    }

    public static void main(String[] args) throws Exception {
        HandWrittenState s = new HandWrittenState(Integer.parseInt(args[0]));
        System.out.println("ready");
        System.out.flush();
        while (true) {
            s.train();
        }
    }
}
