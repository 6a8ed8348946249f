package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The staging set takes over a loaded checkpoint's buffers instead of allocating its own. */
class StagingTest {

    private static ByteBuffer aligned(int bytes) {
        return ByteBuffer.allocateDirect(bytes + 2 * Staging.ALIGN).alignedSlice(Staging.ALIGN).limit(bytes);
    }

    @Test
    void anAdoptedBufferIsTheSlotForItsKey() {
        Staging s = new Staging();
        ByteBuffer loaded = aligned(3 * Staging.ALIGN);
        assertTrue(s.adopt("w", loaded));
        assertEquals(loaded.capacity(), s.totalBytes());
        ByteBuffer slot = s.slot("w", 100);
        slot.put(0, (byte) 42);
        assertEquals(42, loaded.get(0), "the slot writes into the adopted memory: nothing new was allocated");
        assertEquals(loaded.capacity(), s.totalBytes());
    }

    @Test
    void aValueGrownPastTheAdoptedBufferGetsANewSlot() {
        Staging s = new Staging();
        ByteBuffer loaded = aligned(Staging.ALIGN);
        assertTrue(s.adopt("w", loaded));
        ByteBuffer slot = s.slot("w", loaded.capacity() + 1);
        slot.put(0, (byte) 7);
        assertEquals(0, loaded.get(0));
    }

    @Test
    void refusesHeapUnalignedAndAlreadyStagedBuffers() {
        Staging s = new Staging();
        assertFalse(s.adopt("heap", ByteBuffer.allocate(2 * Staging.ALIGN)));
        ByteBuffer unaligned = aligned(4 * Staging.ALIGN).position(8).slice();
        assertFalse(s.adopt("unaligned", unaligned));
        assertFalse(s.adopt("readOnly", aligned(Staging.ALIGN).asReadOnlyBuffer()));
        ByteBuffer first = s.slot("w", 10);
        ByteBuffer other = aligned(Staging.ALIGN);
        assertFalse(s.adopt("w", other), "a key already staged keeps its buffer");
        assertNotSame(other, first);
        assertTrue(s.totalBytes() >= Staging.ALIGN);
    }
}
