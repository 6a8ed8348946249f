package dev.pauser.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.Manifest;
import dev.pauser.agent.store.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckpointComparisonTest {
    private static LoadedCheckpoint checkpoint(long step, Entry... entries) {
        Manifest m = new Manifest(step, Instant.EPOCH, "host", "17", "vendor", Map.of(), 0, 0, 0, 0, 0, List.of());
        return new LoadedCheckpoint(Path.of("ckpt-" + step), m, List.of(entries));
    }

    private static TensorEntry floats(String key, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return new TensorEntry(key, "T", "float[]", DType.F32, new long[] {values.length}, b.flip());
    }

    private static JsonEntry json(String key, String type, String json) {
        return new JsonEntry(key, "T", type, json);
    }

    private static CheckpointComparison compare(LoadedCheckpoint straight, LoadedCheckpoint resumed,
            LoadedCheckpoint resumedFrom) {
        try {
            return new CheckpointComparison(straight, resumed, resumedFrom.step(), () -> resumedFrom);
        } catch (CheckpointException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void identicalCheckpointsAreExact() {
        LoadedCheckpoint a = checkpoint(20, floats("w", 1, 2, 3), json("step", "long", "20"));
        LoadedCheckpoint b = checkpoint(20, floats("w", 1, 2, 3), json("step", "long", "20"));
        CheckpointComparison c;
        try {
            c = new CheckpointComparison(a, b, 10, () -> {
                throw new AssertionError("the checkpoint resumed from is not loaded when nothing differs");
            });
        } catch (CheckpointException e) {
            throw new AssertionError(e);
        }
        assertTrue(c.exact());
        assertEquals(2, c.fields());
        assertTrue(c.likelyCauses().isEmpty());
    }

    @Test
    void aTensorDifferenceCountsTheElementsAndTheLargestDifference() {
        CheckpointComparison c = compare(checkpoint(20, floats("w", 1, 2, 3, 4)),
                checkpoint(20, floats("w", 1, 2.5f, 3, 3)), checkpoint(10, floats("w", 0, 0, 0, 0)));
        assertEquals(1, c.differences().size());
        assertEquals("2 of 4 elements differ (the first at element 1), largest difference 1.00000",
                c.differences().get(0).detail());
    }

    @Test
    void weightsThatDifferWhileTheGeneratorsAgreePointAtUnsavedState() {
        String rng = "{\"seed\":123}";
        CheckpointComparison c = compare(
                checkpoint(20, floats("w", 1, 2), json("rng", "java.util.Random", rng)),
                checkpoint(20, floats("w", 1, 7), json("rng", "java.util.Random", rng)),
                checkpoint(10, floats("w", 0, 0), json("rng", "java.util.Random", "{\"seed\":5}")));
        List<String> causes = c.likelyCauses();
        assertEquals(1, causes.size(), causes.toString());
        assertTrue(causes.get(0).startsWith("The model state differs (w) while the random generators in the checkpoint "
                + "agree"), causes.get(0));
        assertTrue(causes.get(0).contains("static field"), causes.get(0));
    }

    @Test
    void aGeneratorThatDiffersIsNamedFirstAndTheRestFollowsFromIt() {
        CheckpointComparison c = compare(
                checkpoint(20, floats("w", 1, 2), json("shuffle", "java.util.Random", "{\"seed\":1}")),
                checkpoint(20, floats("w", 1, 3), json("shuffle", "java.util.Random", "{\"seed\":2}")),
                checkpoint(10, floats("w", 0, 0), json("shuffle", "java.util.Random", "{\"seed\":0}")));
        List<String> causes = c.likelyCauses();
        assertEquals(2, causes.size(), causes.toString());
        assertTrue(causes.get(0).startsWith("The random generator state differs (shuffle)"), causes.get(0));
        assertTrue(causes.get(1).contains("(w) most likely follow from the generators"), causes.get(1));
        assertEquals("at .seed: 1 vs 2", c.differences().get(0).detail());
    }

    @Test
    void aFieldStillHoldingTheRestoredValuePointsAtAReplacedObject() {
        CheckpointComparison c = compare(checkpoint(20, floats("w", 5, 6)),
                checkpoint(20, floats("w", 1, 2)), checkpoint(10, floats("w", 1, 2)));
        assertTrue(c.differences().get(0).unchangedSinceResume());
        assertTrue(c.likelyCauses().get(0).startsWith("w kept the value restored at step 10 in the resumed run while "
                + "the straight run changed it"), c.likelyCauses().toString());
    }

    @Test
    void jsonValuesAreComparedAsTreesAndTheFirstDifferenceIsNamed() {
        CheckpointComparison same = compare(
                checkpoint(20, json("opt", "Opt", "{\"a\":1,\"b\":[1,2]}")),
                checkpoint(20, json("opt", "Opt", "{\"a\":1, \"b\":[1,2]}")), checkpoint(10));
        assertTrue(same.exact(), "formatting is not a difference");
        CheckpointComparison c = compare(
                checkpoint(20, json("opt", "Opt", "{\"a\":1,\"b\":[1,2]}")),
                checkpoint(20, json("opt", "Opt", "{\"a\":1,\"b\":[1,3]}")), checkpoint(10));
        assertEquals("at .b[1]: 2 vs 3", c.differences().get(0).detail());
    }

    @Test
    void fieldsInOnlyOneCheckpointAreDifferences() {
        CheckpointComparison c = compare(checkpoint(20, json("a", "int", "1")),
                checkpoint(20, json("a", "int", "1"), json("b", "int", "2")), checkpoint(10));
        assertFalse(c.exact());
        assertEquals("only in the resumed run's checkpoint", c.differences().get(0).detail());
        assertTrue(c.likelyCauses().get(0).startsWith("The two runs checkpointed different fields (b)"));
    }
}
