package dev.pauser.dl4j;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The program {@code Dl4jResumeIT} runs: a training loop as DL4J's examples write it, {@code net.fit(batch)} once per
 * step, plus Pauser's two annotations. Prints each step, then the final parameters' hash and the network's counts.
 * {@code java dev.pauser.dl4j.DropoutTrainer <steps> [<hidden units, 32>]}.
 */
public final class DropoutTrainer {
    @TrainState
    private final MultiLayerNetwork net;
    /** The next batch to train on. */
    @TrainState
    private int step;

    DropoutTrainer(int hidden) {
        net = TestNetworks.multiLayer(7, hidden);
    }

    @TrainStep
    void trainOne() {
        net.fit(TestNetworks.batch(step));
        step++;
    }

    public static void main(String[] args) throws Exception {
        int steps = Integer.parseInt(args[0]);
        DropoutTrainer t = new DropoutTrainer(args.length > 1 ? Integer.parseInt(args[1]) : 32);
        System.out.println("dl4j-trainer: starting at step " + t.step);
        while (t.step < steps) {
            t.trainOne();
            System.out.println("dl4j-trainer: step " + t.step);
        }
        System.out.println("dl4j-trainer: params-sha256=" + TestNetworks.sha256(t.net.params()) + " iterations="
                + t.net.getIterationCount() + " epochs=" + t.net.getEpochCount());
    }
}
