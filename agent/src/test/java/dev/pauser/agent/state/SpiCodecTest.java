package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pauser.TrainState;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpiCodecTest {
    static class WithVec {
        @TrainState
        Vec3 position = new Vec3(1, 2, 3);
    }

    /** Keeps a reference to the trainer's position, as a library's trainer keeps one to its model. */
    static final class Follower {
        private final Vec3 target;

        Follower(Vec3 target) {
            this.target = target;
        }
    }

    static class SharedVec {
        @TrainState
        Vec3 position = new Vec3(1, 2, 3);
        @TrainState
        Follower follower = new Follower(position);
        @TrainState
        Vec3 alone = new Vec3(4, 5, 6);
    }

    @Test
    void aCodecReturningANewObjectThatOtherStateStillReferencesIsNamedWithBothPlaces() {
        StateSchema schema = StateSchema.of(SharedVec.class);
        List<Entry> entries = StateRoundTripTest.copied(new StateCapture(schema).capture(new SharedVec()));
        SharedVec fresh = new SharedVec();
        StateRestore restore = new StateRestore(schema);
        restore.restore(fresh, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(List.of("the codec " + Vec3Codec.class.getName() + " restored 'position' ("
                + SharedVec.class.getName() + ".position) as a new object, but the old one is still referenced from"
                + " 'follower.target' (" + SharedVec.class.getName() + ".follower), which goes on training it: fill"
                + " the object decode() is given instead of returning a new one"), restore.warnings(),
                "'alone' is replaced too, but nothing else refers to its old object");
    }

    @Test
    void anAppCodecFoundWithServiceLoaderEncodesItsType() {
        StateSchema schema = StateSchema.of(WithVec.class);
        WithVec w = new WithVec();
        List<Entry> entries = StateRoundTripTest.copied(new StateCapture(schema).capture(w));
        TensorEntry t = (TensorEntry) entries.get(0);
        assertEquals(DType.F64, t.dtype());
        assertArrayEquals(new long[] {3}, t.shape());
        assertEquals(Vec3.class.getName() + "{codec=" + Vec3Codec.class.getName() + "}", t.javaType());
        w.position = new Vec3(0, 0, 0);
        new StateRestore(schema).restore(w, entries, StateRestore.OnMismatch.FAIL);
        assertEquals(2.0, w.position.y);
        assertEquals(3.0, w.position.z);
    }
}
