package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.pauser.TrainState;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The OnnxTensor codec against the real ONNX Runtime (its jar carries the native library for the platforms the project
 * builds on; a machine where it can't load fails this test rather than skipping it).
 */
class OnnxTensorCodecTest {
    static class OrtTrainer {
        @TrainState
        OnnxTensor weights;
        @TrainState
        OnnxTensor counts;
    }

    private static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment();
    }

    @Test
    void tensorsRoundTripIntoNewTensorsAndTheOldOnesAreClosed() throws Exception {
        OrtEnvironment env = env();
        OrtTrainer t = new OrtTrainer();
        t.weights = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {1, 2, 3, 4, 5, 6}), new long[] {2, 3});
        t.counts = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {7, -8}), new long[] {2});
        StateSchema schema = StateSchema.of(OrtTrainer.class);
        List<Entry> entries = StateRoundTripTest.copied(new StateCapture(schema).capture(t));
        TensorEntry w = (TensorEntry) entries.get(0);
        assertEquals(DType.F32, w.dtype());
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertEquals("ai.onnxruntime.OnnxTensor{FLOAT}", w.javaType());

        OnnxTensor old = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[6]), new long[] {2, 3});
        t.weights = old;
        new StateRestore(schema).restore(t, entries, StateRestore.OnMismatch.FAIL);
        assertNotSame(old, t.weights);
        assertTrue(old.isClosed());
        float[] restored = new float[6];
        t.weights.getFloatBuffer().get(restored);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, restored);
        assertArrayEquals(new long[] {7, -8}, ((long[]) t.counts.getValue()));

        t.weights = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[4]), new long[] {4});
        StateMismatchException e = assertThrows(StateMismatchException.class,
                () -> new StateRestore(schema).restore(t, entries, StateRestore.OnMismatch.FAIL));
        assertTrue(e.getMessage().contains("reshaped: 'weights'"), e.getMessage());
    }
}
