package dev.pauser.dl4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Small networks as DL4J's examples build them (Adam, dropout, seeded) and seeded batches, for the tests and the
 * trainer the end-to-end test runs.
 */
final class TestNetworks {
    static final int INPUTS = 8;
    static final int CLASSES = 3;

    private TestNetworks() {
    }

    /** A multi-layer perceptron: two hidden layers with dropout, softmax output, Adam. */
    static MultiLayerNetwork multiLayer(long seed, int hidden) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER)
                .updater(new Adam(0.01))
                .dropOut(0.8)
                .list()
                .layer(new DenseLayer.Builder().nIn(INPUTS).nOut(hidden).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).dropOut(1.0).build())
                .build());
        net.init();
        return net;
    }

    /** A graph: two hidden layers side by side on the input, merged into a softmax output; dropout, Adam. */
    static ComputationGraph graph(long seed) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER)
                .updater(new Adam(0.01))
                .dropOut(0.8)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.feedForward(INPUTS))
                .addLayer("a", new DenseLayer.Builder().nOut(16).activation(Activation.RELU).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nOut(16).activation(Activation.TANH).build(), "in")
                .addVertex("merge", new MergeVertex(), "a", "b")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).dropOut(1.0).build(), "merge")
                .setOutputs("out")
                .build());
        g.init();
        return g;
    }

    /** Batch number {@code step}: 16 examples, the same for the same step in every run. */
    static DataSet batch(int step) {
        java.util.Random r = new java.util.Random(1000L + step);
        float[] x = new float[16 * INPUTS];
        float[] y = new float[16 * CLASSES];
        for (int i = 0; i < 16; i++) {
            float sum = 0;
            for (int j = 0; j < INPUTS; j++) {
                x[i * INPUTS + j] = (float) r.nextGaussian();
                sum += x[i * INPUTS + j] * (j % 3 - 1);
            }
            y[i * CLASSES + (sum < -0.5f ? 0 : sum < 0.5f ? 1 : 2)] = 1;
        }
        return new DataSet(Nd4j.create(x, new long[] {16, INPUTS}, DataType.FLOAT),
                Nd4j.create(y, new long[] {16, CLASSES}, DataType.FLOAT));
    }

    /** SHA-256 of the array's values (as float32, little-endian), in hex. */
    static String sha256(INDArray a) throws Exception {
        float[] f = a.toFloatVector();
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }
}
