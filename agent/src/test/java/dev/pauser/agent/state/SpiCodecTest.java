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
