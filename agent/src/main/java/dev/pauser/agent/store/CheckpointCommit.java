package dev.pauser.agent.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.zip.CRC32C;

/**
 * The commit protocol: how a laid-out checkpoint becomes durable in a root, how one is deleted, and how a crash's debris
 * is cleaned. Everything is written into {@code .tmp-ckpt-<step>-<hex>}, each file forced to disk, the directory forced,
 * renamed to {@code ckpt-<step>} with {@code ATOMIC_MOVE}, the root forced; then the {@code latest} pointer is replaced
 * the same way ({@code latest.tmp}, force, rename, force root). A crash at any instant leaves either no
 * {@code ckpt-<step>} or a complete one; the debris ({@code .tmp-*}, {@code .del-*}, {@code latest.tmp}) is cleaned by
 * {@link #cleanDebris} when the next store opens.
 *
 * <p>Used only by the {@link CheckpointStore} holding the root's lock, on the thread that commits (one at a time: the
 * store's methods are synchronized; the staging buffer is reused across commits); the tensors' checksums are computed
 * on a short-lived second thread during the data write.
 */
final class CheckpointCommit {
    private static final int STAGING_BYTES = 8 << 20;
    /** Direct buffers at least this large are written straight from their memory, skipping the staging copy. */
    private static final int DIRECT_WRITE_THRESHOLD = 1 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final StorageIo io;
    private final long spaceMargin;
    private ByteBuffer staging;

    CheckpointCommit(Path root, StorageIo io, long spaceMargin) {
        this.root = root;
        this.io = io;
        this.spaceMargin = spaceMargin;
    }

    /**
     * Makes {@code layout} durable as {@code <root>/<name>} and points {@code latest} at it. A checkpoint of the same step
     * already there is renamed aside ({@code .old-…}), the new one renamed in, then the old one deleted; a crash in
     * between restores the old one at the next {@link #cleanDebris}.
     *
     * @param warnings receives one line if the checkpoint is durable but the {@code latest} pointer could not be updated
     * @return the checkpoint directory
     * @throws CheckpointException when the checkpoint does not fit the free space or a write fails; the partial
     *     directory is removed and every existing checkpoint is left as it was
     */
    Path write(CheckpointLayout layout, List<String> warnings) throws CheckpointException {
        String name = layout.name();
        Path target = root.resolve(name);
        checkFreeSpace(layout);

        Path tmp = root.resolve(CheckpointNames.TMP_PREFIX + name + "-" + randomHex());
        Path old = null;
        boolean landed = false;
        try {
            io.createDirectory(tmp);
            writeFiles(tmp, layout);
            io.syncDirectory(tmp);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                // Same step committed again (e.g. after a resume): move the old one aside, restorable on a crash.
                old = root.resolve(CheckpointNames.OLD_PREFIX + name + "-" + randomHex());
                io.moveAtomically(target, old);
            }
            io.moveAtomically(tmp, target);
            landed = true;
            io.syncDirectory(root);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            if (landed) {
                // renamed but its durability is unknown: take it away again (renamed first, never half-deleted in place)
                Path doomed = root.resolve(CheckpointNames.DEL_PREFIX + name + "-" + randomHex());
                try {
                    io.moveAtomically(target, doomed);
                    deleteQuietly(doomed);
                } catch (IOException ignored) {
                    // left in place: it is complete, and verification decides whether it is used
                }
            }
            if (old != null && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    io.moveAtomically(old, target);
                } catch (IOException ignored) {
                    // the next open() restores it
                }
            }
            throw new CheckpointException(root + ": writing checkpoint " + name + " failed, nothing kept of it: "
                    + e, e);
        }
        if (old != null) {
            deleteQuietly(old);
        }
        pointLatestAt(name, warnings);
        return target;
    }

    private void checkFreeSpace(CheckpointLayout layout) throws CheckpointException {
        long free;
        try {
            free = io.usableSpace(root);
        } catch (IOException e) {
            free = -1;
        }
        long needed = layout.totalBytes() + spaceMargin;
        if (free >= 0 && free < needed) {
            throw new CheckpointException(root + ": not enough free space for checkpoint " + layout.name() + ": needs "
                    + needed + " bytes (" + layout.totalBytes() + " + margin " + spaceMargin + "), " + free
                    + " free");
        }
    }

    private void pointLatestAt(String name, List<String> warnings) {
        Path latestTmp = root.resolve(CheckpointNames.LATEST_TMP);
        try {
            Files.deleteIfExists(latestTmp);
            writeBytes(io, latestTmp, CheckpointLayout.latestPointer(name));
            io.moveAtomically(latestTmp, root.resolve(CheckpointNames.LATEST));
            io.syncDirectory(root);
        } catch (IOException e) {
            // The checkpoint itself is durable and valid, and resume finds checkpoints by scanning, not through the
            // pointer: a warning, not a failed commit.
            deleteQuietly(latestTmp);
            warnings.add(root + ": checkpoint " + name + " is written, but updating " + CheckpointNames.LATEST
                    + " failed: " + e);
        }
    }

    /**
     * Deletes checkpoint directory {@code dir} of this root: renamed to {@code .del-<name>-<hex>} first (so a
     * half-deleted directory never carries a checkpoint's name), the root forced, then removed.
     */
    void delete(Path dir) throws IOException {
        Path doomed = root.resolve(CheckpointNames.DEL_PREFIX + dir.getFileName() + "-" + randomHex());
        io.moveAtomically(dir, doomed);
        io.syncDirectory(root);
        deleteRecursively(doomed);
    }

    /**
     * Cleans what a crash left in {@code root}: {@code .tmp-ckpt-*} (unfinished commits), {@code .del-ckpt-*}
     * (unfinished deletions), {@code latest.tmp}; a {@code .old-ckpt-<step>-*} (a checkpoint being replaced by a commit
     * of the same step) is put back when the replacement never landed, else removed. Only with the root's lock held.
     *
     * @return one line per piece of debris removed or restored
     */
    static List<String> cleanDebris(Path root, StorageIo io) throws IOException {
        List<String> report = new ArrayList<>();
        Files.deleteIfExists(root.resolve(CheckpointNames.LATEST_TMP));
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            ds.forEach(entries::add);
        }
        for (Path p : entries) {
            String[] debris = CheckpointNames.parseDebris(p.getFileName().toString());
            if (debris == null) {
                continue;
            }
            Path target = root.resolve(debris[1]);
            if ("old".equals(debris[0]) && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                io.moveAtomically(p, target);
                report.add(p + ": restored to " + target.getFileName() + " (its replacement never landed)");
                continue;
            }
            deleteRecursively(p);
            report.add(p + ": removed (" + switch (debris[0]) {
                case "tmp" -> "an unfinished commit";
                case "del" -> "an unfinished deletion";
                default -> "a replaced checkpoint";
            } + ")");
        }
        io.syncDirectory(root);
        return report;
    }

    /**
     * Writes every file of the checkpoint into {@code dir}, then forces each: all written before the first force, so a
     * file system that commits its journal as a whole (ext4, XFS) makes them durable in one commit rather than one each;
     * every file is still forced before the caller forces the directory and renames it.
     */
    private void writeFiles(Path dir, CheckpointLayout layout) throws IOException {
        List<FileChannel> files = new ArrayList<>();
        try {
            FileChannel data = io.createFile(dir.resolve(CheckpointNames.TENSORS));
            files.add(data);
            Map<String, Integer> tensorCrcs = writeTensors(data, layout);
            for (Map.Entry<String, byte[]> f : layout.withTensorCrcs(tensorCrcs).smallFiles().entrySet()) {
                FileChannel ch = io.createFile(dir.resolve(f.getKey()));
                files.add(ch);
                writeFully(ch, ByteBuffer.wrap(f.getValue()));
            }
            for (FileChannel ch : files) {
                ch.force(true);
            }
        } finally {
            closeAll(files);
        }
    }

    /** Closes every channel; the first failure is thrown once all were tried (a failed close may lose written data). */
    private static void closeAll(List<FileChannel> channels) throws IOException {
        IOException first = null;
        for (FileChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Writes {@code state.safetensors} into {@code ch} (not forced); returns every tensor's CRC32C. A streamed tensor's
     * is computed from its chunks as they are written; the others' on a second thread ({@code pauser-checksum}) while
     * this one writes, so where a core is free the checksums add no time to the commit. Both cover the bytes written:
     * an entry's buffer is not modified while it is committed.
     */
    private Map<String, Integer> writeTensors(FileChannel ch, CheckpointLayout layout) throws IOException {
        FutureTask<Map<String, Integer>> inMemory = new FutureTask<>(() -> checksums(layout.tensors()));
        Thread checksummer = new Thread(inMemory, "pauser-checksum");
        checksummer.setDaemon(true);
        checksummer.start();
        Map<String, Integer> crcs = new HashMap<>();
        writeData(ch, layout, crcs);
        try {
            crcs.putAll(inMemory.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while checksumming the tensors");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IOException("checksumming the tensors failed: " + e.getCause(), e.getCause());
        }
        return crcs;
    }

    /** The CRC32C of every tensor whose bytes are in memory (not streamed), by key. */
    private static Map<String, Integer> checksums(List<TensorEntry> tensors) {
        Map<String, Integer> crcs = new HashMap<>();
        for (TensorEntry t : tensors) {
            if (!t.streamed()) {
                crcs.put(t.key(), Crc32c.ofField(t));
            }
        }
        return crcs;
    }

    /** Writes the header and every tensor's bytes; puts each streamed tensor's CRC32C. */
    private void writeData(FileChannel ch, CheckpointLayout layout, Map<String, Integer> streamedCrcs)
            throws IOException {
        if (staging == null) {
            staging = Reading.alignedDirect(STAGING_BYTES);
        }
        ByteBuffer stage = staging.clear();
        byte[] header = layout.tensorsHeader();
        if (header.length > stage.capacity()) {
            writeFully(ch, ByteBuffer.wrap(header));
        } else {
            stage.put(header);
        }
        for (TensorEntry t : layout.tensors()) {
            if (t.streamed()) {
                flush(ch, stage);
                streamedCrcs.put(t.key(), writeStreamed(ch, t));
                continue;
            }
            ByteBuffer src = t.data().duplicate();
            if (src.isDirect() && src.remaining() >= DIRECT_WRITE_THRESHOLD) {
                flush(ch, stage);
                writeFully(ch, src);
                continue;
            }
            while (src.hasRemaining()) {
                if (!stage.hasRemaining()) {
                    flush(ch, stage);
                }
                int n = Math.min(stage.remaining(), src.remaining());
                stage.put(stage.position(), src, src.position(), n);
                stage.position(stage.position() + n);
                src.position(src.position() + n);
            }
        }
        flush(ch, stage);
    }

    /** Writes a streamed tensor's chunks straight from its buffers, checksumming the same bytes; returns the CRC32C. */
    private static int writeStreamed(FileChannel ch, TensorEntry t) throws IOException {
        CRC32C crc = new CRC32C();
        long[] written = {0};
        t.source().writeTo(chunk -> {
            crc.update(chunk.duplicate());
            written[0] += chunk.remaining();
            writeFully(ch, chunk.duplicate());
        });
        if (written[0] != t.byteLength()) {
            throw new IOException("field '" + t.key() + "': its source gave " + written[0] + " bytes, "
                    + t.byteLength() + " expected");
        }
        return (int) crc.getValue();
    }

    private static void flush(FileChannel ch, ByteBuffer stage) throws IOException {
        stage.flip();
        writeFully(ch, stage);
        stage.clear();
    }

    static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void writeBytes(StorageIo io, Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = io.createFile(file)) {
            writeFully(ch, ByteBuffer.wrap(bytes));
            ch.force(true);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteRecursively(p);
        } catch (IOException ignored) {
            // debris is removed when the next store opens
        }
    }

    private static String randomHex() {
        return Long.toHexString(RANDOM.nextLong() >>> 4);
    }
}
