package dev.pauser.dl4j;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link NetworkCodec} stores of one network, and its byte layout. The SPI gives a codec one tensor per field, of
 * one element type, so the whole state is one {@code U8} tensor in {@code state.safetensors}; every number in it is
 * little-endian:
 *
 * <pre>
 * bytes   what
 * 4       "DL4J" (ASCII)
 * int32   layout version: 1
 * int32   kind: 1 = MultiLayerNetwork, 2 = ComputationGraph
 * int32   iteration count
 * int32   epoch count
 * int32   element size of the parameters: 4 = float, 8 = double
 * int64   P, the number of parameters
 * int32   element size of the updater state: 4 or 8
 * int64   U, the number of updater state values (0: the network had no updater state yet)
 * P elems the parameters, in the order of params()
 * U elems the updater state (Adam's moments, say), in the order of the updater's state view array
 * int32   R, the number of random generators
 * R times int32 name length, the thread's name (UTF-8), int64 seed, int64 root state, int64 node state
 * </pre>
 *
 * <p>Immutable; any thread.
 */
record NetworkState(int kind, int iterationCount, int epochCount, Numbers params, Numbers updaterState,
        Map<String, RandomState> randoms) {

    static final int MULTI_LAYER_NETWORK = 1;
    static final int COMPUTATION_GRAPH = 2;
    private static final byte[] MAGIC = "DL4J".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int MAX_NAME_BYTES = 4096;

    /** A flat array of floats or doubles: exactly one of the two is non-null. */
    record Numbers(float[] floats, double[] doubles) {
        long length() {
            return floats != null ? floats.length : doubles.length;
        }

        int elementSize() {
            return floats != null ? Float.BYTES : Double.BYTES;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Numbers n && Arrays.equals(floats, n.floats) && Arrays.equals(doubles, n.doubles);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(floats) + Arrays.hashCode(doubles);
        }

        @Override
        public String toString() {
            return length() + (floats != null ? " floats" : " doubles");
        }
    }

    /** One thread's ND4J generator: what {@code Random.setSeed} and {@code setStates} take back. */
    record RandomState(long seed, long rootState, long nodeState) {
    }

    static String kindName(int kind) {
        return kind == MULTI_LAYER_NETWORK ? "MultiLayerNetwork" : kind == COMPUTATION_GRAPH ? "ComputationGraph"
                : "kind " + kind;
    }

    /** The bytes of this state, in the layout above. */
    ByteBuffer toBytes() {
        long size = 4 + 4 * 6L + 8 * 2L + params.length() * params.elementSize()
                + updaterState.length() * updaterState.elementSize() + 4;
        Map<String, byte[]> names = new LinkedHashMap<>();
        for (String name : randoms.keySet()) {
            byte[] b = name.getBytes(StandardCharsets.UTF_8);
            names.put(name, b);
            size += 4 + b.length + 3 * 8;
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a network of " + params.length() + " parameters does not fit the 2 GiB a "
                    + "StateCodec can return");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putInt(VERSION).putInt(kind).putInt(iterationCount).putInt(epochCount);
        out.putInt(params.elementSize()).putLong(params.length());
        out.putInt(updaterState.elementSize()).putLong(updaterState.length());
        put(out, params);
        put(out, updaterState);
        out.putInt(randoms.size());
        randoms.forEach((name, r) -> {
            byte[] b = names.get(name);
            out.putInt(b.length).put(b).putLong(r.seed()).putLong(r.rootState()).putLong(r.nodeState());
        });
        return out.flip();
    }

    private static void put(ByteBuffer out, Numbers n) {
        if (n.floats() != null) {
            out.asFloatBuffer().put(n.floats());
        } else {
            out.asDoubleBuffer().put(n.doubles());
        }
        out.position(out.position() + (int) n.length() * n.elementSize());
    }

    /** Reads and checks what {@link #toBytes()} wrote; a one-line {@link IllegalArgumentException} for anything else. */
    static NetworkState fromBytes(ByteBuffer data) {
        ByteBuffer in = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte[] magic = new byte[MAGIC.length];
            in.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw bad("it does not start with \"DL4J\"");
            }
            int version = in.getInt();
            if (version != VERSION) {
                throw bad("layout version " + version + ", this pauser-dl4j reads version " + VERSION);
            }
            int kind = in.getInt();
            if (kind != MULTI_LAYER_NETWORK && kind != COMPUTATION_GRAPH) {
                throw bad("unknown network kind " + kind);
            }
            int iterations = in.getInt();
            int epochs = in.getInt();
            if (iterations < 0 || epochs < 0) {
                throw bad("negative iteration or epoch count (" + iterations + ", " + epochs + ")");
            }
            int paramSize = in.getInt();
            long paramCount = in.getLong();
            int updaterSize = in.getInt();
            long updaterCount = in.getLong();
            Numbers params = numbers(in, paramSize, paramCount, "parameters");
            Numbers updater = numbers(in, updaterSize, updaterCount, "updater state");
            int count = in.getInt();
            if (count < 0 || count > in.remaining() / (4 + 3 * 8)) {
                throw bad("random generator count " + count + " does not fit the " + in.remaining() + " bytes left");
            }
            Map<String, RandomState> randoms = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                int length = in.getInt();
                if (length < 0 || length > MAX_NAME_BYTES || length > in.remaining()) {
                    throw bad("thread name length " + length);
                }
                byte[] name = new byte[length];
                in.get(name);
                randoms.put(new String(name, StandardCharsets.UTF_8),
                        new RandomState(in.getLong(), in.getLong(), in.getLong()));
            }
            if (in.hasRemaining()) {
                throw bad(in.remaining() + " bytes after the end");
            }
            return new NetworkState(kind, iterations, epochs, params, updater, Map.copyOf(randoms));
        } catch (BufferUnderflowException e) {
            throw bad("it ends early (" + data.remaining() + " bytes)");
        }
    }

    private static Numbers numbers(ByteBuffer in, int elementSize, long count, String what) {
        if (elementSize != Float.BYTES && elementSize != Double.BYTES) {
            throw bad(what + " element size " + elementSize + " (4 or 8)");
        }
        if (count < 0 || count > in.remaining() / elementSize) {
            throw bad(count + " " + what + " values do not fit the " + in.remaining() + " bytes left");
        }
        int n = (int) count;
        Numbers numbers;
        if (elementSize == Float.BYTES) {
            float[] f = new float[n];
            in.asFloatBuffer().get(f);
            numbers = new Numbers(f, null);
        } else {
            double[] d = new double[n];
            in.asDoubleBuffer().get(d);
            numbers = new Numbers(null, d);
        }
        in.position(in.position() + n * elementSize);
        return numbers;
    }

    private static IllegalArgumentException bad(String why) {
        return new IllegalArgumentException("not a pauser-dl4j network state: " + why);
    }
}
