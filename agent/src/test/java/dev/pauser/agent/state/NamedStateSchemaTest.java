package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Fields named by the {@code state=} option, without annotations, in the schema of a trainer class. */
class NamedStateSchemaTest {
    static class Loop {
        private double[] weights = new double[3];
        private int epoch;
        private int scratch;
    }

    static class Loader {
        static int[] order = {1, 2, 3};
        static long seen;
        int perInstance;
    }

    @AfterEach
    void forget() {
        StateSchema.nameFields(Map.of(), null);
    }

    @Test
    void namedFieldsOfTheTrainerAreStateKeyedByName() {
        StateSchema.nameFields(Map.of(Loop.class.getName(), Set.of("weights", "epoch")), null);
        StateSchema schema = StateSchema.of(Loop.class);
        assertEquals(List.of("weights", "epoch"), schema.fields().stream().map(StateField::key).toList());
        assertNull(schema.field("scratch"));
    }

    @Test
    void staticsOfAnotherClassBelongToTheFirstNamedStepsClassOnly() {
        StateSchema.nameFields(Map.of(Loader.class.getName(), Set.of("order", "seen")), Loop.class.getName());
        StateSchema schema = StateSchema.of(Loop.class);
        assertNotNull(schema.field("order"));
        assertNotNull(schema.field("seen"));
        StateSchema.nameFields(Map.of(Loader.class.getName(), Set.of("order", "seen")), "some.OtherTrainer");
        assertEquals(0, StateSchema.of(Loop.class).fields().size());
    }

    @Test
    void anInstanceFieldOfAClassRunningNoStepsIsRefusedByName() {
        StateSchema.nameFields(Map.of(Loader.class.getName(), Set.of("order", "perInstance")), Loop.class.getName());
        StateException e = assertThrows(StateException.class, () -> StateSchema.of(Loop.class));
        assertEquals(List.of(Loader.class.getName() + ".perInstance: named by state= but an instance field of a class"
                + " whose objects run no steps; name a static field, or a field of the class running the steps"),
                e.problems());
    }
}
