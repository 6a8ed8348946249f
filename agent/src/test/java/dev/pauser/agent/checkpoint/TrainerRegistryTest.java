package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.state.StateSchema;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerRegistryTest {
    static final class Model {
        @TrainState
        final float[] w = new float[2];
        @TrainState
        long step;
    }

    /** Another class storing a field under a key Model uses. */
    static final class Other {
        @TrainState
        long step;
    }

    private static RegisteredTrainer trainer(TrainerId id, Object self) throws Exception {
        return new RegisteredTrainer(id, self.getClass(), self, new StateCapture(StateSchema.of(self.getClass())));
    }

    @Test
    void registeredTrainersAreListedInOrderUnderTheirEntryNames() throws Exception {
        TrainerRegistry registry = new TrainerRegistry();
        assertFalse(registry.anyState());
        Model a = new Model();
        Model b = new Model();
        TrainerId second = new TrainerId(Model.class.getName(), 1);
        registry.add(trainer(second, b));
        registry.add(trainer(new TrainerId(Model.class.getName(), 0), a));

        assertTrue(registry.anyState());
        assertTrue(registry.contains(a));
        assertFalse(registry.contains(new Model()));
        assertEquals(List.of(b, a), registry.registered().stream().map(r -> r.self).toList());
        assertEquals(Map.of(Model.class.getName(), 2), registry.countByClass());
        Map<String, String> info = TrainerRegistry.info(registry.registered());
        assertEquals(List.of("trainer:" + Model.class.getName() + "#1", "trainer:" + Model.class.getName()),
                List.copyOf(info.keySet()));
        assertEquals("w#1,step#1", info.get("trainer:" + Model.class.getName() + "#1"));
        assertEquals("w,step", info.get("trainer:" + Model.class.getName()));
    }

    @Test
    void aKeyAnotherTrainerStoresUnderIsAClashNamingBoth() throws Exception {
        TrainerRegistry registry = new TrainerRegistry();
        TrainerId model = new TrainerId(Model.class.getName(), 0);
        registry.add(trainer(model, new Model()));
        TrainerId other = new TrainerId(Other.class.getName(), 0);

        String clash = registry.keyClash(other, StateSchema.of(Other.class));
        assertEquals("pauser: two trainers use the same @TrainState key; give one a distinct @TrainState(name = ...): "
                + "'step' of " + other + " is also a key of " + model, clash);
        assertNull(registry.keyClash(new TrainerId(Other.class.getName(), 1), StateSchema.of(Other.class)),
                "a second trainer of a class stores under its own suffixed names");
        assertNull(registry.keyClash(model, StateSchema.of(Model.class)), "a trainer does not clash with itself");
    }
}
