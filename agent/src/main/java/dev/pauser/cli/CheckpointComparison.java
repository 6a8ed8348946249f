package dev.pauser.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.TensorEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Two checkpoints of one step compared entry by entry: tensors byte by byte, JSON values as JSON trees (so the first
 * differing place inside a value can be named), and what the differences suggest about why a resumed run went
 * another way than the straight one.
 */
final class CheckpointComparison {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Names and types that hold a random generator's state: the usual suspects of a resume that diverges. */
    private static final Pattern RNG_LIKE = Pattern.compile("(?i).*(random|rng|seed|shuffl|generator|xoshiro|l64x).*");

    /** One field that differs; {@code detail} says how, in words. */
    record Difference(String key, String type, String detail, boolean rngLike, boolean unchangedSinceResume,
            boolean onlyRounding) {
    }

    private final List<Difference> differences = new ArrayList<>();
    private final List<String> rngFields = new ArrayList<>();
    private final int fields;
    private final long resumedFromStep;

    /** Loads a checkpoint when it is needed. */
    interface Loader {
        LoadedCheckpoint load() throws CheckpointException;
    }

    /**
     * @param straight the checkpoint at step k+n of the run that never stopped
     * @param resumed the checkpoint at step k+n of the run resumed from {@code resumedFrom}
     * @param resumedFrom the checkpoint at step k the resumed run started from: loaded only when a field differs, so
     *        an exact resume needs the memory of two checkpoints, not three
     */
    CheckpointComparison(LoadedCheckpoint straight, LoadedCheckpoint resumed, long resumedFromStep, Loader resumedFrom)
            throws CheckpointException {
        Map<String, Entry> a = straight.byKey();
        Map<String, Entry> b = resumed.byKey();
        Map<String, Entry> k = null;
        TreeSet<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        fields = keys.size();
        this.resumedFromStep = resumedFromStep;
        for (String key : keys) {
            Entry x = a.get(key);
            Entry y = b.get(key);
            if (rngLike(x != null ? x : y)) {
                rngFields.add(key);
            }
            if (x == null || y == null) {
                Entry there = x == null ? y : x;
                differences.add(new Difference(key, typeOf(there), "only in the " + (x == null ? "resumed" : "straight")
                        + " run's checkpoint", rngLike(there), false, false));
                continue;
            }
            String detail = difference(x, y);
            if (detail != null) {
                if (k == null) {
                    k = resumedFrom.load().byKey();
                }
                Entry before = k.get(key);
                boolean stuck = before != null && difference(before, y) == null && difference(before, x) != null;
                differences.add(new Difference(key, typeOf(x), detail, rngLike(x), stuck, roundingOnly(x, y)));
            }
        }
    }

    List<Difference> differences() {
        return differences;
    }

    int fields() {
        return fields;
    }

    boolean exact() {
        return differences.isEmpty();
    }

    /** What the differences suggest, most specific first; one sentence each. */
    List<String> likelyCauses() {
        List<String> causes = new ArrayList<>();
        if (differences.isEmpty()) {
            return causes;
        }
        List<String> only = keys(d -> d.detail().startsWith("only in"));
        List<String> stuck = keys(Difference::unchangedSinceResume);
        List<String> rngs = keys(d -> d.rngLike() && !d.unchangedSinceResume());
        List<String> rest = keys(d -> !d.rngLike() && !d.unchangedSinceResume() && !d.detail().startsWith("only in"));
        if (!only.isEmpty()) {
            causes.add("The two runs checkpointed different fields (" + String.join(", ", only) + "): trainers are "
                    + "constructed in another order or only in some runs, or a field exists only after some step; "
                    + "construct every trainer the same way in every run, before the first step.");
        }
        if (!stuck.isEmpty()) {
            causes.add(String.join(", ", stuck) + " kept the value restored at step " + resumedFromStep + " in the resumed run while "
                    + "the straight run changed it: the steps use another object than the one restored into the "
                    + "field (a codec that returns a new object while the program keeps the old reference, or a "
                    + "reference copied into a local, a lambda or another object before the restore).");
        }
        if (!rngs.isEmpty()) {
            causes.add("The random generator state differs (" + String.join(", ", rngs) + "): code outside the "
                    + "@TrainStep methods draws from it (at start-up, in main), it is created or re-seeded anew after "
                    + "the restore, or the steps draw a number of values that depends on unsaved state.");
        }
        if (!rest.isEmpty() && rngs.isEmpty()) {
            boolean rounding = differences.stream().filter(d -> rest.contains(d.key())).allMatch(Difference::onlyRounding);
            causes.add("The model state differs (" + String.join(", ", rest) + ") while "
                    + (!rngFields.isEmpty() ? "the random generators in the checkpoint agree" : "the checkpoint holds no random "
                    + "generator") + ": the steps depend on state that is not saved. Likely a static field or a random "
                    + "generator nobody annotated @TrainState (a static shuffle Random is the classic), a ThreadLocal "
                    + "or ThreadLocalRandom, a data iterator or cursor, or the clock. Annotate it @TrainState."
                    + (rounding ? " The differences are small: nondeterministic arithmetic (parallel reductions, GPU "
                    + "atomics) gives the same symptom; check that two straight runs agree." : ""));
        } else if (!rest.isEmpty()) {
            causes.add("The other fields that differ (" + String.join(", ", rest) + ") most likely follow from the "
                    + "generators: fix those first.");
        }
        return causes;
    }


    private List<String> keys(java.util.function.Predicate<Difference> which) {
        List<String> out = new ArrayList<>();
        for (Difference d : differences) {
            if (which.test(d)) {
                out.add(d.key());
            }
        }
        return out;
    }

    private static boolean rngLike(Entry e) {
        return RNG_LIKE.matcher(keyOf(e)).matches() || RNG_LIKE.matcher(typeOf(e)).matches();
    }

    private static String keyOf(Entry e) {
        return e instanceof TensorEntry ? ((TensorEntry) e).key() : ((JsonEntry) e).key();
    }

    private static String typeOf(Entry e) {
        String t = e instanceof TensorEntry ? ((TensorEntry) e).javaType() : ((JsonEntry) e).javaType();
        return t == null ? "?" : t;
    }

    /** How {@code x} and {@code y} differ, or null when they are the same. */
    static String difference(Entry x, Entry y) {
        if (x instanceof TensorEntry && y instanceof TensorEntry) {
            return tensorDifference((TensorEntry) x, (TensorEntry) y);
        }
        if (x instanceof JsonEntry && y instanceof JsonEntry) {
            return jsonDifference(((JsonEntry) x).json(), ((JsonEntry) y).json());
        }
        return "a tensor in one checkpoint, a JSON value in the other";
    }

    private static String tensorDifference(TensorEntry x, TensorEntry y) {
        if (x.dtype() != y.dtype() || !Arrays.equals(x.shape(), y.shape())) {
            return x.dtype() + " " + Arrays.toString(x.shape()) + " vs " + y.dtype() + " " + Arrays.toString(y.shape());
        }
        ByteBuffer a = x.data().duplicate();
        ByteBuffer b = y.data().duplicate();
        int first = a.mismatch(b);
        if (first < 0) {
            return null;
        }
        int size = x.dtype().size();
        long elements = a.remaining() / size;
        long differing = 0;
        double maxAbs = 0;
        a.order(ByteOrder.LITTLE_ENDIAN);
        b.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = first / size * size; i < a.remaining(); i += size) {
            if (!sameBytes(a, b, a.position() + i, b.position() + i, size)) {
                differing++;
                double d = Math.abs(value(x.dtype(), a, a.position() + i) - value(x.dtype(), b, b.position() + i));
                if (!(d <= maxAbs)) {
                    maxAbs = d;
                }
            }
        }
        return differing + " of " + elements + " elements differ (the first at element " + first / size
                + "), largest difference " + String.format(java.util.Locale.ROOT, "%.6g", maxAbs);
    }

    /** Float tensors whose elements all differ by less than a thousandth of their size: rounding, not another path. */
    private static boolean roundingOnly(Entry x, Entry y) {
        if (!(x instanceof TensorEntry) || !(y instanceof TensorEntry)) {
            return false;
        }
        TensorEntry tx = (TensorEntry) x;
        TensorEntry ty = (TensorEntry) y;
        if ((tx.dtype() != DType.F32 && tx.dtype() != DType.F64) || tx.dtype() != ty.dtype()
                || tx.data().remaining() != ty.data().remaining()) {
            return false;
        }
        ByteBuffer a = tx.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer b = ty.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = tx.dtype().size();
        for (int i = 0; i < a.remaining(); i += size) {
            double u = value(tx.dtype(), a, a.position() + i);
            double v = value(tx.dtype(), b, b.position() + i);
            if (!(Math.abs(u - v) <= 1e-3 * Math.max(Math.abs(u), Math.abs(v)) + 1e-12)) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameBytes(ByteBuffer a, ByteBuffer b, int i, int j, int n) {
        for (int o = 0; o < n; o++) {
            if (a.get(i + o) != b.get(j + o)) {
                return false;
            }
        }
        return true;
    }

    /** An element as a number, for the size of a difference; non-numeric types count 1 per differing element. */
    private static double value(DType t, ByteBuffer buf, int at) {
        switch (t) {
            case F64: return buf.getDouble(at);
            case F32: return buf.getFloat(at);
            case I64: return buf.getLong(at);
            case U64: return buf.getLong(at);
            case I32: return buf.getInt(at);
            case U32: return buf.getInt(at) & 0xffffffffL;
            case I16: return buf.getShort(at);
            case U16: return buf.getChar(at);
            case I8: return buf.get(at);
            case U8: return buf.get(at) & 0xff;
            default: return buf.get(at) != 0 ? 1 : 0;
        }
    }

    private static String jsonDifference(String x, String y) {
        if (x.equals(y)) {
            return null;
        }
        JsonNode a;
        JsonNode b;
        try {
            a = JSON.readTree(x);
            b = JSON.readTree(y);
        } catch (IOException e) {
            return "the JSON texts differ";
        }
        return firstDifference(a, b, "");
    }

    /** The first place where the trees differ, as {@code at .a.b[3]: 1 vs 2}; null when equal. */
    private static String firstDifference(JsonNode a, JsonNode b, String path) {
        if (a.equals(b)) {
            return null;
        }
        if (a.isObject() && b.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                JsonNode u = a.get(n);
                JsonNode v = b.get(n);
                if (u == null || v == null) {
                    return "at " + path + "." + n + ": " + (u == null ? "only in the resumed run" : "only in the straight run");
                }
                String d = firstDifference(u, v, path + "." + n);
                if (d != null) {
                    return d;
                }
            }
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            Iterator<JsonNode> i = a.elements();
            Iterator<JsonNode> j = b.elements();
            for (int n = 0; i.hasNext(); n++) {
                String d = firstDifference(i.next(), j.next(), path + "[" + n + "]");
                if (d != null) {
                    return d;
                }
            }
        }
        return (path.isEmpty() ? "" : "at " + path + ": ") + shorten(a.toString()) + " vs " + shorten(b.toString());
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
