package dev.pauser.agent.store;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Read helpers shared by the reader and the verifier. */
final class Reading {
    static final int PAGE = 4096;

    private Reading() {
    }

    /** Fills {@code buf} from {@code position} with positional reads; EOF before it is full is an error. */
    static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new EOFException("end of file at " + pos);
            }
            pos += n;
        }
    }

    /** A direct buffer of {@code n} bytes whose address is page-aligned (aligned copies run about twice as fast). */
    static ByteBuffer alignedDirect(int n) {
        if (n > MAX_BUFFER) {
            throw new IllegalArgumentException(n + " bytes do not fit one buffer");
        }
        // alignedSlice rounds the capacity down to whole pages: ask for whole pages plus one page of slack
        int pages = (int) (((long) n + PAGE - 1) / PAGE);
        return ByteBuffer.allocateDirect((pages + 1) * PAGE).alignedSlice(PAGE).limit(n);
    }

    /** The largest buffer {@link #alignedDirect} hands out. */
    static final int MAX_BUFFER = Integer.MAX_VALUE - 2 * PAGE;
}
