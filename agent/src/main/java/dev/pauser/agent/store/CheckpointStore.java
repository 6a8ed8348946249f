package dev.pauser.agent.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A checkpoint root held by this process. One store per directory: {@link #open} takes an exclusive lock on
 * {@code <root>/.lock} ({@link DirectoryLock}), so a second process pointed at the same directory fails fast instead of
 * racing. Holding a store is holding that lock: everything that moves, deletes or writes checkpoints of the root, and
 * the choice of the checkpoint a run resumes from, is an instance method of the store, so it runs under the lock.
 *
 * <p>The work is split by job: {@link CheckpointLayout} lays a checkpoint's files out in memory, {@link CheckpointCommit}
 * makes them durable by the commit protocol (and deletes, and cleans a crash's debris), {@link Retention} decides which
 * checkpoints stay, {@link Resume} picks the newest checkpoint that verifies.
 *
 * <p>Threads: opened, asked for the checkpoint to resume from and told to set newer ones aside on the thread that loads
 * the agent; {@link #commit} runs on the checkpointer's writer thread ({@code pauser-writer}) or on the thread taking a
 * held checkpoint. The methods that change the root are synchronized, so commits never run concurrently.
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

    private final Path root;
    private final Options options;
    private final DirectoryLock lock;
    private final CheckpointCommit protocol;
    private final List<String> openReport;
    private final Set<Long> protectedSteps = new HashSet<>();
    /** The steps {@link #pin} keeps. Guarded by this. */
    private final Set<Long> pinnedSteps = new HashSet<>();

    private CheckpointStore(Path root, Options options, DirectoryLock lock, List<String> report) {
        this.root = root;
        this.options = options;
        this.lock = lock;
        this.protocol = new CheckpointCommit(root, options.io(), options.spaceMargin());
        this.openReport = report;
    }

    public static CheckpointStore open(Path root) throws CheckpointException {
        return open(root, Options.defaults());
    }

    /**
     * Creates the root (0700) if needed, checks that no other user can write it ({@link DirectoryTrust}), locks it, and
     * only then, holding the lock, cleans what a crash left behind ({@link CheckpointCommit#cleanDebris}). Nothing in
     * the directory is moved, renamed or deleted before the lock is held.
     *
     * @throws CheckpointException with one line that names the directory and the fix: not a directory, owned or writable
     *     by another user, the lock held by another process (its pid), or an I/O error
     */
    public static CheckpointStore open(Path root, Options options) throws CheckpointException {
        Path abs = root.toAbsolutePath().normalize();
        DirectoryLock lock = null;
        try {
            createRoot(abs, options.io());
            String untrusted = DirectoryTrust.rootProblem(abs, "dir=");
            if (untrusted != null) {
                throw new CheckpointException(untrusted);
            }
            lock = DirectoryLock.acquire(abs);
            List<String> report = CheckpointCommit.cleanDebris(abs, options.io());
            return new CheckpointStore(abs, options, lock, Collections.unmodifiableList(report));
        } catch (CheckpointException e) {
            closeQuietly(lock);
            throw e;
        } catch (IOException e) {
            closeQuietly(lock);
            throw new CheckpointException(abs + ": cannot open the checkpoint directory: " + e
                    + "; check that this user can create and write it, or choose another dir=", e);
        }
    }

    private static void createRoot(Path abs, StorageIo io) throws IOException {
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new CheckpointException(notADirectory(abs));
        }
        if (!Files.isDirectory(abs)) {
            Path parent = abs.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                io.createDirectory(abs);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(abs)) {
                    throw new CheckpointException(notADirectory(abs), e);
                }
            }
        }
    }

    private static String notADirectory(Path abs) {
        return abs + " is " + (Files.isRegularFile(abs) ? "a file" : "not a directory")
                + ": dir= must name a directory; remove or rename " + abs + ", or choose another dir=";
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

    /**
     * Keeps the checkpoint of {@code step} out of retention, whatever is written after it, until {@link #unpin}: for a
     * job of several workers, its newest committed checkpoint, which every worker must still have when the job resumes,
     * and those this worker told the job of, which may commit at any moment. Any thread.
     */
    public synchronized void pin(long step) {
        pinnedSteps.add(step);
    }

    /** Lets retention have the checkpoint of {@code step} again. Any thread. */
    public synchronized void unpin(long step) {
        pinnedSteps.remove(step);
    }

    /** Checkpoint directories under the root, newest (highest step) first. Only names {@code ckpt-<digits>}. */
    public List<Path> list() throws IOException {
        return list(root);
    }

    /**
     * Checkpoint directories under {@code root}, newest (highest step) first. Only names {@code ckpt-<digits>} that are
     * real directories (not symbolic links). A root that does not exist holds none. Reads only; needs no lock.
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

    /** The checkpoint the {@code latest} pointer names, if the pointer and that directory exist. Reads only. */
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

    // ---------------------------------------------------------------------------------------------------------------
    // resume: what a starting run continues from, and what it sets aside, under this store's lock

    /** The newest checkpoint that verifies, and why each newer one was skipped ({@link Resume#newestValid}). */
    public synchronized Resume.Scan newestValid() throws IOException {
        return Resume.newestValid(root);
    }

    /** Loads the newest checkpoint that loads, and says why each newer one was skipped ({@link Resume#loadNewestValid}). */
    public synchronized Resume.Loaded loadNewestValid() throws IOException {
        return Resume.loadNewestValid(root);
    }

    /** The checkpoint directories with a higher step than {@code step}, newest first (all of them for a negative one). */
    public synchronized List<Path> newerThan(long step) throws IOException {
        List<Path> newer = new ArrayList<>();
        for (Path p : list()) {
            if (CheckpointNames.parseStep(p.getFileName().toString()).getAsLong() > step) {
                newer.add(p);
            }
        }
        return newer;
    }

    /**
     * Moves checkpoints of this root, not deleted, into a new {@code <root>/aside-<yyyyMMdd-HHmmss>[-n]/} (0700, created
     * fresh: an existing entry of that name, a link included, is never reused). Only checkpoint directories directly
     * under this root are moved; this store holds the lock, so no other process is using them.
     *
     * @return the directory they were moved to
     */
    public synchronized Path setAside(List<Path> ckptDirs) throws IOException {
        for (Path p : ckptDirs) {
            checkpointOfThisRoot(p, "moved");
        }
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC)
                .format(options.clock().instant());
        Path aside = root.resolve("aside-" + stamp);
        for (int n = 2; ; n++) {
            try {
                options.io().createDirectory(aside);
                break;
            } catch (FileAlreadyExistsException e) {
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

    // ---------------------------------------------------------------------------------------------------------------
    // commit, retention, deletion

    /**
     * Writes checkpoint {@code step} by the commit protocol ({@link CheckpointCommit#write}: atomic, a checkpoint of the
     * same step replaced only once the new one landed), updates {@code latest}, then applies retention.
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
        CheckpointLayout layout = CheckpointLayout.of(step, info == null ? Map.of() : info, entries,
                options.clock().instant(), HostName.get());
        List<String> warnings = new ArrayList<>();
        Path target = protocol.write(layout, warnings);
        long nanos = System.nanoTime() - t0;

        protectedSteps.removeIf(s -> s < step);
        List<Path> deleted = new ArrayList<>();
        applyRetention(step, deleted, warnings);
        return new CommitResult(step, target, layout.totalBytes(), nanos, List.copyOf(deleted),
                List.copyOf(warnings));
    }

    /**
     * Applies retention now rather than at the next commit, as after {@link #unpin}: the newest checkpoint stays.
     * Returns a line per checkpoint that could not be deleted. Any thread.
     */
    public synchronized List<String> retainNow() {
        List<String> problems = new ArrayList<>();
        List<Path> all;
        try {
            all = list(root);
        } catch (IOException e) {
            return List.of(root + ": cannot list checkpoints for retention: " + e);
        }
        if (!all.isEmpty()) {
            long newest = CheckpointNames.parseStep(all.get(0).getFileName().toString()).getAsLong();
            applyRetention(newest, new ArrayList<>(), problems);
        }
        return problems;
    }

    private void applyRetention(long committed, List<Path> deleted, List<String> problems) {
        List<Path> doomed;
        try {
            Set<Long> always = new HashSet<>(protectedSteps);
            always.add(committed);
            always.addAll(pinnedSteps);
            doomed = options.retention().toDelete(list(root), always);
        } catch (IOException e) {
            problems.add(root + ": cannot list checkpoints for retention: " + e);
            return;
        }
        for (Path d : doomed) {
            try {
                deleteCheckpoint(d);
                deleted.add(d);
            } catch (IOException ex) {
                problems.add(d + ": retention could not delete it: " + ex);
            }
        }
    }

    /**
     * Deletes one checkpoint ({@link CheckpointCommit#delete}: renamed to {@code .del-…} first, the root forced, then
     * removed). Refuses anything that is not a {@code ckpt-<digits>} directory directly under this root.
     */
    public synchronized void deleteCheckpoint(Path ckptDir) throws IOException {
        protocol.delete(checkpointOfThisRoot(ckptDir, "deleted"));
    }

    /** {@code p} normalized, if it is a {@code ckpt-<digits>} directory directly under this root; else the error. */
    private Path checkpointOfThisRoot(Path p, String notDone) throws CheckpointException {
        Path d = p.toAbsolutePath().normalize();
        if (!root.equals(d.getParent()) || CheckpointNames.parseStep(d.getFileName().toString()).isEmpty()
                || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            throw new CheckpointException(d + ": not a checkpoint directory of " + root + ", not " + notDone);
        }
        return d;
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

    /** Releases the directory lock. */
    @Override
    public synchronized void close() throws IOException {
        lock.close();
    }
}
