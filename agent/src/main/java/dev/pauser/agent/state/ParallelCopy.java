package dev.pauser.agent.state;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Copies a large one-dimensional primitive array into staging over several threads: the copy is bound by memory
 * bandwidth, which one core does not saturate. The array is cut into contiguous pieces of at least {@link #SPLIT_BYTES},
 * one per worker; the calling thread copies the first itself, the daemon threads "pauser-capture-N" the others, and the
 * call returns when every piece is in place. An array below twice {@link #SPLIT_BYTES} is copied by the caller alone,
 * so a small state pays nothing for the hand-over. Called where every step thread is held (the capturing thread); the
 * pool is started by {@link #start} (the checkpoint preparation, in the background) or else by the first large copy.
 *
 * <p>How many: half the processors the JVM sees, at most {@link #MAX_WORKERS}; on two or fewer, the caller alone.
 * Measured on a 2-core VM (heap {@code float[]} of 256 MiB into direct memory, best of 5): one thread 42 ms (6.3 GB/s,
 * as fast as {@code System.arraycopy} there), two 38-44 ms when the other core was idle and 61-88 ms when other
 * processes kept it busy: one core already saturates that machine's memory bus, and a second thread only helps where a
 * core is free and the bus is wider (servers, whose single-core copy reaches a fraction of their bandwidth). Half the
 * processors leaves the siblings of hyper-threaded cores, and other processes, alone.
 */
final class ParallelCopy {
    /** The smallest piece handed to another thread: below this the hand-over costs more than the copy it saves. */
    static final long SPLIT_BYTES = 8L << 20;
    /** Workers at most, the caller included: a few cores saturate the memory bus of most machines. */
    static final int MAX_WORKERS = 4;
    /** Workers of this JVM, the caller included. */
    static final int WORKERS = Math.max(1, Math.min(MAX_WORKERS, Runtime.getRuntime().availableProcessors() / 2));

    private static volatile ExecutorService pool;

    private ParallelCopy() {
    }

    /** Starts the copy threads if this JVM splits copies and they are not running yet. Any thread. */
    static void start() {
        if (WORKERS > 1) {
            pool();
        }
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (ParallelCopy.class) {
                p = pool;
                if (p == null) {
                    AtomicInteger n = new AtomicInteger();
                    int threads = Math.max(1, WORKERS - 1);
                    ThreadPoolExecutor e = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
                            new LinkedBlockingQueue<>(), r -> {
                                Thread t = new Thread(r, "pauser-capture-" + n.incrementAndGet());
                                t.setDaemon(true);
                                return t;
                            });
                    e.prestartAllCoreThreads();
                    pool = p = e;
                }
            }
        }
        return p;
    }

    /**
     * Copies the 1-D primitive {@code array} into {@code dst} (little-endian) at its position, advancing it, as
     * {@link Tensors#put}, in parallel when it is large.
     */
    static void put(ByteBuffer dst, Object array) {
        put(dst, array, WORKERS);
    }

    /** {@link #put(ByteBuffer, Object)} in at most {@code workers} pieces. */
    static void put(ByteBuffer dst, Object array, int workers) {
        int size = elementSize(array);
        int length = java.lang.reflect.Array.getLength(array);
        long bytes = (long) length * size;
        int pieces = size == 0 ? 1 : (int) Math.min(workers, bytes / SPLIT_BYTES);
        if (pieces < 2) {
            Tensors.put(dst, array);
            return;
        }
        int base = dst.position();
        int per = (length + pieces - 1) / pieces;
        List<Future<?>> others = new ArrayList<>(pieces - 1);
        ExecutorService p = pool();
        for (int i = 1; i < pieces; i++) {
            int from = i * per;
            int n = Math.min(length, from + per) - from;
            if (n > 0) {
                others.add(p.submit(() -> putRange(dst, base, array, from, n, size)));
            }
        }
        putRange(dst, base, array, 0, Math.min(per, length), size);
        boolean interrupted = false;
        for (Future<?> f : others) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the pieces must be in place before the staging is handed on
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(c);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        dst.position(base + (int) bytes);
    }

    /** Bytes per element of a primitive array whose copy can be split; 0 for boolean[] (copied element by element). */
    private static int elementSize(Object array) {
        if (array instanceof float[] || array instanceof int[]) {
            return 4;
        } else if (array instanceof double[] || array instanceof long[]) {
            return 8;
        } else if (array instanceof short[] || array instanceof char[]) {
            return 2;
        } else if (array instanceof byte[]) {
            return 1;
        }
        return 0;
    }

    /** Elements {@code [from, from + n)} of {@code array} into {@code dst} at {@code base + from * size}. */
    private static void putRange(ByteBuffer dst, int base, Object array, int from, int n, int size) {
        ByteBuffer part = dst.duplicate();
        part.limit(base + (from + n) * size).position(base + from * size);
        part = part.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (array instanceof float[] a) {
            part.asFloatBuffer().put(a, from, n);
        } else if (array instanceof double[] a) {
            part.asDoubleBuffer().put(a, from, n);
        } else if (array instanceof long[] a) {
            part.asLongBuffer().put(a, from, n);
        } else if (array instanceof int[] a) {
            part.asIntBuffer().put(a, from, n);
        } else if (array instanceof short[] a) {
            part.asShortBuffer().put(a, from, n);
        } else if (array instanceof char[] a) {
            part.asCharBuffer().put(a, from, n);
        } else {
            part.put((byte[]) array, from, n);
        }
    }
}
