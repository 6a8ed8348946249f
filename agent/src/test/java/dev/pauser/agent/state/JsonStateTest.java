package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class JsonStateTest {
    record Point(int x, double y, String label) {
    }

    static final class Stats {
        private final List<Point> points = new ArrayList<>();
        private Map<String, List<Long>> buckets = new TreeMap<>();
        private Point best;
    }

    static class Holder {
        @TrainState
        Stats stats = new Stats();
        @TrainState
        List<Point> unmodifiable = List.of(new Point(0, 0, "zero"));
        @TrainState
        Point[] array = new Point[2];
    }

    @Test
    void recordsPlainObjectsAndUnmodifiableCollectionsRoundTrip() {
        Holder h = new Holder();
        h.stats.points.add(new Point(1, 0.1, "a"));
        h.stats.buckets.put("b", List.of(1L, 2L));
        h.stats.best = new Point(2, -0.0, null);
        h.unmodifiable = List.of(new Point(3, 3, "c"));
        h.array[1] = new Point(4, 4, "d");
        StateSchema schema = StateSchema.of(Holder.class);
        List<Entry> entries = new StateCapture(schema).capture(h);

        Holder r = new Holder();
        Point[] array = r.array;
        new StateRestore(schema).restore(r, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(h.stats.points, r.stats.points);
        assertEquals(h.stats.buckets, r.stats.buckets);
        assertEquals(h.stats.best, r.stats.best);
        assertEquals(h.unmodifiable, r.unmodifiable);
        assertEquals(h.array[1], r.array[1]);
        assertTrue(array == r.array, "object arrays of the same length are filled in place");
    }

    @Test
    void untrustedJsonCannotNameClassesOrAddFields() {
        StateSchema schema = StateSchema.of(Holder.class);
        List<Entry> entries = new ArrayList<>(new StateCapture(schema).capture(new Holder()));
        JsonEntry stats = (JsonEntry) entries.get(0);
        entries.set(0, new JsonEntry(stats.key(), stats.declaringClass(), stats.javaType(),
                "{\"@class\":\"java.lang.ProcessBuilder\",\"points\":[]}"));
        StateMismatchException e = assertThrows(StateMismatchException.class,
                () -> new StateRestore(schema).restore(new Holder(), entries, StateRestore.OnMismatch.FAIL));
        assertTrue(e.getMessage().contains("retyped: 'stats'") && e.getMessage().contains("@class"),
                e.getMessage());
    }
}
