package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.agent.store.Entry;
import java.util.List;
import org.junit.jupiter.api.Test;

class StateMismatchTest {

    static class V1 {
        @TrainState
        float[] removed = {1, 2};
        @TrainState
        int retyped = 7;
        @TrainState
        double[] reshaped = {1, 2, 3};
        @TrainState
        String kept = "from v1";
        @TrainState
        final long[][] grid = {{1, 2}, {3, 4}};
    }

    static class V2 {
        @TrainState
        long retyped = -1;
        @TrainState
        double[] reshaped = {9, 9, 9, 9};
        @TrainState
        String kept = "code";
        @TrainState
        int added = 42;
        @TrainState
        final long[][] grid = {{0, 0}, {0, 0}};
    }

    static class Renamed {
        @TrainState(name = "kept")
        String renamedField = "code";
        @TrainState(required = false)
        int optional = 5;
    }

    static class Static1 {
        @TrainState
        static int counter = 3;
    }

    private static List<Entry> v1Entries() {
        StateSchema schema = StateSchema.of(V1.class);
        return StateRoundTripTest.copied(new StateCapture(schema).capture(new V1()));
    }

    @Test
    void removedAddedRetypedAndReshapedFieldsAreOneMessageAndNothingIsWritten() {
        V2 v2 = new V2();
        StateMismatchException e = assertThrows(StateMismatchException.class,
                () -> new StateRestore(StateSchema.of(V2.class)).restore(v2, v1Entries(),
                        StateRestore.OnMismatch.FAIL));
        System.out.println(e.getMessage());
        List<String> m = e.mismatches();
        assertEquals(4, m.size(), e.getMessage());
        assertTrue(m.get(0).startsWith("removed: 'removed' (float[], declared in " + V1.class.getName()), m.get(0));
        assertContains(m, "retyped: 'retyped' (" + V2.class.getName() + ".retyped): checkpoint has int, code has long");
        assertContains(m, "reshaped: 'reshaped' (" + V2.class.getName()
                + ".reshaped): checkpoint has shape [3], code has [4]");
        assertContains(m, "added: 'added' (" + V2.class.getName() + ".added) is in the code but not in the checkpoint");
        for (String line : m) {
            assertTrue(e.getMessage().contains(line));
        }
        assertEquals("code", v2.kept, "nothing is written when the restore fails");
        assertArrayEquals(new long[] {0, 0}, v2.grid[0]);
    }

    @Test
    void warnModeKeepsTheCodesValuesForMismatchesAndRestoresTheRest() {
        V2 v2 = new V2();
        long[][] grid = v2.grid;
        List<String> m = new StateRestore(StateSchema.of(V2.class)).restore(v2, v1Entries(),
                StateRestore.OnMismatch.WARN);
        assertEquals(4, m.size(), m.toString());
        assertEquals("from v1", v2.kept);
        assertEquals(-1, v2.retyped);
        assertArrayEquals(new double[] {9, 9, 9, 9}, v2.reshaped);
        assertEquals(42, v2.added);
        assertArrayEquals(new long[] {3, 4}, v2.grid[1]);
        assertTrue(grid == v2.grid);
    }

    @Test
    void renameCarriesTheKeyAndOptionalFieldsMayBeMissing() {
        List<Entry> entries = v1Entries().stream().filter(e -> e.key().equals("kept")).toList();
        Renamed r = new Renamed();
        List<String> m = new StateRestore(StateSchema.of(Renamed.class)).restore(r, entries,
                StateRestore.OnMismatch.FAIL);
        assertEquals(List.of(), m);
        assertEquals("from v1", r.renamedField);
        assertEquals(5, r.optional);
    }

    @Test
    void staticsOnlyNeedNoInstance() {
        StateSchema schema = StateSchema.of(Static1.class);
        List<Entry> entries = new StateCapture(schema).capture(null);
        Static1.counter = 99;
        new StateRestore(schema).restore(null, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(3, Static1.counter);
    }

    @Test
    void raggedArraysAreACaptureErrorNamingTheRow() {
        class Ragged {
            @TrainState
            float[][] rows = {{1, 2}, {3}};
        }
        StateException e = assertThrows(StateException.class,
                () -> new StateCapture(StateSchema.of(Ragged.class)).capture(new Ragged()));
        assertTrue(e.getMessage().contains("ragged array: row [1] has length 1, expected 2"), e.getMessage());
    }

    private static void assertContains(List<String> lines, String prefix) {
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(prefix)),
                "no line starting with '" + prefix + "' in:\n" + String.join("\n", lines));
    }
}
