package dev.pauser.bench;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;

/**
 * The benchmark's training program: {@code <mb>} MiB of float parameters as {@code @TrainState}, in one field or split
 * evenly over up to three ({@code <fields>}, for a state above what one tensor of a checkpoint holds), and a light step
 * that touches a slice of them. Runs until killed. Arguments: the state size in MiB, and optionally the number of fields.
 */
public final class BigStateTrainer {
    @TrainState
    private final float[] params;
    @TrainState
    private final float[] params2;
    @TrainState
    private final float[] params3;
    @TrainState
    private long step;

    private BigStateTrainer(int mb, int fields) {
        if (fields < 1 || fields > 3) {
            throw new IllegalArgumentException("fields: 1, 2 or 3, not " + fields);
        }
        params = floats(mb / fields);
        params2 = fields >= 2 ? floats(mb / fields) : new float[0];
        params3 = fields == 3 ? floats(mb / fields) : new float[0];
    }

    /** {@code mb} MiB of floats, every page touched: the capture copies real, resident memory. */
    static float[] floats(int mb) {
        float[] a = new float[(int) ((long) mb * (1 << 20) / Float.BYTES)];
        for (int i = 0; i < a.length; i++) {
            a[i] = i * 1e-7f;
        }
        return a;
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
        BigStateTrainer t = new BigStateTrainer(Integer.parseInt(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 1);
        System.out.println("ready");
        System.out.flush();
        while (true) {
            t.step();
        }
    }
}
