package dev.pauser.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;

/** The machine's own file figures the store is measured against, and file chores of the harnesses. */
final class RawFiles {
    static final int PAGE = 4096;

    private RawFiles() {
    }

    /** A page-aligned direct buffer of {@code bytes} bytes (at most 2 GiB less two pages), filled with non-zero bytes. */
    static ByteBuffer alignedFilled(long bytes) {
        // alignedSlice rounds the capacity down to whole pages: whole pages plus one of slack
        long pages = (bytes + PAGE - 1) / PAGE;
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact((pages + 1) * PAGE)).alignedSlice(PAGE);
        b.limit(Math.toIntExact(bytes));
        int i = 0;
        for (; i + Long.BYTES <= b.limit(); i += Long.BYTES) {
            b.putLong(i, 0x3f8000003f800000L + i);
        }
        for (; i < b.limit(); i++) {
            b.put(i, (byte) i);
        }
        return b;
    }

    /** Nanoseconds to write all of {@code data} into new file {@code file} with one FileChannel and force it to disk. */
    static long writeAndForceNanos(Path file, ByteBuffer data) throws IOException {
        Files.deleteIfExists(file);
        ByteBuffer b = data.duplicate().clear();
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        long nanos = System.nanoTime() - t0;
        Files.delete(file);
        return nanos;
    }

    /** Nanoseconds to read all of {@code file} into the page-aligned {@code into} (at least the file's size). */
    static long readNanos(Path file, ByteBuffer into) throws IOException {
        ByteBuffer b = into.duplicate().clear();
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            b.limit(Math.toIntExact(ch.size()));
            long pos = 0;
            while (b.hasRemaining()) {
                int n = ch.read(b, pos);
                if (n < 0) {
                    throw new IOException(file + ": shorter than it was");
                }
                pos += n;
            }
        }
        return System.nanoTime() - t0;
    }

    /**
     * Drops {@code file}'s pages from the page cache ({@code posix_fadvise(POSIX_FADV_DONTNEED)} through GNU dd's
     * {@code iflag=nocache}); the file must be clean (written and forced). Throws when dd is missing or fails.
     */
    static void dropFromPageCache(Path file) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0", "status=none")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("GNU dd is needed to drop " + file + " from the page cache: " + e.getMessage(), e);
        }
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("dd iflag=nocache could not drop " + file + " from the page cache: "
                    + new String(p.getInputStream().readAllBytes()));
        }
    }

    /**
     * Forces {@code dir}, so that files deleted in it are done with before the next timing starts: on a file system
     * mounted with {@code discard} (as here) the blocks of a deleted file are trimmed when the journal next commits,
     * which would otherwise land in the next measured force, whoever's it is.
     */
    static void settle(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(q);
            }
        }
    }
}
