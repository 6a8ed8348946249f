package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.TrainState;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.TensorEntry;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ObjectGraphCodecTest {

    enum Mode { WARMUP, STEADY }

    /** A library-style model: no no-argument constructor, private, final and transient state, a cycle. */
    static final class Net {
        private final double[] weights;
        private transient int[] visits;
        private final Layer[] layers;
        private final List<Layer> ordered = new ArrayList<>();
        private final Map<String, Layer> byName = new LinkedHashMap<>();
        private final Random dropout = new Random(7);
        private final Object lock = new Object();
        private final long created;
        private Mode mode = Mode.WARMUP;
        private String label = "new";
        private Integer boxed;
        private Worker worker; // created lazily, like a trainer's workers

        Net(int width, long created) {
            this.weights = new double[width];
            this.visits = new int[width];
            this.created = created;
            this.layers = new Layer[] {new Layer(this, width), new Layer(this, width)};
            for (Layer l : layers) {
                ordered.add(l);
                byName.put("layer" + byName.size(), l);
            }
        }

        void train(int steps) {
            for (int s = 0; s < steps; s++) {
                if (worker == null) {
                    worker = new Worker(layers[1], weights.length);
                }
                for (int i = 0; i < weights.length; i++) {
                    weights[i] += dropout.nextGaussian();
                    visits[i]++;
                    layers[i % 2].bias[i] += 0.5;
                    worker.scratch[i] = weights[i] * 2;
                }
                mode = Mode.STEADY;
                label = "step " + s;
                boxed = s;
            }
        }
    }

    static final class Layer {
        private final Net owner;
        private final float[] bias;

        Layer(Net owner, int width) {
            this.owner = owner;
            this.bias = new float[width];
        }
    }

    static final class Worker {
        private final Layer layer;
        private final double[] scratch;

        Worker(Layer layer, int width) {
            this.layer = layer;
            this.scratch = new double[width];
        }
    }

    static final class Trainer {
        @TrainState
        final Net net;
        @TrainState
        int epoch;

        Trainer(long created) {
            this(4, created);
        }

        Trainer(int width, long created) {
            net = new Net(width, created);
        }
    }

    /** A plain object the JSON codec takes (it has a no-argument constructor). */
    static final class Settings {
        double rate = 0.1;
    }

    static final class Mixed {
        @TrainState
        Settings settings = new Settings();
        @TrainState
        Net net = new Net(2, 1);
    }

    static final class Unsafe {
        final Thread thread = new Thread(() -> { });
        final Socket socket = new Socket();
        final Net fine = new Net(2, 1);
    }

    static final class HoldsUnsafe {
        @TrainState
        Unsafe first = new Unsafe();
        @TrainState
        Unsafe second = new Unsafe();
    }

    private static List<Entry> capture(Object trainer) {
        return StateRoundTripTest.copied(new StateCapture(StateSchema.of(trainer.getClass())).capture(trainer));
    }

    @Test
    void aTrainedGraphIsWrittenIntoTheLiveObjectsWithSharedReferencesCyclesAndTransientFields() {
        Trainer trained = new Trainer(42);
        trained.net.train(3);
        trained.epoch = 3;
        List<Entry> entries = capture(trained);

        Trainer fresh = new Trainer(42);
        double[] weights = fresh.net.weights;
        Layer firstLayer = fresh.net.layers[0];
        Random dropout = fresh.net.dropout;
        new StateRestore(StateSchema.of(Trainer.class)).restore(fresh, entries, StateRestore.OnMismatch.FAIL);

        Net a = trained.net;
        Net b = fresh.net;
        assertSame(weights, b.weights, "arrays are filled in place");
        assertSame(firstLayer, b.layers[0], "live objects are kept");
        assertSame(dropout, b.dropout);
        assertArrayEquals(a.weights, b.weights);
        assertArrayEquals(a.visits, b.visits, "transient fields are state too");
        assertArrayEquals(a.layers[0].bias, b.layers[0].bias);
        assertArrayEquals(a.layers[1].bias, b.layers[1].bias);
        assertSame(b, b.layers[1].owner, "the cycle back to the net");
        assertSame(b.layers[0], b.ordered.get(0), "shared references stay shared");
        assertSame(b.layers[1], b.byName.get("layer1"));
        assertEquals(Mode.STEADY, b.mode);
        assertEquals("step 2", b.label);
        assertEquals(2, b.boxed);
        assertEquals(3, fresh.epoch);
        assertNotNull(b.worker, "a lazily created object is created without its constructor");
        assertNotSame(a.worker, b.worker);
        assertSame(b.layers[1], b.worker.layer, "and points at the live objects");
        assertArrayEquals(a.worker.scratch, b.worker.scratch);
        assertEquals(a.dropout.nextGaussian(), b.dropout.nextGaussian(), "the generator continues exactly");

        trained.net.train(2);
        fresh.net.train(2);
        assertArrayEquals(trained.net.weights, fresh.net.weights, "training on gives the same result");
    }

    @Test
    void arraysAreTensorsUnderTheFieldKeyAndTheGraphIsOneJsonDocument() throws Exception {
        Trainer t = new Trainer(GraphCapture.OWN_TENSOR_ELEMENTS, 1);
        t.net.train(1);
        List<Entry> entries = capture(t);
        JsonEntry doc = (JsonEntry) entries.stream().filter(e -> e.key().equals("net")).findFirst().orElseThrow();
        assertEquals(Net.class.getName() + "{codec=object-graph}", doc.javaType());
        JsonNode root = Json.MAPPER.readTree(doc.json());
        assertEquals(ObjectGraphCodec.FORMAT, root.get("format").asText());
        assertEquals(Net.class.getName(), root.get("objects").get(0).get("class").asText());
        assertEquals("double[]", root.get("classes").get(Net.class.getName()).get("weights").asText());
        TensorEntry weights = (TensorEntry) entries.stream().filter(e -> e.key().equals("net/weights"))
                .findFirst().orElseThrow();
        assertArrayEquals(new long[] {GraphCapture.OWN_TENSOR_ELEMENTS}, weights.shape());
        assertTrue(entries.stream().anyMatch(e -> e.key().equals("net/layers[0].bias")), keys(entries));
        assertTrue(entries.stream().anyMatch(e -> e.key().equals("net/worker.scratch")), keys(entries));
    }

    @Test
    void smallArraysShareOneTensorPerDtypeAndRestoreFromTheirSlices() {
        Trainer trained = new Trainer(3, 1);
        trained.net.train(2);
        List<Entry> entries = capture(trained);
        // weights, visits and the worker's scratch row (3 each) share one tensor per dtype; the biases another
        assertEquals(java.util.Set.of("net", "net/packed.F64", "net/packed.I32", "net/packed.F32", "epoch"),
                java.util.Set.copyOf(entries.stream().map(Entry::key).toList()));
        TensorEntry f64 = (TensorEntry) entries.stream().filter(e -> e.key().equals("net/packed.F64")).findFirst()
                .orElseThrow();
        assertArrayEquals(new long[] {6}, f64.shape(), "weights and scratch");
        Trainer fresh = new Trainer(3, 1);
        new StateRestore(StateSchema.of(Trainer.class)).restore(fresh, entries, StateRestore.OnMismatch.FAIL);
        assertArrayEquals(trained.net.weights, fresh.net.weights);
        assertArrayEquals(trained.net.worker.scratch, fresh.net.worker.scratch);
        assertArrayEquals(trained.net.visits, fresh.net.visits);
        assertArrayEquals(trained.net.layers[1].bias, fresh.net.layers[1].bias);
    }

    @Test
    void objectsTheJsonCodecTakesKeepIt() {
        StateSchema schema = StateSchema.of(Mixed.class);
        assertInstanceOf(JacksonCodec.class, schema.field("settings").codec);
        assertInstanceOf(ObjectGraphCodec.class, schema.field("net").codec);
    }

    @Test
    void everyObjectThatCantBeStateIsNamedByItsPathAtRegistration() {
        HoldsUnsafe h = new HoldsUnsafe();
        List<String> problems = StateSchema.of(HoldsUnsafe.class).graphProblems(h);
        String all = String.join("\n", problems);
        assertEquals(4, problems.size(), all);
        assertTrue(all.contains("first.thread: a java.lang.Thread is a thread, which is not state"), all);
        assertTrue(all.contains("first.socket: a java.net.Socket is a socket"), all);
        assertTrue(all.contains("second.thread: a java.lang.Thread"), all);
        assertTrue(all.contains("second.socket: a java.net.Socket"), all);
        StateException e = assertThrows(StateException.class, () -> new StateCapture(
                StateSchema.of(HoldsUnsafe.class)).capture(h));
        assertTrue(e.getMessage().contains("first.thread"), e.getMessage());
    }

    @Test
    void aChangedClassIsListedAsMismatchesAndNothingIsWritten() throws Exception {
        Trainer trained = new Trainer(1);
        trained.net.train(2);
        trained.epoch = 2;
        List<Entry> entries = new ArrayList<>(capture(trained));
        JsonEntry doc = (JsonEntry) entries.get(0);
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(doc.json());
        ObjectNode netTypes = (ObjectNode) root.get("classes").get(Net.class.getName());
        netTypes.remove("label");
        netTypes.put("momentum", "double");
        netTypes.put("created", "int");
        entries.set(0, new JsonEntry(doc.key(), doc.declaringClass(), doc.javaType(),
                Json.MAPPER.writeValueAsString(root)));

        Trainer fresh = new Trainer(1);
        StateMismatchException e = assertThrows(StateMismatchException.class, () -> new StateRestore(
                StateSchema.of(Trainer.class)).restore(fresh, entries, StateRestore.OnMismatch.FAIL));
        String m = e.getMessage();
        assertTrue(m.contains("field " + Net.class.getName() + ".label (java.lang.String) is in the code but not in"
                + " the checkpoint"), m);
        assertTrue(m.contains("field " + Net.class.getName() + ".momentum (double) is in the checkpoint but not in"
                + " the code"), m);
        assertTrue(m.contains("field " + Net.class.getName() + ".created: checkpoint has int, code has long"), m);
        assertEquals(0, fresh.epoch, "nothing is written");
        assertEquals(0.0, fresh.net.weights[0]);

        List<String> warned = new StateRestore(StateSchema.of(Trainer.class)).restore(fresh, entries,
                StateRestore.OnMismatch.WARN);
        assertEquals(1, warned.size(), String.join("\n", warned));
        assertEquals(2, fresh.epoch, "the other fields are restored");
        assertEquals(0.0, fresh.net.weights[0], "the mismatched graph keeps the code's values");
    }

    @Test
    void aLiveArrayOfAnotherLengthIsAMismatch() {
        Trainer trained = new Trainer(1);
        List<Entry> entries = capture(trained);
        Trainer wider = new Trainer(1);
        // a Net of another width: its final arrays can't take the stored ones
        StateMismatchException e = assertThrows(StateMismatchException.class, () -> {
            java.lang.reflect.Field f = Trainer.class.getDeclaredField("net");
            f.setAccessible(true);
            f.set(wider, new Net(5, 1));
            new StateRestore(StateSchema.of(Trainer.class)).restore(wider, entries, StateRestore.OnMismatch.FAIL);
        });
        assertTrue(e.getMessage().contains("reshaped: 'net' (" + Trainer.class.getName() + ".net): at net.weights: the"
                + " checkpoint has double[] of length 4, the live one has length 5"), e.getMessage());
    }

    /** A linked list deeper than any recursive walk could follow. */
    static final class Chain {
        private final int value;
        private Chain next;

        Chain(int value) {
            this.value = value;
        }
    }

    static final class ChainHolder {
        @TrainState
        final Chain head = new Chain(0);
        @TrainState
        final Holder holder = new Holder(1);
    }

    static final class Holder {
        private java.util.TreeMap<String, Integer> sorted;

        Holder(int ignored) {
        }
    }

    @Test
    void aLongChainIsWalkedWithoutRecursionAndRestoredIntoObjectsCreatedWithoutConstructors() {
        ChainHolder trained = new ChainHolder();
        Chain c = trained.head;
        for (int i = 1; i < 100_000; i++) {
            c.next = new Chain(i);
            c = c.next;
        }
        List<Entry> entries = capture(trained);
        ChainHolder fresh = new ChainHolder();
        new StateRestore(StateSchema.of(ChainHolder.class)).restore(fresh, entries, StateRestore.OnMismatch.FAIL);
        int n = 0;
        for (Chain k = fresh.head; k != null; k = k.next) {
            assertEquals(n++, k.value);
        }
        assertEquals(100_000, n);
    }

    @Test
    void aNullLiveObjectOfAJdkClassWithoutARuleForCreatingItIsAMismatchSayingWhatToDo() {
        ChainHolder trained = new ChainHolder();
        trained.holder.sorted = new java.util.TreeMap<>(Map.of("a", 1));
        List<Entry> entries = capture(trained);
        ChainHolder fresh = new ChainHolder();
        StateMismatchException e = assertThrows(StateMismatchException.class, () -> new StateRestore(
                StateSchema.of(ChainHolder.class)).restore(fresh, entries, StateRestore.OnMismatch.FAIL));
        assertTrue(e.getMessage().contains("added: 'holder' (" + ChainHolder.class.getName() + ".holder): at"
                + " holder.sorted: the live graph holds null where the checkpoint has a java.util.TreeMap, which can't"
                + " be created here (a java.util.TreeMap is only restored into an existing one): create it before the"
                + " first step"), e.getMessage());
        fresh.holder.sorted = new java.util.TreeMap<>();
        new StateRestore(StateSchema.of(ChainHolder.class)).restore(fresh, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(Map.of("a", 1), fresh.holder.sorted, "restored into the one the code made");
    }

    private static String keys(List<Entry> entries) {
        return entries.stream().map(Entry::key).toList().toString();
    }
}
