package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What Jackson-encoded values may hold and how their nested types are checked, without a child JVM. */
class JsonValuesTest {
    static final class Opt {
        double lr = 0.0547;
        double momentum = 0.9;
        Opt inner;
        transient int cache;
    }

    static final class Holder {
        @TrainState
        Opt opt = new Opt();
        @TrainState
        List<Opt> opts = new ArrayList<>(List.of(new Opt()));
        @TrainState
        BigInteger big = BigInteger.TEN.pow(5000);
        @TrainState
        String text = "x".repeat(100);
    }

    static final class Node {
        String name;
        List<Node> next = new ArrayList<>();
    }

    static final class Graph {
        @TrainState
        Node root = new Node();
    }

    @Test
    void nestedFieldTypesAreRecordedOncePerClassWithoutFollowingTransientFieldsOrCycles() {
        Map<String, String> types = NestedFields.of(Opt.class);
        assertEquals(Map.of(Opt.class.getName() + "#lr", "double", Opt.class.getName() + "#momentum", "double",
                Opt.class.getName() + "#inner", Opt.class.getName()), types);
    }

    @Test
    void aNumberOverAThousandDigitsReadsBack() {
        Holder h = new Holder();
        h.big = BigInteger.valueOf(3).pow(20_000).add(BigInteger.ONE);
        StateSchema schema = StateSchema.of(Holder.class);
        List<Entry> entries = new StateCapture(schema).capture(h);
        Holder r = new Holder();
        assertEquals(List.of(), new StateRestore(schema).restore(r, entries, StateRestore.OnMismatch.FAIL));
        assertEquals(h.big, r.big);
    }

    @Test
    void changedNestedFieldTypesAreMismatchesWithTheirPath() {
        StateSchema schema = StateSchema.of(Holder.class);
        List<Entry> entries = new ArrayList<>(new StateCapture(schema).capture(new Holder()));
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i) instanceof JsonEntry j && j.nestedFields() != null && j.key().equals("opt")) {
                Map<String, String> old = new HashMap<>(j.nestedFields());
                old.put(Opt.class.getName() + "#lr", "int");
                old.remove(Opt.class.getName() + "#momentum");
                old.put(Opt.class.getName() + "#decay", "float");
                entries.set(i, new JsonEntry(j.key(), j.declaringClass(), j.javaType(), j.json(), old));
            }
        }
        StateMismatchException e = assertThrows(StateMismatchException.class,
                () -> new StateRestore(schema).restore(new Holder(), entries, StateRestore.OnMismatch.FAIL));
        String m = e.getMessage();
        assertTrue(m.contains("retyped: 'opt.lr' (" + Opt.class.getName() + ".lr): checkpoint has int, code has double"), m);
        assertTrue(m.contains("added: 'opt.momentum'"), m);
        assertTrue(m.contains("removed: 'opt.decay' (float"), m);
        assertFalse(m.contains("'opts"), m);

        Holder warned = new Holder();
        warned.opt.lr = 1;
        List<String> w = new StateRestore(schema).restore(warned, entries, StateRestore.OnMismatch.WARN);
        assertEquals(3, w.size(), w.toString());
        assertEquals(1, warned.opt.lr, "the mismatched field keeps the code's value");
    }

    @Test
    void checkpointsWithoutNestedTypesAreReadAsBefore() {
        StateSchema schema = StateSchema.of(Holder.class);
        List<Entry> entries = new ArrayList<>();
        for (Entry e : new StateCapture(schema).capture(new Holder())) {
            entries.add(e instanceof JsonEntry j ? new JsonEntry(j.key(), j.declaringClass(), j.javaType(), j.json()) : e);
        }
        assertEquals(List.of(), new StateRestore(schema).restore(new Holder(), entries, StateRestore.OnMismatch.FAIL));
    }

    @Test
    void aValueThatCantBeParsedFailsTheRestoreEvenUnderWarnAndIsNotCalledACodeChange() {
        StateSchema schema = StateSchema.of(Holder.class);
        List<Entry> entries = new ArrayList<>(new StateCapture(schema).capture(new Holder()));
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i) instanceof JsonEntry j && j.key().equals("opt")) {
                // fits Opt all the way down, but nests deeper than the reader (and the writer) allow
                String deep = "{\"inner\":".repeat(Json.MAX_DEPTH + 5) + "null" + "}".repeat(Json.MAX_DEPTH + 5);
                entries.set(i, new JsonEntry(j.key(), j.declaringClass(), j.javaType(), deep, j.nestedFields()));
            }
        }
        Holder h = new Holder();
        StateException e = assertThrows(StateException.class,
                () -> new StateRestore(schema).restore(h, entries, StateRestore.OnMismatch.WARN));
        assertFalse(e instanceof StateMismatchException, e.getMessage());
        assertTrue(e.getMessage().contains("can't be read back (not a code change"), e.getMessage());
        assertTrue(e.getMessage().contains("'opt'"), e.getMessage());
    }

    @Test
    void aReferenceCycleIsNamedWithItsPathInOneShortLine() {
        Graph g = new Graph();
        Node b = new Node();
        g.root.next.add(b);
        b.next.add(g.root);
        StateException e = assertThrows(StateException.class,
                () -> new StateCapture(StateSchema.of(Graph.class)).capture(g));
        String line = e.problems().get(0);
        assertTrue(line.contains("'root' of " + Graph.class.getName()
                + " has a reference cycle (root.next[0].next[0] refers back to root): break it"), line);
        assertTrue(line.length() < 400, line);
    }
}
