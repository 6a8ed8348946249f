package dev.pauser.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.deeplearning4j.nn.api.NeuralNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The codec as the agent drives it: {@code encode} on a thread other than the training thread, {@code decode} on the
 * training thread into a network built afresh, and training goes on exactly as the original did.
 */
class NetworkCodecTest {
    private final NetworkCodec codec = new NetworkCodec();

    /** What the agent does at a checkpoint: encode on a thread of its own; the bytes read only, as the agent reads them. */
    private ByteBuffer encodeOnAnotherThread(Object net) throws Exception {
        ByteBuffer bytes = CompletableFuture.supplyAsync(() -> {
            try {
                return codec.encode(net);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get();
        return bytes.asReadOnlyBuffer();
    }

    private static void fit(NeuralNetwork net, int from, int to) {
        for (int s = from; s < to; s++) {
            net.fit(TestNetworks.batch(s));
        }
    }

    @Test
    void multiLayerNetworkRestoredInPlaceTrainsOnExactlyAsTheOriginal() throws Exception {
        assertTrue(codec.handles(MultiLayerNetwork.class));
        MultiLayerNetwork original = TestNetworks.multiLayer(7, 32);
        fit(original, 0, 5);
        INDArray paramsAtCheckpoint = original.params().dup();
        INDArray firstWeightsAtCheckpoint = original.getParam("0_W").dup();
        INDArray adamAtCheckpoint = original.getUpdater().getStateViewArray().dup();
        ByteBuffer saved = encodeOnAnotherThread(original);
        fit(original, 5, 10);

        MultiLayerNetwork resumed = TestNetworks.multiLayer(99, 32); // other initial weights, no updater state yet
        INDArray paramsView = resumed.params();
        Nd4j.getRandom().nextLong(); // this thread's generator moved on since the checkpoint
        assertSame(resumed, codec.decode(saved, resumed, MultiLayerNetwork.class));
        assertSame(paramsView, resumed.params(), "the parameters are written into the network's own array");
        assertEquals(paramsAtCheckpoint, resumed.params());
        assertEquals(firstWeightsAtCheckpoint, resumed.getParam("0_W"), "the layers' views see the restored values");
        assertEquals(adamAtCheckpoint, resumed.getUpdater().getStateViewArray());
        assertEquals(5, resumed.getIterationCount());
        assertEquals(0, resumed.getEpochCount());

        fit(resumed, 5, 10);
        assertEquals(original.params(), resumed.params(), "the resumed network trains on exactly as the original");
        assertEquals(original.getUpdater().getStateViewArray(), resumed.getUpdater().getStateViewArray());
        assertEquals(original.getIterationCount(), resumed.getIterationCount());
    }

    @Test
    void dropoutDrawsFromTheTrainingThreadsGeneratorSoItsStateIsPartOfTheCheckpoint() throws Exception {
        codec.handles(MultiLayerNetwork.class);
        MultiLayerNetwork original = TestNetworks.multiLayer(7, 32);
        fit(original, 0, 3);
        ByteBuffer saved = encodeOnAnotherThread(original);
        fit(original, 3, 6);

        MultiLayerNetwork restored = TestNetworks.multiLayer(7, 32);
        codec.decode(saved, restored, MultiLayerNetwork.class);
        Nd4j.getRandom().nextLong(); // after the restore: the dropout masks now differ
        fit(restored, 3, 6);
        assertNotEquals(original.params(), restored.params(),
                "with the generator moved on, the same batches train to other parameters");
    }

    @Test
    void computationGraphRestoredInPlaceTrainsOnExactlyAsTheOriginal() throws Exception {
        assertTrue(codec.handles(ComputationGraph.class));
        ComputationGraph original = TestNetworks.graph(3);
        fit(original, 0, 4);
        ByteBuffer saved = encodeOnAnotherThread(original);
        INDArray adamAtCheckpoint = original.getUpdater().getStateViewArray().dup();
        fit(original, 4, 8);

        ComputationGraph resumed = TestNetworks.graph(4);
        Nd4j.getRandom().nextLong();
        assertSame(resumed, codec.decode(saved, resumed, ComputationGraph.class));
        assertEquals(adamAtCheckpoint, resumed.getUpdater().getStateViewArray());
        assertEquals(4, resumed.getIterationCount());
        fit(resumed, 4, 8);
        assertEquals(original.params(), resumed.params());
        assertEquals(original.getIterationCount(), resumed.getIterationCount());
    }

    @Test
    void aNetworkSavedBeforeItsFirstFitRestoresWithoutUpdaterState() throws Exception {
        codec.handles(MultiLayerNetwork.class);
        MultiLayerNetwork fresh = TestNetworks.multiLayer(7, 32);
        ByteBuffer saved = encodeOnAnotherThread(fresh);
        MultiLayerNetwork trained = TestNetworks.multiLayer(8, 32);
        fit(trained, 0, 2);
        codec.decode(saved, trained, MultiLayerNetwork.class);
        assertEquals(fresh.params(), trained.params());
        assertEquals(0, trained.getIterationCount());
        assertEquals(0.0, trained.getUpdater().getStateViewArray().sumNumber().doubleValue(),
                "a new updater starts from zeros");
    }

    @Test
    void onlyNetworksAreHandled() {
        assertFalse(codec.handles(String.class));
        assertFalse(codec.handles(INDArray.class));
        assertTrue(codec.handles(MultiLayerNetwork.class));
    }

    @Test
    void aNetworkOfAnotherShapeIsRefusedBeforeAnythingIsWritten() throws Exception {
        codec.handles(MultiLayerNetwork.class);
        MultiLayerNetwork small = TestNetworks.multiLayer(7, 16);
        fit(small, 0, 1);
        ByteBuffer saved = encodeOnAnotherThread(small);
        MultiLayerNetwork wider = TestNetworks.multiLayer(7, 32);
        INDArray before = wider.params().dup();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> codec.decode(saved, wider, MultiLayerNetwork.class));
        assertTrue(e.getMessage().contains("configuration changed"), e.getMessage());
        assertEquals(before, wider.params(), "nothing written");

        ComputationGraph graph = TestNetworks.graph(1);
        e = assertThrows(IllegalArgumentException.class, () -> codec.decode(saved, graph, ComputationGraph.class));
        assertEquals("the checkpoint holds a MultiLayerNetwork, the field a ComputationGraph", e.getMessage());

        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> codec.decode(saved, null, MultiLayerNetwork.class));
        assertTrue(none.getMessage().contains("call init()"), none.getMessage());
    }

    @Test
    void everyTruncationAndForeignBytesAreRefusedWithOneLine() throws Exception {
        codec.handles(MultiLayerNetwork.class);
        MultiLayerNetwork net = TestNetworks.multiLayer(7, 4);
        fit(net, 0, 1);
        ByteBuffer saved = encodeOnAnotherThread(net);
        byte[] all = new byte[saved.remaining()];
        saved.duplicate().get(all);
        assertEquals(NetworkState.fromBytes(ByteBuffer.wrap(all)),
                NetworkState.fromBytes(NetworkState.fromBytes(ByteBuffer.wrap(all)).toBytes()), "round trip");
        for (int n = 0; n < all.length; n++) {
            ByteBuffer cut = ByteBuffer.wrap(all, 0, n);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NetworkState.fromBytes(cut),
                    "cut at " + n);
            assertTrue(e.getMessage().startsWith("not a pauser-dl4j network state: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        byte[] longer = java.util.Arrays.copyOf(all, all.length + 1);
        assertThrows(IllegalArgumentException.class, () -> NetworkState.fromBytes(ByteBuffer.wrap(longer)));
        byte[] foreign = all.clone();
        foreign[0] = 'X';
        assertThrows(IllegalArgumentException.class, () -> NetworkState.fromBytes(ByteBuffer.wrap(foreign)));
        MultiLayerNetwork target = TestNetworks.multiLayer(7, 4);
        assertThrows(IllegalArgumentException.class,
                () -> codec.decode(ByteBuffer.wrap(foreign), target, MultiLayerNetwork.class));
    }
}
