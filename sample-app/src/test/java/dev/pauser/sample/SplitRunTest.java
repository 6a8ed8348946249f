package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import dev.pauser.TrainState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Without the agent: a run stopped after k steps whose {@code @TrainState} fields are copied into a fresh trainer
 * ends exactly as the uninterrupted run. This is what the agent's restore relies on: those fields are the whole state.
 */
class SplitRunTest {
    /** 1000 rows, batch 32: 31 steps per epoch, so the runs cross several reshuffles. */
    static final String[] OPTIONS = {"--steps", "100", "--batch", "32", "--hidden", "16", "--layers", "2",
        "--train-rows", "1000", "--test-rows", "200", "--classes", "4", "--features", "5"};

    @Test
    void theStateFieldsAreTheDocumentedOnes() {
        Set<String> names = new TreeSet<>();
        for (Field f : stateFields()) {
            names.add(f.getName());
        }
        assertEquals(new TreeSet<>(List.of("params", "adamM", "adamV", "step", "epoch", "cursor", "order",
                "shuffleRng")), names);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 30, 31, 32, 57, 99, 100})
    void splitRunEqualsWholeRun(int k) throws Exception {
        assertSplitRunEndsAsWholeRun(Options.parse(OPTIONS), k, SampleTrainer::new, SplitRunTest::capture,
                SplitRunTest::restore);
    }

    /** Opens a trainer at step 0. */
    interface Opener<T extends MlpTrainer> {
        T open(Options o) throws Exception;
    }

    /** Copies a trainer's state out, as a checkpoint holds it. */
    interface Capture<T extends MlpTrainer> {
        List<Object> capture(T trainer) throws Exception;
    }

    /** Writes a copied state into a trainer. */
    interface Restore<T extends MlpTrainer> {
        void restore(T trainer, List<Object> values) throws Exception;
    }

    /**
     * Asserts that a run whose state is captured after {@code k} steps and restored into a fresh trainer ends with the
     * uninterrupted run's hash and accuracy; the first trainer evaluates between its steps and goes on a little after
     * the capture, which must change nothing.
     */
    static <T extends MlpTrainer> void assertSplitRunEndsAsWholeRun(Options o, int k, Opener<T> opener,
            Capture<T> capturer, Restore<T> restorer) throws Exception {
        String whole = wholeRun(o, opener);
        List<Object> snapshot;
        try (T first = opener.open(o)) {
            while (first.step < k) {
                first.trainStep();
                first.testAccuracy(); // evaluating between steps must change nothing
            }
            snapshot = capturer.capture(first);
            for (int i = 0; i < 3 && first.step < o.steps(); i++) {
                first.trainStep(); // the first run goes on a little: the snapshot must not share its memory
            }
        }
        try (T second = opener.open(o)) {
            restorer.restore(second, snapshot);
            assertEquals(k, second.step);
            while (second.step < o.steps()) {
                second.trainStep();
            }
            assertEquals(whole, second.weightsSha256() + " " + second.testAccuracy(), "resumed at step " + k);
        }
    }

    /** The hash and the accuracy of an uninterrupted run. */
    static String wholeRun(Options o, Opener<?> opener) throws Exception {
        try (MlpTrainer t = opener.open(o)) {
            while (t.step < o.steps()) {
                t.trainStep();
            }
            return t.weightsSha256() + " " + t.testAccuracy();
        }
    }

    static List<Field> stateFields() {
        return stateFields(SampleTrainer.class);
    }

    /** The {@code @TrainState} fields of {@code trainer} and its superclasses, found as the agent finds them. */
    static List<Field> stateFields(Class<?> trainer) {
        List<Field> fields = new ArrayList<>();
        for (Class<?> c = trainer; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.isAnnotationPresent(TrainState.class)) {
                    if (Modifier.isStatic(f.getModifiers())) {
                        throw new AssertionError("static @TrainState field " + f);
                    }
                    f.setAccessible(true);
                    fields.add(f);
                }
            }
        }
        return fields;
    }

    /** Deep copies of the state fields' values, as a checkpoint would hold them. */
    static List<Object> capture(SampleTrainer t) throws Exception {
        List<Object> values = new ArrayList<>();
        for (Field f : stateFields()) {
            Object v = f.get(t);
            Object copy = deepCopy(v);
            if (!f.getType().isPrimitive()) {
                assertNotSame(v, copy);
            }
            values.add(copy);
        }
        return values;
    }

    static void restore(SampleTrainer t, List<Object> values) throws Exception {
        List<Field> fields = stateFields();
        for (int i = 0; i < fields.size(); i++) {
            fields.get(i).set(t, deepCopy(values.get(i)));
        }
    }

    static Object deepCopy(Object v) throws Exception {
        if (v == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject((Serializable) v);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
