package dev.pauser.agent.store;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

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

    /**
     * Fills {@code buf} from {@code position} with positional reads of at most {@code chunk} bytes and returns the
     * CRC32C of the bytes read; each chunk is checksummed on {@code checksummer} (one thread, so in order) while this
     * thread reads the next one. EOF before {@code buf} is full is an error.
     */
    static int readFullyChecksummed(FileChannel ch, ByteBuffer buf, long position, int chunk,
            ExecutorService checksummer) throws IOException {
        CRC32C crc = new CRC32C();
        long pos = position;
        while (buf.hasRemaining()) {
            int start = buf.position();
            int end = (int) Math.min(buf.limit(), (long) start + chunk);
            readFully(ch, buf.duplicate().limit(end), pos);
            pos += end - start;
            buf.position(end);
            ByteBuffer read = buf.duplicate().position(start).limit(end);
            checksummer.execute(() -> crc.update(read));
        }
        Future<Integer> value = checksummer.submit(() -> (int) crc.getValue());
        try {
            return value.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while checksumming what was read");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("checksumming what was read failed", e.getCause());
        }
    }

    /** One daemon thread named {@code pauser-checksum}, for {@link #readFullyChecksummed}; shut it down after use. */
    static ExecutorService checksumThread() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pauser-checksum");
            t.setDaemon(true);
            return t;
        });
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
