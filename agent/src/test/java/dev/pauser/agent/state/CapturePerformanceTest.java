package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pauser.TrainState;
import dev.pauser.agent.store.TensorEntry;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Prints the capture speed of a 64 MB float[] next to System.arraycopy of the same array. No timing assertions. */
class CapturePerformanceTest {
    static class Big {
        @TrainState
        final float[] weights = new float[16 * 1024 * 1024];
    }

    @Test
    void captureOf64MbIsABulkCopy() {
        Big big = new Big();
        Arrays.fill(big.weights, 1.5f);
        big.weights[big.weights.length - 1] = 7f;
        StateCapture capture = new StateCapture(StateSchema.of(Big.class));
        float[] copy = new float[big.weights.length];
        long bytes = big.weights.length * 4L;
        long bestCapture = Long.MAX_VALUE;
        long bestArraycopy = Long.MAX_VALUE;
        TensorEntry t = null;
        for (int i = 0; i < 8; i++) {
            long t0 = System.nanoTime();
            t = (TensorEntry) capture.capture(big).get(0);
            long t1 = System.nanoTime();
            System.arraycopy(big.weights, 0, copy, 0, copy.length);
            long t2 = System.nanoTime();
            bestCapture = Math.min(bestCapture, t1 - t0);
            bestArraycopy = Math.min(bestArraycopy, t2 - t1);
        }
        assertEquals(bytes, t.data().remaining());
        assertEquals(7f, t.data().getFloat((int) bytes - 4));
        System.out.printf("capture of a 64 MB float[] into direct staging: %.1f GB/s (%.2f ms); "
                + "System.arraycopy of the same array: %.1f GB/s (%.2f ms); staging %d bytes%n",
                bytes / (double) bestCapture, bestCapture / 1e6, bytes / (double) bestArraycopy,
                bestArraycopy / 1e6, capture.stagingBytes());
    }
}
