package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StateRoundTripTest {

    /** What the store does: copies each entry's bytes out (the staging buffers are reused by the next capture). */
    static List<Entry> copied(List<Entry> entries) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e instanceof TensorEntry t) {
                ByteBuffer copy = ByteBuffer.allocate(t.data().remaining());
                copy.put(t.data().duplicate()).flip();
                out.add(new TensorEntry(t.key(), t.declaringClass(), t.javaType(), t.dtype(), t.shape(), copy));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void everySupportedTypeRoundTripsAndGeneratorsContinueExactly() {
        FullTrainer a = new FullTrainer();
        FullTrainer twin = new FullTrainer(); // advanced the same way, never captured
        a.advance(3);
        twin.advance(3);
        long staticAtCapture = FullTrainer.globalStep;

        StateSchema schema = StateSchema.of(a);
        StateCapture capture = new StateCapture(schema);
        List<Entry> entries = copied(capture.capture(a));

        Map<String, Entry> byKey = entries.stream().collect(Collectors.toMap(Entry::key, Function.identity()));
        assertTrue(byKey.keySet().containsAll(List.of("optimizer.m", "optimizer.lr", "optimizer.steps", "baseCounter",
                "globalStep", "weights", "random", "direct")), byKey.keySet().toString());
        TensorEntry weights = (TensorEntry) byKey.get("weights");
        assertEquals(DType.F32, weights.dtype());
        assertArrayEquals(new long[] {3, 4}, weights.shape());
        assertEquals("float[][]", weights.javaType());
        assertEquals(DType.U16, ((TensorEntry) byKey.get("chars")).dtype());
        assertEquals(DType.BOOL, ((TensorEntry) byKey.get("flags")).dtype());
        assertArrayEquals(new long[] {2, 3, 2}, ((TensorEntry) byKey.get("cube")).shape());
        TensorEntry direct = (TensorEntry) byKey.get("direct");
        assertArrayEquals(new long[] {12}, direct.shape());
        assertTrue(direct.javaType().startsWith("java.nio.FloatBuffer{direct=true"), direct.javaType());
        assertEquals("\"" + a.phase.name() + "\"", ((JsonEntry) byKey.get("phase")).json());
        assertEquals("\"NaN\"", ((JsonEntry) new StateCapture(schema).capture(new FullTrainer()).stream()
                .filter(e -> e.key().equals("loss")).findFirst().orElseThrow()).json());

        float[][] weightsArray = a.weights;
        FloatBuffer directBuffer = a.direct;
        List<String> tagsList = a.tags;
        a.advance(5); // mutate everything after the capture
        a.random.nextInt();
        a.cube = null;
        a.history = new FullTrainer.History();
        FullTrainer.globalStep = -1;

        List<String> mismatches = new StateRestore(schema).restore(a, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(List.of(), mismatches);

        // in place: same objects
        assertSame(weightsArray, a.weights);
        assertSame(directBuffer, a.direct);
        assertSame(tagsList, a.tags);

        assertEquals(staticAtCapture, FullTrainer.globalStep);
        assertEquals(twin.baseCounter, a.baseCounter);
        assertEquals(twin.privateCounter(), a.privateCounter());
        assertTrue(Arrays.deepEquals(twin.weights, a.weights));
        assertTrue(Arrays.deepEquals(twin.cube, a.cube));
        assertArrayEquals(twin.longs, a.longs);
        assertArrayEquals(twin.chars, a.chars);
        assertArrayEquals(twin.flags, a.flags);
        assertArrayEquals(twin.raw, a.raw);
        assertArrayEquals(twin.optimizer.m, a.optimizer.m);
        assertEquals(twin.optimizer.lr, a.optimizer.lr);
        assertEquals(twin.optimizer.steps(), a.optimizer.steps());
        assertEquals(twin.history.losses, a.history.losses);
        assertEquals(twin.history.counts, a.history.counts);
        assertArrayEquals(twin.history.last, a.history.last);
        assertEquals(twin.history.phase, a.history.phase);
        assertEquals(twin.tags, a.tags);
        assertEquals(twin.byId.keySet(), a.byId.keySet());
        twin.byId.forEach((k, v) -> assertArrayEquals(v, a.byId.get(k)));
        assertEquals(twin.phase, a.phase);
        assertEquals(twin.direct.position(), a.direct.position());
        assertEquals(twin.direct.limit(), a.direct.limit());
        for (int i = 0; i < twin.direct.limit(); i++) {
            assertEquals(twin.direct.get(i), a.direct.get(i));
        }
        assertEquals(twin.bytes, a.bytes);
        assertEquals(twin.bytes.order(), a.bytes.order());
        assertEquals(twin.heapInts, a.heapInts);
        assertEquals(twin.name, a.name);
        assertEquals(twin.boxed, a.boxed);
        assertEquals(Double.doubleToRawLongBits(twin.loss), Double.doubleToRawLongBits(a.loss));
        assertEquals(Float.floatToRawIntBits(twin.negZero), Float.floatToRawIntBits(a.negZero));
        assertEquals(twin.letter, a.letter);

        for (int i = 0; i < 100; i++) {
            assertEquals(twin.random.nextGaussian(), a.random.nextGaussian(), "Random.nextGaussian #" + i);
            assertEquals(twin.random.nextLong(), a.random.nextLong(), "Random.nextLong #" + i);
            assertEquals(twin.splittable.nextLong(), a.splittable.nextLong(), "SplittableRandom #" + i);
            assertEquals(twin.l64.nextLong(), a.l64.nextLong(), "L64X128MixRandom #" + i);
            assertEquals(twin.xoshiro.nextLong(), a.xoshiro.nextLong(), "Xoshiro256PlusPlus #" + i);
        }
    }

    @Test
    void nullFieldsRoundTripAndNullGeneratorsAreRecreated() {
        FullTrainer a = new FullTrainer();
        a.advance(2);
        a.name = null;
        a.boxed = null;
        StateSchema schema = StateSchema.of(FullTrainer.class);
        List<Entry> entries = copied(new StateCapture(schema).capture(a));
        FullTrainer b = new FullTrainer();
        b.l64 = null; // recreated from the recorded JDK class
        b.random = null;
        b.cube = null; // a null array gets a new one
        new StateRestore(schema).restore(b, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(null, b.name);
        assertEquals(null, b.boxed);
        assertNotNull(b.cube);
        assertInstanceOf(a.l64.getClass(), b.l64);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.l64.nextLong(), b.l64.nextLong());
            assertEquals(a.random.nextGaussian(), b.random.nextGaussian());
        }
    }

    @Test
    void stagingIsReusedAcrossCaptures() {
        FullTrainer a = new FullTrainer();
        StateCapture capture = new StateCapture(StateSchema.of(a));
        capture.capture(a);
        long bytes = capture.stagingBytes();
        a.advance(1);
        capture.capture(a);
        assertEquals(bytes, capture.stagingBytes());
        TensorEntry w = (TensorEntry) capture.capture(a).stream().filter(e -> e.key().equals("weights"))
                .findFirst().orElseThrow();
        assertTrue(w.data().isDirect());
    }
}
