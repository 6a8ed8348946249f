package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import dev.pauser.agent.state.StateRestore;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.LoadedCheckpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trainer identity without a JVM under the agent: the listener calls the gate would make, a store round trip. */
class TrainerDiscoveryTest {
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

    /** The trainer bookkeeping wired as the agent wires it: the gate's hooks, the registry, the restorer. */
    private record Bookkeeping(TrainerDiscovery hooks, TrainerRegistry registry, TrainerRestorer restorer) {
        void trainerConstructed(Class<?> type, Object self) {
            hooks.trainerConstructed(type, self);
        }

        void trainerSeen(Class<?> type, Object self) {
            hooks.trainerSeen(type, self);
        }

        String instancesMismatch() {
            return restorer.instancesMismatch();
        }
    }

    private Bookkeeping trainers(LoadedCheckpoint from, StateRestore.OnMismatch onMismatch) {
        TrainerRegistry registry = new TrainerRegistry();
        TrainerSightings sightings = new TrainerSightings();
        TrainerRestorer restorer = new TrainerRestorer(from, onMismatch, registry, sightings, fatal::add,
                (trainer, ckpt, fields, bytes, nanos, warnings, event) -> restored.add(trainer + ":" + fields));
        return new Bookkeeping(new TrainerDiscovery(registry, sightings, restorer, fatal::add), registry, restorer);
    }

    /** A new Model, its constructor hook called as the agent calls it when the constructor returns. */
    private static Model constructed(Bookkeeping t) {
        Model m = new Model();
        t.trainerConstructed(Model.class, m);
        return m;
    }

    private LoadedCheckpoint checkpoint(Bookkeeping t, long step) throws Exception {
        List<Entry> entries = new ArrayList<>();
        List<RegisteredTrainer> registered = t.registry().registered();
        for (RegisteredTrainer r : registered) {
            entries.addAll(r.captureEntries());
        }
        try (CheckpointStore store = CheckpointStore.open(dir)) {
            CheckpointStore.CommitResult c = store.commit(step, TrainerRegistry.info(registered), entries);
            return CheckpointReader.load(c.dir());
        }
    }

    @Test
    void instancesAreIdentifiedByConstructionOrderWhicheverStepsFirst() throws Exception {
        Bookkeeping t = trainers(null, StateRestore.OnMismatch.FAIL);
        Model a = constructed(t);
        Model b = constructed(t);
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
        assertEquals(10L, Long.parseLong(((dev.pauser.agent.store.JsonEntry) ckpt.byKey().get("step")).json()));

        Bookkeeping resumed = trainers(ckpt, StateRestore.OnMismatch.FAIL);
        Model a2 = constructed(resumed);
        Model b2 = constructed(resumed);
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
        Bookkeeping t = trainers(null, StateRestore.OnMismatch.FAIL);
        Model a = constructed(t);
        t.trainerSeen(Model.class, a);
        LoadedCheckpoint ckpt = checkpoint(t, 5);

        Bookkeeping resumed = trainers(ckpt, StateRestore.OnMismatch.FAIL);
        Model a2 = constructed(resumed);
        Model b2 = constructed(resumed);
        assertEquals(List.of(), fatal, "an object that has not run a step changes nothing");
        resumed.trainerSeen(Model.class, b2);
        assertEquals(1, fatal.size(), fatal.toString());
        assertTrue(fatal.get(0).contains("instances: the checkpoint holds 1 trainer of class " + Model.class.getName()
                + ", this run has more (" + Model.class.getName() + "#1 runs steps)"), fatal.get(0));
    }

    @Test
    void oneFewerInstanceIsFoundAtTheFirstCapture() throws Exception {
        Bookkeeping t = trainers(null, StateRestore.OnMismatch.FAIL);
        Model a = constructed(t);
        Model b = constructed(t);
        t.trainerSeen(Model.class, a);
        t.trainerSeen(Model.class, b);
        LoadedCheckpoint ckpt = checkpoint(t, 5);

        Bookkeeping resumed = trainers(ckpt, StateRestore.OnMismatch.FAIL);
        Model a2 = constructed(resumed);
        resumed.trainerSeen(Model.class, a2);
        String m = resumed.instancesMismatch();
        assertNotNull(m);
        assertTrue(m.contains("instances: the checkpoint holds 2 trainers of class " + Model.class.getName()
                + ", this run has 1"), m);
        assertEquals(m, resumed.instancesMismatch(), "every later capture is refused too");

        Bookkeeping warned = trainers(ckpt, StateRestore.OnMismatch.WARN);
        constructed(warned);
        assertNull(warned.instancesMismatch());
    }
}
