package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The copy split over threads puts the same bytes where the single-threaded copy does, for lengths around the split
 * points and every element size, at an offset into the buffer (rows of a multi-dimensional array), and runs on the
 * "pauser-capture-N" threads. Split {@link ParallelCopy#MAX_WORKERS} ways, whatever this machine's default.
 */
class ParallelCopyTest {
    private static final long SPLIT = ParallelCopy.SPLIT_BYTES;

    private static ByteBuffer buffer(long bytes) {
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Copies {@code array} at {@code offset} both ways and compares every byte and the positions after. */
    private static void assertSameAsSingleThreaded(Object array, int elementSize, int offset) {
        long bytes = (long) java.lang.reflect.Array.getLength(array) * elementSize;
        ByteBuffer expected = buffer(offset + bytes);
        ByteBuffer actual = buffer(offset + bytes);
        expected.position(offset);
        actual.position(offset);
        Tensors.put(expected, array);
        ParallelCopy.put(actual, array, ParallelCopy.MAX_WORKERS);
        assertEquals(expected.position(), actual.position(), "position after the copy");
        assertEquals(-1, expected.clear().mismatch(actual.clear()),
                array.getClass().getSimpleName() + " of " + bytes + " bytes at offset " + offset);
    }

    @Test
    void floatsAroundTheSplitPointsCopyTheSameBytes() {
        Random r = new Random(1);
        for (long bytes : new long[] {4, 2 * SPLIT - 4, 2 * SPLIT, 2 * SPLIT + 4, 3 * SPLIT + 12, 5 * SPLIT - 4}) {
            float[] a = new float[(int) (bytes / 4)];
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextFloat();
            }
            assertSameAsSingleThreaded(a, 4, 0);
            assertSameAsSingleThreaded(a, 4, 12);
        }
    }

    @Test
    void everyElementSizeCopiesTheSameBytes() {
        Random r = new Random(2);
        int n8 = (int) ((2 * SPLIT + 24) / 8);
        double[] d = r.doubles(n8).toArray();
        long[] l = r.longs(n8).toArray();
        int[] i = r.ints((int) ((2 * SPLIT + 4) / 4)).toArray();
        short[] s = new short[(int) ((2 * SPLIT + 2) / 2)];
        char[] c = new char[s.length];
        for (int k = 0; k < s.length; k++) {
            s[k] = (short) r.nextInt();
            c[k] = (char) r.nextInt();
        }
        byte[] b = new byte[(int) (3 * SPLIT + 3)];
        r.nextBytes(b);
        assertSameAsSingleThreaded(d, 8, 0);
        assertSameAsSingleThreaded(l, 8, 8);
        assertSameAsSingleThreaded(i, 4, 4);
        assertSameAsSingleThreaded(s, 2, 2);
        assertSameAsSingleThreaded(c, 2, 0);
        assertSameAsSingleThreaded(b, 1, 1);
        boolean[] z = new boolean[(int) (2 * SPLIT + 1)];
        z[z.length - 1] = true;
        assertSameAsSingleThreaded(z, 1, 0);
    }

    @Test
    void largeCopiesRunOnTheCaptureThreads() {
        float[] a = new float[(int) (4 * SPLIT / 4)];
        ParallelCopy.put(buffer(4 * SPLIT), a, ParallelCopy.MAX_WORKERS);
        Set<String> names = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .collect(java.util.stream.Collectors.toSet());
        assertTrue(names.contains("pauser-capture-1"), names.toString());
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("pauser-capture-")).allMatch(Thread::isDaemon));
    }
}
