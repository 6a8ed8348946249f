package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link StorageIo} over the real file system that runs out of space after {@code budget} bytes written (counting every
 * file), failing the way a full disk does; optionally fails a rename or directory sync, and reports a chosen free space.
 */
final class FaultyIo implements StorageIo {
    private final StorageIo real = StorageIo.standard();
    final AtomicLong written = new AtomicLong();
    volatile long budget = Long.MAX_VALUE;
    volatile boolean failMoves;
    volatile boolean failDirSync;
    volatile long usable = -2; // -2: ask the real file system

    @Override
    public FileChannel createFile(Path file) throws IOException {
        return new Limited(real.createFile(file));
    }

    @Override
    public void createDirectory(Path dir) throws IOException {
        real.createDirectory(dir);
    }

    @Override
    public void moveAtomically(Path from, Path to) throws IOException {
        if (failMoves) {
            throw new IOException("Input/output error (injected) renaming " + from);
        }
        real.moveAtomically(from, to);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        if (failDirSync) {
            throw new IOException("Input/output error (injected) syncing " + dir);
        }
        real.syncDirectory(dir);
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        return usable == -2 ? real.usableSpace(dir) : usable;
    }

    /** Writes until the budget is spent (a partial write, as the kernel does), then "No space left on device". */
    private final class Limited extends FileChannel {
        private final FileChannel d;

        Limited(FileChannel d) {
            this.d = d;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            long left = budget - written.get();
            if (left <= 0) {
                throw new IOException("No space left on device");
            }
            if (src.remaining() > left) {
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + (int) left);
                int n = d.write(part);
                src.position(src.position() + n);
                written.addAndGet(n);
                return n;
            }
            int n = d.write(src);
            written.addAndGet(n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                while (srcs[i].hasRemaining()) {
                    total += write(srcs[i]);
                }
            }
            return total;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            d.force(metaData);
        }

        @Override
        public long position() throws IOException {
            return d.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            d.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        protected void implCloseChannel() throws IOException {
            d.close();
        }

        @Override
        public int read(ByteBuffer dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileChannel truncate(long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(ByteBuffer dst, long position) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int write(ByteBuffer src, long position) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }
    }
}
