package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA trainer in-process: the same state fields as the CPU mode with the three float arrays in device memory;
 * and, on a GPU (skipped by assumption elsewhere), the same bits in every run, a run whose state fields are copied
 * into a fresh trainer after k steps ending exactly as the uninterrupted run (what the agent's restore relies on), and
 * losses and accuracy that track the CPU mode's.
 */
class CudaTrainerTest {

    @Test
    void theStateFieldsAreTheCpuModesWithTheParametersAndMomentsInDeviceMemory() {
        Map<String, Class<?>> cpu = stateFieldTypes(SampleTrainer.class);
        Map<String, Class<?>> cuda = stateFieldTypes(CudaTrainer.class);
        assertEquals(cpu.keySet(), cuda.keySet());
        for (String name : cpu.keySet()) {
            Class<?> expected = cpu.get(name) == float[].class ? CUdeviceptr.class : cpu.get(name);
            assertEquals(expected, cuda.get(name), name);
        }
    }

    @Test
    void twoRunsGiveTheSameBits() throws Exception {
        assumeGpu();
        Options o = Options.parse(SplitRunTest.OPTIONS);
        assertEquals(wholeRun(o), wholeRun(o));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 31, 32, 57, 100})
    void aRunWhoseStateIsCopiedIntoAFreshTrainerAfterKStepsEndsAsTheUninterruptedRun(int k) throws Exception {
        assumeGpu();
        SplitRunTest.assertSplitRunEndsAsWholeRun(Options.parse(SplitRunTest.OPTIONS), k, CudaTrainer::open,
                CudaTrainerTest::capture, CudaTrainerTest::restore);
    }

    @Test
    void lossesAndAccuracyTrackTheCpuMode() throws Exception {
        assumeGpu();
        Options o = Options.parse("--steps", "200", "--batch", "32", "--hidden", "16", "--layers", "2",
                "--train-rows", "1000", "--test-rows", "500", "--classes", "4", "--features", "5");
        try (SampleTrainer cpu = new SampleTrainer(o); CudaTrainer gpu = CudaTrainer.open(o)) {
            while (cpu.step < o.steps()) {
                cpu.trainStep();
                gpu.trainStep();
                // Other summation orders round differently, and Adam (which divides by the gradients' size) lets a
                // few near-zero gradients of opposite rounding move their weights apart; the loss, over all of them,
                // stays close. A wrong gradient or update moves it away within a few dozen steps.
                double tolerance = 5e-3 * Math.abs(cpu.lastLoss());
                assertEquals(cpu.lastLoss(), gpu.lastLoss(), tolerance, "loss at step " + cpu.step);
            }
            assertEquals(cpu.testAccuracy(), gpu.testAccuracy(), 0.02, "test accuracy after " + o.steps() + " steps");
            assertTrue(gpu.testAccuracy() > 0.5, "it learns: " + gpu.testAccuracy());
        }
    }

    private static void assumeGpu() {
        assumeTrue(CudaDevices.usable(), "no usable CUDA device here: " + CudaDevices.availability());
    }

    private static String wholeRun(Options o) throws Exception {
        return SplitRunTest.wholeRun(o, CudaTrainer::open);
    }

    private static Map<String, Class<?>> stateFieldTypes(Class<?> trainer) {
        Map<String, Class<?>> types = new LinkedHashMap<>();
        for (Field f : stateFields(trainer)) {
            types.put(f.getName(), f.getType());
        }
        return types;
    }

    private static List<Field> stateFields(Class<?> trainer) {
        return SplitRunTest.stateFields(trainer);
    }

    /** The state fields' values as a checkpoint holds them: device memory copied to the host, the rest deep-copied. */
    private static List<Object> capture(CudaTrainer t) throws Exception {
        long bytes = (long) t.layout.totalSize * Float.BYTES;
        List<Object> values = new ArrayList<>();
        for (Field f : stateFields(CudaTrainer.class)) {
            Object v = f.get(t);
            if (v instanceof CUdeviceptr p) {
                float[] host = new float[t.layout.totalSize];
                JCudaDriver.cuMemcpyDtoH(Pointer.to(host), p, bytes);
                values.add(host);
            } else {
                values.add(SplitRunTest.deepCopy(v));
            }
        }
        return values;
    }

    /** Writes a capture back: device contents into the trainer's own device memory, the rest into the fields. */
    private static void restore(CudaTrainer t, List<Object> values) throws Exception {
        List<Field> fields = stateFields(CudaTrainer.class);
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            if (f.getType() == CUdeviceptr.class) {
                float[] host = (float[]) values.get(i);
                JCudaDriver.cuMemcpyHtoD((CUdeviceptr) f.get(t), Pointer.to(host), (long) host.length * Float.BYTES);
            } else {
                f.set(t, SplitRunTest.deepCopy(values.get(i)));
            }
        }
    }
}
