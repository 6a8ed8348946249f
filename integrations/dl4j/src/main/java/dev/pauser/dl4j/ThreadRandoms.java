package dev.pauser.dl4j;

import java.util.Map;
import java.util.TreeMap;
import java.util.WeakHashMap;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.factory.RandomFactory;

/**
 * ND4J's random factory, wrapped so that the random generator of each thread can be found from another thread.
 *
 * <p>{@code Nd4j.getRandom()} is one generator per thread (a {@code ThreadLocal} in {@link RandomFactory}): dropout
 * and weight noise draw from the training thread's. The agent encodes on a thread of its own, where
 * {@code Nd4j.getRandom()} would be a different generator, so {@link #install()} puts this wrapper in
 * {@code Nd4j.randomFactory} (a public field meant to be replaced): each thread still gets the very generator the
 * original factory gives it (its state stays where it was), and the wrapper remembers it, weakly, by thread.
 *
 * <p>{@link #getRandom()} runs on every thread that draws random numbers through ND4J; the others on any thread.
 */
final class ThreadRandoms extends RandomFactory {
    private final RandomFactory original;
    /** The generator each live thread got, guarded by itself. */
    private final Map<Thread, Random> byThread = new WeakHashMap<>();
    /** Set once a thread's generator is in {@link #byThread}: the common call costs one thread-local read. */
    private final ThreadLocal<Random> recorded = new ThreadLocal<>();

    private ThreadRandoms(RandomFactory original) {
        super(Random.class); // never used: every method is answered by the original factory
        this.original = original;
    }

    /** Wraps ND4J's random factory, once per ND4J; a no-op when it is wrapped already. */
    static synchronized ThreadRandoms install() {
        RandomFactory current = Nd4j.getRandomFactory();
        if (current instanceof ThreadRandoms t) {
            return t;
        }
        ThreadRandoms t = new ThreadRandoms(current);
        Nd4j.randomFactory = t;
        return t;
    }

    @Override
    public Random getRandom() {
        Random r = original.getRandom();
        if (recorded.get() != r) {
            recorded.set(r);
            synchronized (byThread) {
                byThread.put(Thread.currentThread(), r);
            }
        }
        return r;
    }

    @Override
    public Random getNewRandomInstance() {
        return original.getNewRandomInstance();
    }

    @Override
    public Random getNewRandomInstance(long seed) {
        return original.getNewRandomInstance(seed);
    }

    @Override
    public Random getNewRandomInstance(long seed, long size) {
        return original.getNewRandomInstance(seed, size);
    }

    /** The generators of the live threads that have drawn through ND4J since {@link #install()}, by thread name, sorted. */
    Map<String, Random> byThreadName() {
        Map<String, Random> named = new TreeMap<>();
        synchronized (byThread) {
            byThread.forEach((thread, random) -> {
                if (thread.isAlive()) {
                    named.put(thread.getName(), random);
                }
            });
        }
        return named;
    }
}
