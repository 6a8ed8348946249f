package dev.pauser.agent.snapshot;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Writes checkpoints into a root directory and applies retention. One store per directory: {@link #open} takes an exclusive
 * lock on {@code <root>/.lock}, so a second process pointed at the same directory fails fast instead of racing.
 *
 * <p>Commit protocol (see {@link #commit}): everything is written into {@code .tmp-ckpt-<step>-<hex>}, each file forced to
 * disk, the directory forced, renamed to {@code ckpt-<step>} with {@code ATOMIC_MOVE}, the root forced; then the
 * {@code latest} pointer is replaced the same way ({@code latest.tmp}, force, rename, force root); then retention runs.
 * A crash at any instant leaves either no {@code ckpt-<step>} or a complete one; the debris ({@code .tmp-*}, {@code .del-*},
 * {@code latest.tmp}) is cleaned when the next store opens.
 *
 * <p>Not thread-safe for concurrent commits by design: {@link #commit} is synchronized.
 */
public final class CheckpointStore implements Closeable {

    /** Store settings. {@code spaceMargin}: bytes that must stay free beyond the checkpoint's own size. */
    public record Options(Retention retention, long spaceMargin, Clock clock, StorageIo io) {
        public static final long DEFAULT_SPACE_MARGIN = 16L << 20;

        public Options {
            Objects.requireNonNull(retention, "retention");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(io, "io");
            if (spaceMargin < 0) {
                throw new IllegalArgumentException("spaceMargin must not be negative");
            }
        }

        public static Options defaults() {
            return new Options(Retention.defaults(), DEFAULT_SPACE_MARGIN, Clock.systemUTC(), StorageIo.standard());
        }

        public Options withRetention(int keep, Duration keepEvery) {
            return new Options(new Retention(keep, keepEvery), spaceMargin, clock, io);
        }

        public Options withSpaceMargin(long bytes) {
            return new Options(retention, bytes, clock, io);
        }

        public Options withClock(Clock c) {
            return new Options(retention, spaceMargin, c, io);
        }

        public Options withIo(StorageIo storageIo) {
            return new Options(retention, spaceMargin, clock, storageIo);
        }
    }

    /**
     * What a commit did. {@code bytes}: the size of the files written; {@code nanos}: from the first write to the durable
     * {@code latest} pointer; {@code deleted}: checkpoints removed by retention afterwards; {@code warnings}: one line
     * each for what went wrong after the checkpoint was durable (the {@code latest} pointer could not be updated, a
     * checkpoint retention could not remove). The commit itself succeeded; the caller logs them.
     */
    public record CommitResult(long step, Path dir, long bytes, long nanos, List<Path> deleted,
            List<String> warnings) {
    }

    private static final int STAGING_BYTES = 8 << 20;
    /** Direct buffers at least this large are written straight from their memory, skipping the staging copy. */
    private static final int DIRECT_WRITE_THRESHOLD = 1 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Validates JSON values without the default 20M-character string cap (values may legitimately be large). */
    private static final JsonFactory VALUE_CHECKER = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE).maxNestingDepth(10_000).build())
            .build();
    private static volatile String host;

    private final Path root;
    private final Options options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final List<String> openReport;
    private final Set<Long> protectedSteps = new HashSet<>();
    private ByteBuffer staging;

    private CheckpointStore(Path root, Options options, FileChannel lockChannel, FileLock lock, List<String> report) {
        this.root = root;
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.openReport = report;
    }

    public static CheckpointStore open(Path root) throws CheckpointException {
        return open(root, Options.defaults());
    }

    /**
     * Creates the root (0700) if needed, checks that no other user can write it ({@link DirectoryTrust}), locks it, and
     * only then, holding the lock, cleans what a crash left behind: {@code .tmp-ckpt-*} (unfinished commits),
     * {@code .del-ckpt-*} (unfinished deletions), {@code latest.tmp}; a {@code .old-ckpt-<step>-*} (a checkpoint being
     * replaced by a commit of the same step) is put back when the replacement never landed, else removed. Nothing in the
     * directory is moved, renamed or deleted before the lock is held. The lock file is never followed if it is a symbolic
     * link; the holder writes its process id into it, so a second process can name it.
     *
     * @throws CheckpointException with one line that names the directory and the fix: not a directory, owned or writable
     *     by another user, the lock held by another process (its pid), or an I/O error
     */
    public static CheckpointStore open(Path root, Options options) throws CheckpointException {
        Path abs = root.toAbsolutePath().normalize();
        FileChannel ch = null;
        try {
            if (Files.exists(abs) && !Files.isDirectory(abs)) {
                throw new CheckpointException(notADirectory(abs));
            }
            if (!Files.isDirectory(abs)) {
                Path parent = abs.getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                try {
                    options.io().createDirectory(abs);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    if (!Files.isDirectory(abs)) {
                        throw new CheckpointException(notADirectory(abs), e);
                    }
                }
            }
            String untrusted = DirectoryTrust.rootProblem(abs, "dir=");
            if (untrusted != null) {
                throw new CheckpointException(untrusted);
            }
            Path lockFile = abs.resolve(CheckpointNames.LOCK);
            String badLock = DirectoryTrust.lockProblem(lockFile);
            if (badLock != null) {
                throw new CheckpointException(badLock);
            }
            // No TRUNCATE: until the lock is held, the file's content (the holder's pid) is not this process's to change.
            // NOFOLLOW_LINKS is O_NOFOLLOW: a link planted after the check above fails the open instead of being followed.
            Set<OpenOption> opts = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            ch = abs.getFileSystem().supportedFileAttributeViews().contains("posix")
                    ? FileChannel.open(lockFile, opts, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------")))
                    : FileChannel.open(lockFile, opts);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                throw new CheckpointException(inUse(abs, lockFile));
            }
            writePid(ch);
            List<String> report = cleanDebris(abs, options.io());
            return new CheckpointStore(abs, options, ch, l, Collections.unmodifiableList(report));
        } catch (CheckpointException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new CheckpointException(abs + ": cannot open the checkpoint directory: " + e
                    + "; check that this user can create and write it, or choose another dir=", e);
        }
    }

    private static String notADirectory(Path abs) {
        return abs + " is " + (Files.isRegularFile(abs) ? "a file" : "not a directory")
                + ": dir= must name a directory; remove or rename " + abs + ", or choose another dir=";
    }

    private static String inUse(Path abs, Path lockFile) {
        long pid = readPid(lockFile);
        String who;
        if (pid == ProcessHandle.current().pid()) {
            who = "another checkpoint store in this JVM (pid " + pid + ")";
        } else {
            who = "another JVM" + (pid > 0 ? " (pid " + pid + ")" : "");
        }
        return abs + " is in use: " + who + " is writing checkpoints there (it holds " + CheckpointNames.LOCK
                + "); give each run its own dir=";
    }

    /** The holder's pid as it wrote it into the lock file, or -1 when there is none to read. */
    private static long readPid(Path lockFile) {
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(lockFile, StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS)) {
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
            writeFully(lockChannel, ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                    .getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException | RuntimeException e) {
            // the pid is only a hint for a second process's message; the lock is what counts
        }
    }

    public Path root() {
        return root;
    }

    public Options options() {
        return options;
    }

    /** One line per piece of crash debris {@link #open} removed or restored. */
    public List<String> openReport() {
        return openReport;
    }

    /**
     * Keeps {@code ckptDir} (the checkpoint a run resumed from) out of retention until a checkpoint with a higher step is
     * committed by this store.
     */
    public synchronized void protect(Path ckptDir) {
        OptionalLong step = CheckpointNames.parseStep(ckptDir.getFileName().toString());
        if (step.isPresent()) {
            protectedSteps.add(step.getAsLong());
        }
    }

    /** Checkpoint directories under the root, newest (highest step) first. Only names {@code ckpt-<digits>}. */
    public List<Path> list() throws IOException {
        return list(root);
    }

    /**
     * Checkpoint directories under {@code root}, newest (highest step) first. Only names {@code ckpt-<digits>} that are
     * real directories (not symbolic links). A root that does not exist holds none.
     */
    public static List<Path> list(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        List<Map.Entry<Long, Path>> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                OptionalLong s = CheckpointNames.parseStep(p.getFileName().toString());
                if (s.isPresent() && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    found.add(Map.entry(s.getAsLong(), p));
                }
            }
        }
        found.sort(Map.Entry.<Long, Path>comparingByKey().reversed());
        List<Path> out = new ArrayList<>(found.size());
        for (Map.Entry<Long, Path> e : found) {
            out.add(e.getValue());
        }
        return out;
    }

    /** The checkpoint the {@code latest} pointer names, if the pointer and that directory exist. */
    public static Optional<Path> latest(Path root) {
        try {
            Path p = root.resolve(CheckpointNames.LATEST);
            if (Files.size(p) > 256) {
                return Optional.empty();
            }
            String name = Files.readString(p, StandardCharsets.UTF_8).strip();
            if (CheckpointNames.parseStep(name).isEmpty()) {
                return Optional.empty();
            }
            Path dir = root.resolve(name);
            return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? Optional.of(dir) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The newest checkpoint that verifies, and why each newer one was skipped. */
    public Resume.Scan newestValid() throws IOException {
        return Resume.newestValid(root);
    }

    /**
     * Writes checkpoint {@code step} atomically (see the class comment), updates {@code latest}, then applies retention.
     * Committing a step that already exists replaces it: the old directory is renamed aside ({@code .old-…}), the new one
     * renamed in, then the old one deleted; a crash in between restores the old one at the next {@link #open}.
     *
     * <p>{@code bytes} in the result counts the checkpoint's files plus the {@code latest} pointer's few bytes.
     *
     * @param info free-form strings recorded in the manifest (trainer classes, options, ...)
     * @throws CheckpointException when the checkpoint does not fit the free space or a write fails; the partial
     *     directory is removed and every existing checkpoint is left as it was
     * @throws IllegalArgumentException when the entries are inconsistent (duplicate keys, data length not matching the
     *     shape, invalid JSON) — a bug in the caller, not an I/O condition
     */
    public synchronized CommitResult commit(long step, Map<String, String> info, List<Entry> entries)
            throws CheckpointException {
        long t0 = System.nanoTime();
        Prepared p = prepare(step, info == null ? Map.of() : info, entries);
        StorageIo io = options.io();
        String name = CheckpointNames.dirName(step);
        Path target = root.resolve(name);

        long free;
        try {
            free = io.usableSpace(root);
        } catch (IOException e) {
            free = -1;
        }
        long needed = p.totalBytes + options.spaceMargin();
        if (free >= 0 && free < needed) {
            throw new CheckpointException(root + ": not enough free space for checkpoint " + name + ": needs "
                    + needed + " bytes (" + p.totalBytes + " + margin " + options.spaceMargin() + "), " + free
                    + " free");
        }

        Path tmp = root.resolve(CheckpointNames.TMP_PREFIX + name + "-" + randomHex());
        Path old = null;
        boolean landed = false;
        try {
            io.createDirectory(tmp);
            writeTensors(io, tmp.resolve(CheckpointNames.TENSORS), p);
            writeBytes(io, tmp.resolve(CheckpointNames.VALUES), p.values);
            writeBytes(io, tmp.resolve(CheckpointNames.MANIFEST), p.manifest);
            writeBytes(io, tmp.resolve(CheckpointNames.MANIFEST_CRC), p.manifestCrc);
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
        List<String> warnings = new ArrayList<>();
        Path latestTmp = root.resolve(CheckpointNames.LATEST_TMP);
        try {
            Files.deleteIfExists(latestTmp);
            writeBytes(io, latestTmp, (name + "\n").getBytes(StandardCharsets.UTF_8));
            io.moveAtomically(latestTmp, root.resolve(CheckpointNames.LATEST));
            io.syncDirectory(root);
        } catch (IOException e) {
            // The checkpoint itself is durable and valid, and resume finds checkpoints by scanning, not through the
            // pointer: a warning, not a failed commit.
            deleteQuietly(latestTmp);
            warnings.add(root + ": checkpoint " + name + " is written, but updating " + CheckpointNames.LATEST
                    + " failed: " + e);
        }
        long nanos = System.nanoTime() - t0;

        protectedSteps.removeIf(s -> s < step);
        List<Path> deleted = new ArrayList<>();
        applyRetention(step, deleted, warnings);
        return new CommitResult(step, target, p.totalBytes, nanos, List.copyOf(deleted), List.copyOf(warnings));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // preparation: layout, CRCs, manifest

    private static final class Prepared {
        List<TensorEntry> tensors;
        byte[] header;
        long tensorsBytes;
        byte[] values;
        byte[] manifest;
        byte[] manifestCrc;
        long totalBytes;
    }

    private Prepared prepare(long step, Map<String, String> info, List<Entry> entries) {
        String name = CheckpointNames.dirName(step);
        for (Map.Entry<String, String> e : info.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("info must not hold null keys or values: " + info);
            }
        }
        Set<String> keys = new HashSet<>();
        List<TensorEntry> tensors = new ArrayList<>();
        List<JsonEntry> jsons = new ArrayList<>();
        for (Entry e : entries) {
            if (e.key().isEmpty() || !keys.add(e.key())) {
                throw new IllegalArgumentException("empty or duplicate key '" + e.key() + "'");
            }
            if (e instanceof TensorEntry t) {
                if (Safetensors.METADATA.equals(t.key())) {
                    throw new IllegalArgumentException("'" + Safetensors.METADATA + "' is reserved by safetensors");
                }
                long expected;
                try {
                    expected = t.expectedByteLength();
                } catch (ArithmeticException ex) {
                    throw new IllegalArgumentException("field '" + t.key() + "': " + ex.getMessage());
                }
                if (t.data().remaining() != expected) {
                    throw new IllegalArgumentException("field '" + t.key() + "': " + t.data().remaining()
                            + " bytes of data for " + t.dtype() + java.util.Arrays.toString(t.shape()) + " ("
                            + expected + " expected)");
                }
                tensors.add(t);
            } else if (e instanceof JsonEntry j) {
                checkJson(j);
                jsons.add(j);
            }
        }
        // Larger elements first (stable otherwise): every tensor then starts at a multiple of its element size, as the
        // Python writer does, so zero-copy readers can view the bytes in place.
        tensors.sort(Comparator.comparingInt((TensorEntry t) -> t.dtype().size()).reversed());

        Prepared p = new Prepared();
        p.tensors = tensors;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", CheckpointNames.FORMAT);
        meta.put("step", Long.toString(step));
        p.header = Safetensors.header(tensors, meta);
        List<Manifest.Field> fields = new ArrayList<>();
        long pos = p.header.length;
        for (TensorEntry t : tensors) {
            long len = t.data().remaining();
            CRC32C crc = new CRC32C();
            crc.update(t.data().duplicate());
            fields.add(new Manifest.Field(t.key(), Manifest.Kind.TENSOR, t.declaringClass(), t.javaType(), t.dtype(),
                    t.shape().clone(), len, CheckpointNames.TENSORS, pos, (int) crc.getValue()));
            pos += len;
        }
        p.tensorsBytes = pos;

        ByteArrayOutputStream vs = new ByteArrayOutputStream();
        vs.write('{');
        boolean first = true;
        for (JsonEntry j : jsons) {
            byte[] k = quote(j.key());
            byte[] v = j.json().getBytes(StandardCharsets.UTF_8);
            vs.write(first ? '\n' : ',');
            if (!first) {
                vs.write('\n');
            }
            first = false;
            vs.write(' ');
            vs.write(' ');
            vs.writeBytes(k);
            vs.write(':');
            vs.write(' ');
            long off = vs.size();
            vs.writeBytes(v);
            CRC32C crc = new CRC32C();
            crc.update(v);
            fields.add(new Manifest.Field(j.key(), Manifest.Kind.JSON, j.declaringClass(), j.javaType(), null,
                    new long[0], v.length, CheckpointNames.VALUES, off, (int) crc.getValue(), j.nestedFields()));
        }
        vs.writeBytes(first ? "}\n".getBytes(StandardCharsets.UTF_8) : "\n}\n".getBytes(StandardCharsets.UTF_8));
        p.values = vs.toByteArray();

        Instant now = options.clock().instant();
        CRC32C headerCrc = new CRC32C();
        headerCrc.update(p.header);
        CRC32C valuesCrc = new CRC32C();
        valuesCrc.update(p.values);
        Manifest m = new Manifest(step, now, host(), System.getProperty("java.version", ""),
                System.getProperty("java.vendor", ""), new LinkedHashMap<>(info), p.tensorsBytes, p.header.length,
                (int) headerCrc.getValue(), p.values.length, (int) valuesCrc.getValue(), fields);
        p.manifest = m.toJson();
        CRC32C mc = new CRC32C();
        mc.update(p.manifest);
        p.manifestCrc = (Manifest.crcHex((int) mc.getValue()) + " " + CheckpointNames.MANIFEST + "\n")
                .getBytes(StandardCharsets.UTF_8);
        p.totalBytes = p.tensorsBytes + p.values.length + p.manifest.length + p.manifestCrc.length + name.length() + 1;
        return p;
    }

    private static byte[] quote(String s) {
        try {
            return Manifest.MAPPER.writeValueAsBytes(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void checkJson(JsonEntry j) {
        try (JsonParser parser = VALUE_CHECKER.createParser(j.json())) {
            if (parser.nextToken() == null) {
                throw new IllegalArgumentException("field '" + j.key() + "': empty JSON value");
            }
            parser.skipChildren();
            JsonToken after = parser.nextToken();
            if (after != null) {
                throw new IllegalArgumentException("field '" + j.key() + "': more than one JSON value");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("field '" + j.key() + "': invalid JSON: "
                    + Manifest.firstLine(e.getMessage()), e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // writing

    private void writeTensors(StorageIo io, Path file, Prepared p) throws IOException {
        if (staging == null) {
            staging = Reading.alignedDirect(STAGING_BYTES);
        }
        ByteBuffer stage = staging.clear();
        try (FileChannel ch = io.createFile(file)) {
            if (p.header.length > stage.capacity()) {
                writeFully(ch, ByteBuffer.wrap(p.header));
            } else {
                stage.put(p.header);
            }
            for (TensorEntry t : p.tensors) {
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
            ch.force(true);
        }
    }

    private static void flush(FileChannel ch, ByteBuffer stage) throws IOException {
        stage.flip();
        writeFully(ch, stage);
        stage.clear();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
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

    // ---------------------------------------------------------------------------------------------------------------
    // retention and deletion

    private void applyRetention(long committed, List<Path> deleted, List<String> problems) {
        List<Path> dirs;
        try {
            dirs = list(root);
        } catch (IOException e) {
            problems.add(root + ": cannot list checkpoints for retention: " + e);
            return;
        }
        Map<Long, Path> byStep = new LinkedHashMap<>();
        List<Retention.Candidate> candidates = new ArrayList<>();
        boolean needWallTime = options.retention().keepEvery() != null;
        for (Path d : dirs) {
            long s = CheckpointNames.parseStep(d.getFileName().toString()).getAsLong();
            byStep.put(s, d);
            candidates.add(new Retention.Candidate(s, needWallTime ? wallTimeOf(d) : Instant.EPOCH));
        }
        Set<Long> always = new HashSet<>(protectedSteps);
        always.add(committed);
        Set<Long> keep = options.retention().keepSet(candidates, always);
        for (Map.Entry<Long, Path> e : byStep.entrySet()) {
            if (!keep.contains(e.getKey())) {
                try {
                    deleteCheckpoint(e.getValue());
                    deleted.add(e.getValue());
                } catch (IOException ex) {
                    problems.add(e.getValue() + ": retention could not delete it: " + ex);
                }
            }
        }
    }

    /** The manifest's wall time; for a checkpoint whose manifest cannot be read, the directory's modification time. */
    private static Instant wallTimeOf(Path dir) {
        try {
            return CheckpointReader.readManifest(dir).wallTime();
        } catch (IOException e) {
            try {
                return Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS).toInstant();
            } catch (IOException e2) {
                return Instant.EPOCH;
            }
        }
    }

    /**
     * Moves checkpoints of this root, not deleted, into a new {@code <root>/aside-<yyyyMMdd-HHmmss>[-n]/} (0700, created
     * fresh: an existing entry of that name, a link included, is never reused). Only checkpoint directories directly
     * under this root are moved; the caller holds this store, so no other process is using them.
     *
     * @return the directory they were moved to
     */
    public synchronized Path setAside(List<Path> ckptDirs) throws IOException {
        for (Path p : ckptDirs) {
            Path d = p.toAbsolutePath().normalize();
            if (!root.equals(d.getParent()) || CheckpointNames.parseStep(d.getFileName().toString()).isEmpty()
                    || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                throw new CheckpointException(d + ": not a checkpoint directory of " + root + ", not moved");
            }
        }
        String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(options.clock().instant());
        Path aside = root.resolve("aside-" + stamp);
        for (int n = 2; ; n++) {
            try {
                options.io().createDirectory(aside);
                break;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (n > 100) {
                    throw e;
                }
                aside = root.resolve("aside-" + stamp + "-" + n);
            }
        }
        for (Path p : ckptDirs) {
            options.io().moveAtomically(p, aside.resolve(p.getFileName().toString()));
        }
        options.io().syncDirectory(root);
        return aside;
    }

    /**
     * Deletes one checkpoint: renamed to {@code .del-<name>-<hex>} first (so a half-deleted directory never carries a
     * checkpoint's name), the root forced, then removed. Refuses anything that is not a {@code ckpt-<digits>} directory
     * directly under this root.
     */
    public synchronized void deleteCheckpoint(Path ckptDir) throws IOException {
        Path dir = ckptDir.toAbsolutePath().normalize();
        String name = dir.getFileName().toString();
        if (!root.equals(dir.getParent()) || CheckpointNames.parseStep(name).isEmpty()
                || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new CheckpointException(dir + ": not a checkpoint directory of " + root + ", not deleted");
        }
        Path doomed = root.resolve(CheckpointNames.DEL_PREFIX + name + "-" + randomHex());
        options.io().moveAtomically(dir, doomed);
        options.io().syncDirectory(root);
        deleteRecursively(doomed);
    }

    private static List<String> cleanDebris(Path root, StorageIo io) throws IOException {
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

    private static void closeQuietly(Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private static String randomHex() {
        return Long.toHexString(RANDOM.nextLong() >>> 4);
    }

    static String host() {
        String h = host;
        if (h == null) {
            h = findHost();
            host = h;
        }
        return h;
    }

    private static String findHost() {
        // No DNS here: InetAddress.getLocalHost can block for seconds on a misconfigured machine.
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(p)) {
                String s = Files.readString(p).strip();
                if (!s.isEmpty()) {
                    return s;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through
        }
        for (String env : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
            String s = System.getenv(env);
            if (s != null && !s.isBlank()) {
                return s.strip();
            }
        }
        return "unknown";
    }

    /** Releases the directory lock. */
    @Override
    public synchronized void close() throws IOException {
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }
}
