package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunked read of a large tensor: every byte lands where it belongs, and the CRC32C covers exactly those bytes. */
class ReadingTest {
    private static final int CHUNK = 4096;
    private final ExecutorService checksummer = Reading.checksumThread();

    @TempDir
    Path tmp;

    @AfterEach
    void stop() {
        checksummer.shutdownNow();
    }

    @Test
    void sizesAroundAndAcrossChunkBoundariesReadEveryByteWithItsChecksum() throws Exception {
        byte[] file = new byte[5 * CHUNK + 123];
        new Random(7).nextBytes(file);
        Path p = tmp.resolve("data");
        Files.write(p, file);
        int[] offsets = {0, 13, CHUNK - 1, CHUNK};
        int[] lengths = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 4 * CHUNK};
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            for (int offset : offsets) {
                for (int length : lengths) {
                    ByteBuffer buf = Reading.alignedDirect(Math.max(length, 1)).limit(length);
                    int crc = Reading.readFullyChecksummed(ch, buf, offset, CHUNK, checksummer);
                    String at = "offset " + offset + ", length " + length;
                    assertEquals(length, buf.position(), at);
                    buf.flip();
                    byte[] expected = Arrays.copyOfRange(file, offset, offset + length);
                    assertArrayEquals(expected, Fixtures.bytesOf(buf), at);
                    assertEquals(Crc32c.of(expected), crc, at);
                }
            }
        }
    }

    @Test
    void aFileThatEndsBeforeTheBufferIsFullIsAnError() throws Exception {
        Path p = tmp.resolve("short");
        Files.write(p, new byte[2 * CHUNK + 10]);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer buf = Reading.alignedDirect(3 * CHUNK);
            assertThrows(EOFException.class, () -> Reading.readFullyChecksummed(ch, buf, 0, CHUNK, checksummer));
        }
    }
}
