package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class MemoryLimitsTest {

    @Test
    void parsesJvmSizeOptionsLikeTheJvm() {
        assertEquals(1024, MemoryLimits.parseSize("1024"));
        assertEquals(64L << 10, MemoryLimits.parseSize("64k"));
        assertEquals(300L << 20, MemoryLimits.parseSize("300m"));
        assertEquals(2L << 30, MemoryLimits.parseSize("2G"));
        assertEquals(1L << 40, MemoryLimits.parseSize("1t"));
        assertEquals(-1, MemoryLimits.parseSize(""));
        assertEquals(-1, MemoryLimits.parseSize("12x4"));
        assertEquals(-1, MemoryLimits.parseSize("-5m"));
        assertEquals(-1, MemoryLimits.parseSize("99999999999999999t"));
    }

    @Test
    void directMemoryInUseGrowsWithABufferAndStaysUnderTheLimit() {
        long before = MemoryLimits.usedDirect();
        ByteBuffer b = ByteBuffer.allocateDirect(4 << 20);
        assertTrue(MemoryLimits.usedDirect() >= before + b.capacity(), "the direct pool counts the new buffer");
        assertTrue(MemoryLimits.maxDirect() > 0);
        assertTrue(MemoryLimits.availableDirect() <= MemoryLimits.maxDirect());
        b.put(0, (byte) 1); // keeps b reachable until here
    }

    @Test
    void adviceNamesTheOptionAndTheCurrentLimit() {
        String direct = MemoryLimits.raiseFor(new OutOfMemoryError("Cannot reserve 10 bytes of direct buffer memory"));
        assertTrue(direct.startsWith("raise -XX:MaxDirectMemorySize= (now " + MemoryLimits.mib(MemoryLimits.maxDirect())),
                direct);
        String heap = MemoryLimits.raiseFor(new OutOfMemoryError("Java heap space"));
        assertEquals("raise -Xmx (now " + MemoryLimits.mib(Runtime.getRuntime().maxMemory()) + ")", heap);
        assertEquals("1 MiB", MemoryLimits.mib(1));
        assertEquals("0 MiB", MemoryLimits.mib(0));
    }
}
