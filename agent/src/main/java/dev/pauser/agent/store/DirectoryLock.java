package dev.pauser.agent.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The exclusive lock on a checkpoint root's {@code .lock} file: one process writes checkpoints into a directory at a
 * time. The lock file is never followed if it is a symbolic link; the holder writes its process id into it, so a second
 * process can name it in its error. Taken on the thread that opens the store, released by {@link #close} on any thread.
 */
final class DirectoryLock implements Closeable {
    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code root} (absolute, already checked by {@link DirectoryTrust#rootProblem}).
     *
     * @throws CheckpointException with one line naming the directory and the fix: the lock file is not this user's
     *     regular file, or another process (its pid) or another store in this JVM holds the lock
     * @throws IOException when the lock file cannot be opened
     */
    static DirectoryLock acquire(Path root) throws IOException {
        Path lockFile = root.resolve(CheckpointNames.LOCK);
        String badLock = DirectoryTrust.lockProblem(lockFile);
        if (badLock != null) {
            throw new CheckpointException(badLock);
        }
        // No TRUNCATE: until the lock is held, the file's content (the holder's pid) is not this process's to change.
        // NOFOLLOW_LINKS is O_NOFOLLOW: a link planted after the check above fails the open instead of being followed.
        Set<OpenOption> opts = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        FileChannel ch = root.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? FileChannel.open(lockFile, opts, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")))
                : FileChannel.open(lockFile, opts);
        try {
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                throw new CheckpointException(inUse(root, lockFile));
            }
            writePid(ch);
            return new DirectoryLock(ch, l);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static String inUse(Path root, Path lockFile) {
        long pid = readPid(lockFile);
        String who;
        if (pid == ProcessHandle.current().pid()) {
            who = "another checkpoint store in this JVM (pid " + pid + ")";
        } else {
            who = "another JVM" + (pid > 0 ? " (pid " + pid + ")" : "");
        }
        return root + " is in use: " + who + " is writing checkpoints there (it holds " + CheckpointNames.LOCK
                + "); give each run its own dir=";
    }

    /** The holder's pid as it wrote it into the lock file, or -1 when there is none to read. */
    private static long readPid(Path lockFile) {
        try (SeekableByteChannel ch = Files.newByteChannel(lockFile, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer b = ByteBuffer.allocate(32);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // read what fits
            }
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
            return s.matches("[0-9]{1,18}") ? Long.parseLong(s) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void writePid(FileChannel lockChannel) {
        try {
            lockChannel.truncate(0);
            CheckpointCommit.writeFully(lockChannel, ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                    .getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException | RuntimeException e) {
            // the pid is only a hint for a second process's message; the lock is what counts
        }
    }

    /** Releases the lock and closes the lock file (which stays, holding the last holder's pid). */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
