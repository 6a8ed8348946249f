package dev.pauser.dl4j;

import dev.pauser.dl4j.NetworkState.Numbers;
import dev.pauser.dl4j.NetworkState.RandomState;
import dev.pauser.spi.StateCodec;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checkpoints a {@code @TrainState} field holding a DL4J {@link MultiLayerNetwork} or {@link ComputationGraph}: its
 * parameters, its updater state (Adam's moments, say), its iteration and epoch counts, and the state of ND4J's random
 * generator of each thread that drew from it (dropout draws from the training thread's). On resume all of it is written
 * back into the network the field already holds, so every reference the program keeps to it stays good. The bytes are
 * laid out as {@link NetworkState} says.
 *
 * <p>Found by the agent through {@code META-INF/services/dev.pauser.spi.StateCodec}. {@link #handles} runs where the
 * agent reads the trainer's fields (before its first step); {@link #encode} on Pauser's checkpoint thread while the
 * training threads are held at a step boundary; {@link #decode} on the thread that restores the trainer, which is the
 * training thread before its first step (its own generator is the one restored).
 */
public final class NetworkCodec implements StateCodec {

    /** The generators by thread; installed when the first network field is seen. */
    private volatile ThreadRandoms randoms;

    @Override
    public boolean handles(Class<?> type) {
        boolean network = MultiLayerNetwork.class.isAssignableFrom(type) || ComputationGraph.class.isAssignableFrom(type);
        if (network && randoms == null) {
            // Before the first step: from here on each thread's generator is remembered when it next draws.
            randoms = ThreadRandoms.install();
        }
        return network;
    }

    @Override
    public String dtype() {
        return "U8";
    }

    @Override
    public ByteBuffer encode(Object value) {
        Network net = Network.of(value);
        Map<String, RandomState> generators = new TreeMap<>();
        ThreadRandoms r = randoms;
        if (r != null) {
            r.byThreadName().forEach((thread, g) -> generators.put(thread,
                    new RandomState(g.getSeed(), g.rootState(), g.nodeState())));
        }
        INDArray updater = net.updaterState(false);
        return new NetworkState(net.kind(), net.iterationCount(), net.epochCount(), numbers(net.params(), "parameters"),
                updater == null ? new Numbers(new float[0], null) : numbers(updater, "updater state"), generators)
                .toBytes();
    }

    @Override
    public Object decode(ByteBuffer data, Object current, Class<?> type) {
        if (current == null) {
            throw new IllegalStateException("the field holds no " + type.getSimpleName() + " to restore into: build the "
                    + "network and call init() in the constructor or the field's initializer");
        }
        NetworkState state = NetworkState.fromBytes(data);
        Network net = Network.of(current);
        if (state.kind() != net.kind()) {
            throw new IllegalArgumentException("the checkpoint holds a " + NetworkState.kindName(state.kind())
                    + ", the field a " + NetworkState.kindName(net.kind()));
        }
        INDArray params = net.params();
        check("parameters", state.params(), params);
        INDArray updater = null;
        if (state.updaterState().length() > 0) {
            updater = net.updaterState(true);
            if (updater == null) {
                throw new IllegalArgumentException("the checkpoint holds " + state.updaterState()
                        + " of updater state, the network's updater keeps none: was its updater changed?");
            }
            check("updater state", state.updaterState(), updater);
        }
        RandomState generator = state.randoms().isEmpty() ? null : state.randoms().get(savedFor(state.randoms()));

        // Everything checked: now write, in place.
        net.setParams(array(state.params(), params));
        if (updater != null) {
            net.setUpdaterState(array(state.updaterState(), updater));
        } else {
            INDArray live = net.updaterState(false);
            if (live != null) {
                // Saved before the updater existed: it starts from zeros, as a new one would.
                live.assign(0);
            }
        }
        net.setCounts(state.iterationCount(), state.epochCount());
        if (generator != null) {
            Random mine = Nd4j.getRandom();
            mine.setSeed(generator.seed());
            mine.setStates(generator.rootState(), generator.nodeState());
        }
        return current;
    }

    /**
     * The thread whose saved generator state this thread's generator takes: the one of the same name, or the only one
     * saved (the program names its training thread differently now).
     */
    private static String savedFor(Map<String, RandomState> saved) {
        String name = Thread.currentThread().getName();
        if (saved.containsKey(name)) {
            return name;
        }
        if (saved.size() == 1) {
            return saved.keySet().iterator().next();
        }
        throw new IllegalArgumentException("the checkpoint holds ND4J random states of the threads "
                + new TreeMap<>(saved).keySet() + " and none of thread '" + name + "', which restores the network: "
                + "train it on a thread of one of those names");
    }

    private static void check(String what, Numbers saved, INDArray live) {
        int liveSize = live.dataType() == DataType.DOUBLE ? Double.BYTES : Float.BYTES;
        if (saved.length() != live.length() || saved.elementSize() != liveSize) {
            throw new IllegalArgumentException("the checkpoint holds " + saved + " of " + what + ", the network has "
                    + live.length() + " " + live.dataType() + ": its configuration changed since the checkpoint");
        }
    }

    private static Numbers numbers(INDArray a, String what) {
        return switch (a.dataType()) {
            case FLOAT -> new Numbers(a.toFloatVector(), null);
            case DOUBLE -> new Numbers(null, a.toDoubleVector());
            default -> throw new IllegalStateException("pauser-dl4j stores FLOAT or DOUBLE networks; this one's " + what
                    + " are " + a.dataType() + ": build it with NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)");
        };
    }

    private static INDArray array(Numbers n, INDArray like) {
        return n.floats() != null ? Nd4j.create(n.floats(), like.shape(), DataType.FLOAT)
                : Nd4j.create(n.doubles(), like.shape(), DataType.DOUBLE);
    }

    /** The few operations of the two network classes the codec needs, which they share no interface for. */
    private interface Network {
        static Network of(Object value) {
            if (value instanceof MultiLayerNetwork m) {
                return new MultiLayer(m);
            }
            if (value instanceof ComputationGraph g) {
                return new Graph(g);
            }
            throw new IllegalArgumentException("pauser-dl4j stores a MultiLayerNetwork or a ComputationGraph, not a "
                    + value.getClass().getName());
        }

        int kind();

        INDArray params();

        void setParams(INDArray params);

        /** The updater's state view array, or null where it keeps none (or, unless {@code create}, has none yet). */
        INDArray updaterState(boolean create);

        void setUpdaterState(INDArray state);

        int iterationCount();

        int epochCount();

        void setCounts(int iterations, int epochs);
    }

    private record MultiLayer(MultiLayerNetwork net) implements Network {
        @Override
        public int kind() {
            return NetworkState.MULTI_LAYER_NETWORK;
        }

        @Override
        public INDArray params() {
            return net.params();
        }

        @Override
        public void setParams(INDArray params) {
            net.setParams(params);
        }

        @Override
        public INDArray updaterState(boolean create) {
            Updater u = net.getUpdater(create);
            return u == null ? null : u.getStateViewArray();
        }

        @Override
        public void setUpdaterState(INDArray state) {
            net.getUpdater(true).setStateViewArray(net, state, false);
        }

        @Override
        public int iterationCount() {
            return net.getIterationCount();
        }

        @Override
        public int epochCount() {
            return net.getEpochCount();
        }

        @Override
        public void setCounts(int iterations, int epochs) {
            net.setIterationCount(iterations);
            net.setEpochCount(epochs);
        }
    }

    private record Graph(ComputationGraph graph) implements Network {
        @Override
        public int kind() {
            return NetworkState.COMPUTATION_GRAPH;
        }

        @Override
        public INDArray params() {
            return graph.params();
        }

        @Override
        public void setParams(INDArray params) {
            graph.setParams(params);
        }

        @Override
        public INDArray updaterState(boolean create) {
            ComputationGraphUpdater u = graph.getUpdater(create);
            return u == null ? null : u.getStateViewArray();
        }

        @Override
        public void setUpdaterState(INDArray state) {
            graph.getUpdater(true).setStateViewArray(state);
        }

        @Override
        public int iterationCount() {
            return graph.getIterationCount();
        }

        @Override
        public int epochCount() {
            return graph.getEpochCount();
        }

        @Override
        public void setCounts(int iterations, int epochs) {
            graph.getConfiguration().setIterationCount(iterations);
            graph.getConfiguration().setEpochCount(epochs);
        }
    }
}
