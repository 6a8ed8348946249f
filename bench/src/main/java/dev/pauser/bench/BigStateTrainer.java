package dev.pauser.bench;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;

/**
 * The benchmark's training program: {@code <mb>} MiB of float parameters as {@code @TrainState}, a light step that
 * touches a slice of them. Runs until killed. Argument: the state size in MiB.
 */
public final class BigStateTrainer {
    @TrainState
    private final float[] params;
    @TrainState
    private long step;

    private BigStateTrainer(int mb) {
        params = new float[mb * (1 << 20) / Float.BYTES];
        for (int i = 0; i < params.length; i++) {
            params[i] = i * 1e-7f; // touched: the capture copies real, resident memory
        }
    }

    @TrainStep
    void step() throws InterruptedException {
        int from = (int) ((step * 4096) % (params.length - 4096));
        for (int i = from; i < from + 4096; i++) {
            params[i] += 1e-3f;
        }
        step++;
        Thread.sleep(1);
    }

    public static void main(String[] args) throws Exception {
        BigStateTrainer t = new BigStateTrainer(Integer.parseInt(args[0]));
        System.out.println("ready");
        System.out.flush();
        while (true) {
            t.step();
        }
    }
}
