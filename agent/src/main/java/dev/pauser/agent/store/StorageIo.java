package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The file operations {@link CheckpointStore} writes through. {@link #standard()} is the real file system; a test (or a
 * future remote store) substitutes its own, e.g. one whose channels fail with "No space left on device" after N bytes.
 * Files are created owner-only (0600) and directories 0700 where the file system is POSIX; elsewhere permissions are left
 * to the platform.
 */
public interface StorageIo {

    /** Creates a new file (failing if it exists), open for writing. */
    FileChannel createFile(Path file) throws IOException;

    /** Creates one directory (failing if it exists). */
    void createDirectory(Path dir) throws IOException;

    /** Renames atomically ({@code ATOMIC_MOVE}); replaces {@code to} if it is a file. */
    void moveAtomically(Path from, Path to) throws IOException;

    /** Makes the directory's entries durable (fsync on the directory); a no-op where the platform cannot. */
    void syncDirectory(Path dir) throws IOException;

    /** Bytes available to this JVM on the file store holding {@code dir}, or -1 when unknown. */
    long usableSpace(Path dir) throws IOException;

    static StorageIo standard() {
        return Standard.INSTANCE;
    }

    /** The real file system. */
    final class Standard implements StorageIo {
        static final Standard INSTANCE = new Standard();
        private static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("rw-------");
        private static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwx------");

        private Standard() {
        }

        private static boolean posix(Path p) {
            return p.getFileSystem().supportedFileAttributeViews().contains("posix");
        }

        @Override
        public FileChannel createFile(Path file) throws IOException {
            Set<StandardOpenOption> opts = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            if (posix(file)) {
                return FileChannel.open(file, opts, PosixFilePermissions.asFileAttribute(FILE_PERMS));
            }
            return FileChannel.open(file, opts);
        }

        @Override
        public void createDirectory(Path dir) throws IOException {
            if (posix(dir)) {
                FileAttribute<Set<PosixFilePermission>> attr = PosixFilePermissions.asFileAttribute(DIR_PERMS);
                Files.createDirectory(dir, attr);
            } else {
                Files.createDirectory(dir);
            }
        }

        @Override
        public void moveAtomically(Path from, Path to) throws IOException {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }

        @Override
        public void syncDirectory(Path dir) throws IOException {
            FileChannel ch;
            try {
                ch = FileChannel.open(dir, StandardOpenOption.READ);
            } catch (FileSystemException | UnsupportedOperationException e) {
                return; // e.g. Windows cannot open a directory; its renames are not made durable this way
            }
            try (ch) {
                ch.force(true);
            }
        }

        @Override
        public long usableSpace(Path dir) throws IOException {
            FileStore store = Files.getFileStore(dir);
            return store.getUsableSpace();
        }
    }
}
