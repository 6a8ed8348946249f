package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import dev.pauser.agent.snapshot.CheckpointReader;
import dev.pauser.agent.snapshot.CheckpointStore;
import dev.pauser.agent.snapshot.Entry;
import dev.pauser.agent.snapshot.LoadedCheckpoint;
import dev.pauser.agent.state.StateRestore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trainer identity without a JVM under the agent: the listener calls the gate would make, a store round trip. */
class TrainersTest {
    /** A trainer with per-instance state. */
    static final class Model {
        @TrainState
        final float[] w = new float[3];
        @TrainState
        long step;

        @TrainStep
        void step() {
            step++;
        }
    }

    @TempDir
    Path dir;

    private final List<String> fatal = new ArrayList<>();
    private final List<String> restored = new ArrayList<>();

    private Trainers trainers(LoadedCheckpoint from, StateRestore.OnMismatch onMismatch) {
        return new Trainers(from, onMismatch, fatal::add,
                (trainer, ckpt, fields, bytes, nanos, warnings) -> restored.add(trainer + ":" + fields));
    }

    private LoadedCheckpoint checkpoint(Trainers t, long step) throws Exception {
        List<Entry> entries = new ArrayList<>();
        for (Trainers.Registered r : t.registered()) {
            entries.addAll(r.captureEntries());
        }
        try (CheckpointStore store = CheckpointStore.open(dir)) {
            CheckpointStore.CommitResult c = store.commit(step, Trainers.info(t.registered()), entries);
            return CheckpointReader.load(c.dir());
        }
    }

    @Test
    void instancesAreIdentifiedByConstructionOrderWhicheverStepsFirst() throws Exception {
        Trainers t = trainers(null, StateRestore.OnMismatch.FAIL);
        Model a = new Model();
        Model b = new Model();
        t.trainerConstructed(Model.class, a);
        t.trainerConstructed(Model.class, b);
        a.w[0] = 1;
        a.step = 10;
        b.w[0] = 2;
        b.step = 20;
        t.trainerSeen(Model.class, b); // b runs a step first
        t.trainerSeen(Model.class, a);
        LoadedCheckpoint ckpt = checkpoint(t, 30);
        assertEquals(List.of(), fatal);

        Map<String, String> info = ckpt.info();
        assertEquals("w,step", info.get("trainer:" + Model.class.getName()));
        assertEquals("w#1,step#1", info.get("trainer:" + Model.class.getName() + "#1"));
        assertEquals(10L, Long.parseLong(((dev.pauser.agent.snapshot.JsonEntry) ckpt.byKey().get("step")).json()));

        Trainers resumed = trainers(ckpt, StateRestore.OnMismatch.FAIL);
        Model a2 = new Model();
        Model b2 = new Model();
        resumed.trainerConstructed(Model.class, a2);
        resumed.trainerConstructed(Model.class, b2);
        assertEquals(List.of(), fatal);
        assertEquals(10, a2.step);
        assertArrayEquals(new float[] {1, 0, 0}, a2.w);
        assertEquals(20, b2.step);
        assertArrayEquals(new float[] {2, 0, 0}, b2.w);
        assertEquals(List.of(Model.class.getName() + ":2", Model.class.getName() + "#1:2"), restored);
        assertNull(resumed.instancesMismatch());
    }

    @Test
    void oneMoreInstanceThanTheCheckpointHoldsIsAMismatchAtItsFirstStep() throws Exception {
        Trainers t = trainers(null, StateRestore.OnMismatch.FAIL);
        Model a = new Model();
        t.trainerConstructed(Model.class, a);
        t.trainerSeen(Model.class, a);
        LoadedCheckpoint ckpt = checkpoint(t, 5);

        Trainers resumed = trainers(ckpt, StateRestore.OnMismatch.FAIL);
        Model a2 = new Model();
        Model b2 = new Model();
        resumed.trainerConstructed(Model.class, a2);
        resumed.trainerConstructed(Model.class, b2);
        assertEquals(List.of(), fatal, "an object that has not run a step changes nothing");
        resumed.trainerSeen(Model.class, b2);
        assertEquals(1, fatal.size(), fatal.toString());
        assertTrue(fatal.get(0).contains("instances: the checkpoint holds 1 trainer of class " + Model.class.getName()
                + ", this run has more (" + Model.class.getName() + "#1 runs steps)"), fatal.get(0));
    }

    @Test
    void oneFewerInstanceIsFoundAtTheFirstCapture() throws Exception {
        Trainers t = trainers(null, StateRestore.OnMismatch.FAIL);
        Model a = new Model();
        Model b = new Model();
        t.trainerConstructed(Model.class, a);
        t.trainerConstructed(Model.class, b);
        t.trainerSeen(Model.class, a);
        t.trainerSeen(Model.class, b);
        LoadedCheckpoint ckpt = checkpoint(t, 5);

        Trainers resumed = trainers(ckpt, StateRestore.OnMismatch.FAIL);
        Model a2 = new Model();
        resumed.trainerConstructed(Model.class, a2);
        resumed.trainerSeen(Model.class, a2);
        String m = resumed.instancesMismatch();
        assertNotNull(m);
        assertTrue(m.contains("instances: the checkpoint holds 2 trainers of class " + Model.class.getName()
                + ", this run has 1"), m);
        assertEquals(m, resumed.instancesMismatch(), "every later capture is refused too");

        Trainers warned = trainers(ckpt, StateRestore.OnMismatch.WARN);
        Model a3 = new Model();
        warned.trainerConstructed(Model.class, a3);
        assertNull(warned.instancesMismatch());
    }

    @Test
    void idsMapFieldKeysToEntryNamesAndBack() {
        Trainers.Id first = new Trainers.Id("p.C", 0);
        Trainers.Id third = new Trainers.Id("p.C", 2);
        assertEquals("trainer:p.C", first.infoKey());
        assertEquals("trainer:p.C#2", third.infoKey());
        assertEquals("w", first.entryName("w"));
        assertEquals("w#2", third.entryName("w"));
        assertEquals("a#b", third.fieldKey(third.entryName("a#b")));
        assertEquals("w#1", first.fieldKey("w#1"));
    }

    @Test
    void theWeakIdentityMapTellsEqualObjectsApartAndLetsDroppedOnesGo() throws Exception {
        WeakIdentityMap<Integer> map = new WeakIdentityMap<>();
        String one = new String("same");
        String two = new String("same");
        map.put(one, 1);
        map.put(two, 2);
        assertEquals(1, map.get(one));
        assertEquals(2, map.get(two));
        assertEquals(2, map.size());
        two = null;
        long deadline = System.currentTimeMillis() + 20_000;
        while (map.size() > 1 && System.currentTimeMillis() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertEquals(1, map.size(), "the dropped key is purged");
        assertEquals(1, map.get(one));
    }
}
