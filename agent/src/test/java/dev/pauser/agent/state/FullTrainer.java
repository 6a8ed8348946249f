package dev.pauser.agent.state;

import dev.pauser.TrainState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/** A trainer with every supported kind of @TrainState field; {@link #advance} changes all of them deterministically. */
class FullTrainer extends BaseTrainer {
    enum Phase { WARMUP, TRAIN, COOLDOWN }

    /** A nested state object: its own fields are the state. */
    static final class Optimizer {
        @TrainState
        final double[] m = new double[5];
        @TrainState
        float lr = 0.1f;
        @TrainState(name = "steps")
        private long t;

        long steps() {
            return t;
        }
    }

    /** A plain object holding a list and a map: JSON. */
    static final class History {
        List<Double> losses = new ArrayList<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        float[] last = new float[2];
        Phase phase = Phase.WARMUP;
        transient int notSaved;
    }

    @TrainState
    static long globalStep;

    @TrainState
    Random random = new Random(42);
    @TrainState
    final SplittableRandom splittable = new SplittableRandom(7);
    @TrainState
    RandomGenerator l64 = RandomGeneratorFactory.of("L64X128MixRandom").create(11);
    @TrainState
    RandomGenerator xoshiro = RandomGeneratorFactory.of("Xoshiro256PlusPlus").create(13);
    @TrainState
    final float[][] weights = new float[3][4];
    @TrainState
    double[][][] cube = new double[2][3][2];
    @TrainState
    long[] longs = new long[3];
    @TrainState
    char[] chars = new char[4];
    @TrainState
    boolean[] flags = new boolean[3];
    @TrainState
    byte[] raw = new byte[5];
    @TrainState
    final Optimizer optimizer = new Optimizer();
    @TrainState
    History history = new History();
    @TrainState
    final List<String> tags = new ArrayList<>();
    @TrainState
    final Map<Integer, float[]> byId = new HashMap<>();
    @TrainState
    Phase phase = Phase.WARMUP;
    @TrainState
    final FloatBuffer direct = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    @TrainState
    ByteBuffer bytes = ByteBuffer.allocate(10).order(ByteOrder.BIG_ENDIAN);
    @TrainState
    IntBuffer heapInts = IntBuffer.allocate(6);
    @TrainState
    String name = "run";
    @TrainState
    Integer boxed = 5;
    @TrainState
    double loss = Double.NaN;
    @TrainState
    float negZero = -0.0f;
    @TrainState
    char letter = 'a';
    @TrainState
    private long privateCounter;

    /** Changes every field as training would; the same seed gives the same result. */
    void advance(int seed) {
        for (int i = 0; i < 7 + seed; i++) {
            random.nextGaussian();
            splittable.nextLong();
            l64.nextDouble();
            xoshiro.nextInt();
        }
        random.nextGaussian(); // leaves haveNextNextGaussian set
        Random r = new Random(seed);
        for (float[] row : weights) {
            for (int i = 0; i < row.length; i++) {
                row[i] = r.nextFloat();
            }
        }
        cube[1][2][1] = r.nextDouble();
        longs[2] = r.nextLong();
        chars[1] = (char) ('A' + seed);
        flags[seed % 3] = true;
        raw[4] = (byte) -seed;
        optimizer.m[3] = r.nextDouble();
        optimizer.lr = r.nextFloat();
        optimizer.t += seed;
        history.losses.add(r.nextDouble());
        history.counts.merge("k" + seed, 1, Integer::sum);
        history.last[1] = r.nextFloat();
        history.phase = Phase.COOLDOWN;
        tags.add("t" + seed);
        byId.put(seed, new float[] {seed, -seed});
        phase = Phase.values()[seed % 3];
        direct.clear();
        for (int i = 0; i < direct.capacity(); i++) {
            direct.put(i, r.nextFloat());
        }
        direct.position(3).limit(12);
        bytes.put((byte) seed).putShort((short) 300);
        heapInts.put(seed);
        name = "run-" + seed;
        boxed = seed * 10;
        loss = r.nextDouble();
        negZero = seed % 2 == 0 ? -0.0f : 1.5f;
        letter = (char) ('a' + seed);
        privateCounter += seed;
        baseCounter += 2 * seed;
        globalStep += seed;
    }

    long privateCounter() {
        return privateCounter;
    }
}

/** A superclass with state of its own. */
class BaseTrainer {
    @TrainState
    protected int baseCounter;
}
