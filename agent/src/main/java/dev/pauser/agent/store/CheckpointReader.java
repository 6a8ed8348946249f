package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.zip.CRC32C;

/**
 * Reads checkpoints back. Checkpoints are untrusted input: the manifest is size-capped and CRC-checked, every name, offset,
 * length and shape is validated against the real files before any buffer is allocated for it, the safetensors header is
 * checked against the manifest, and every field's CRC32C must match. Nothing is deserialized as Java objects.
 */
public final class CheckpointReader {
    /** Tensors at least this large are read into page-aligned direct buffers; smaller ones into heap buffers. */
    static final int DIRECT_THRESHOLD = 64 << 10;
    /** The most bytes one field's value may take: what one buffer holds when it is read back. */
    public static final long MAX_FIELD_BYTES = Reading.MAX_BUFFER;
    private static final int VERIFY_CHUNK = 8 << 20;
    /** A large tensor is read in reads of this size, each checksummed while the next is read. */
    static final int READ_CHUNK = 8 << 20;
    private static final int MAX_CRC_FILE = 256;

    private CheckpointReader() {
    }

    /**
     * The checkpoints a command-line argument means: {@code path} itself when it is a checkpoint directory (holds a
     * manifest or is named {@code ckpt-<step>}), else the checkpoints under it, newest first.
     */
    public static List<Path> resolve(Path path) throws IOException {
        if (Files.exists(path.resolve(CheckpointNames.MANIFEST), LinkOption.NOFOLLOW_LINKS)
                || CheckpointNames.parseStep(String.valueOf(path.getFileName())).isPresent()) {
            return List.of(path);
        }
        if (!Files.isDirectory(path)) {
            throw new NoSuchFileException(path.toString(), null, "not a checkpoint or a checkpoint directory");
        }
        return CheckpointStore.list(path);
    }

    /** Reads, CRC-checks and validates {@code manifest.json} alone (the data files are not opened). */
    public static Manifest readManifest(Path dir) throws CheckpointException {
        if (!Files.isDirectory(dir)) {
            throw new CorruptCheckpointException(dir, null, "not a directory");
        }
        byte[] json = readSmallFile(dir, CheckpointNames.MANIFEST, Manifest.MAX_MANIFEST_BYTES);
        byte[] crcFile = readSmallFile(dir, CheckpointNames.MANIFEST_CRC, MAX_CRC_FILE);
        String crcText = new String(crcFile, StandardCharsets.US_ASCII).strip();
        if (!crcText.matches("[0-9a-f]{8} " + java.util.regex.Pattern.quote(CheckpointNames.MANIFEST))) {
            throw new CorruptCheckpointException(dir, null, CheckpointNames.MANIFEST_CRC + " is malformed");
        }
        int stored = Integer.parseUnsignedInt(crcText.substring(0, 8), 16);
        int computed = Crc32c.of(json);
        if (stored != computed) {
            throw new CorruptCheckpointException(dir, null, CheckpointNames.MANIFEST + ": CRC32C mismatch (stored "
                    + Manifest.crcHex(stored) + ", computed " + Manifest.crcHex(computed) + ")");
        }
        return Manifest.parse(dir, json);
    }

    /** The manifest and age of a checkpoint, for {@code inspect}. Data files are not read. */
    public static CheckpointSummary inspect(Path dir, Clock clock) throws CheckpointException {
        Manifest m = readManifest(dir);
        return new CheckpointSummary(dir, m, Duration.between(m.wallTime(), clock.instant()));
    }

    public static CheckpointSummary inspect(Path dir) throws CheckpointException {
        return inspect(dir, Clock.systemUTC());
    }

    /**
     * Loads a checkpoint with every check; the first problem throws {@link CorruptCheckpointException}. A valid
     * checkpoint whose buffers don't fit in the memory left throws {@link CheckpointTooLargeException}: checked from the
     * manifest's sizes before anything is allocated, and again if an allocation still runs out (what was allocated is
     * then let go).
     */
    public static LoadedCheckpoint load(Path dir) throws CheckpointException {
        Manifest m = checkStructure(dir);
        checkFits(dir, m);
        try {
            return loadEntries(dir, m);
        } catch (OutOfMemoryError e) {
            // the entries allocated so far are unreachable once this frame is gone
            boolean direct = MemoryLimits.isDirect(e);
            long needed = direct ? directBytes(m) : heapBytes(m);
            throw new CheckpointTooLargeException(dir, needed, "loading it needs "
                    + MemoryLimits.mib(needed) + " of " + (direct ? "direct buffer memory" : "heap")
                    + " and ran out (" + e.getMessage() + "); " + MemoryLimits.raiseFor(e), e);
        }
    }

    /** Memory the loaded buffers will take: direct for large tensors (a page of alignment slack each), heap for the rest. */
    private static void checkFits(Path dir, Manifest m) throws CheckpointTooLargeException {
        long direct = directBytes(m);
        long available = MemoryLimits.availableDirect();
        if (direct > available) {
            long max = MemoryLimits.maxDirect();
            throw new CheckpointTooLargeException(dir, direct, "loading it needs " + MemoryLimits.mib(direct)
                    + " of direct buffer memory, " + MemoryLimits.mib(available) + " of the " + MemoryLimits.mib(max)
                    + " limit is free; " + MemoryLimits.raiseDirect(), null);
        }
        long heap = heapBytes(m);
        if (heap > MemoryLimits.maxHeap()) {
            throw new CheckpointTooLargeException(dir, heap, "loading it needs " + MemoryLimits.mib(heap)
                    + " of heap, more than the maximum heap; " + MemoryLimits.raiseHeap(), null);
        }
    }

    static long directBytes(Manifest m) {
        long n = 0;
        for (Manifest.Field f : m.fields()) {
            if (f.kind() == Manifest.Kind.TENSOR && f.byteLength() >= DIRECT_THRESHOLD) {
                n += (f.byteLength() + Reading.PAGE - 1) / Reading.PAGE * Reading.PAGE + Reading.PAGE;
            }
        }
        return n;
    }

    /** Small tensors, plus each JSON value three times over (its bytes, then the decoded String, up to two bytes a char). */
    static long heapBytes(Manifest m) {
        long n = 0;
        for (Manifest.Field f : m.fields()) {
            if (f.kind() != Manifest.Kind.TENSOR) {
                n += 3 * f.byteLength();
            } else if (f.byteLength() < DIRECT_THRESHOLD) {
                n += f.byteLength();
            }
        }
        return n;
    }

    private static LoadedCheckpoint loadEntries(Path dir, Manifest m) throws CheckpointException {
        List<Entry> entries = new ArrayList<>(m.fields().size());
        ExecutorService checksummer = Reading.checksumThread();
        try (FileChannel tensors = open(dir, CheckpointNames.TENSORS);
                FileChannel values = open(dir, CheckpointNames.VALUES)) {
            for (Manifest.Field f : m.fields()) {
                if (f.byteLength() > Reading.MAX_BUFFER) {
                    throw new CorruptCheckpointException(dir, f.key(), f.byteLength()
                            + " bytes do not fit one buffer (max " + Reading.MAX_BUFFER + ")");
                }
                int len = (int) f.byteLength();
                if (f.kind() == Manifest.Kind.TENSOR) {
                    ByteBuffer buf;
                    int crc;
                    if (len >= DIRECT_THRESHOLD) {
                        // large reads straight into the buffer the field keeps, checksummed on a second thread
                        buf = Reading.alignedDirect(len);
                        crc = readChecksummed(dir, f, tensors, buf, checksummer);
                        buf.flip();
                    } else {
                        buf = ByteBuffer.allocate(len);
                        read(dir, f, tensors, buf);
                        buf.flip();
                        crc = Crc32c.of(buf);
                    }
                    checkCrc(dir, f, crc);
                    entries.add(new TensorEntry(f.key(), f.declaringClass(), f.javaType(), f.dtype(), f.shape().clone(),
                            buf.order(ByteOrder.LITTLE_ENDIAN)));
                } else {
                    ByteBuffer buf = ByteBuffer.allocate(len);
                    read(dir, f, values, buf);
                    buf.flip();
                    checkCrc(dir, f, Crc32c.of(buf));
                    String json;
                    try {
                        json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(buf).toString();
                    } catch (CharacterCodingException e) {
                        throw new CorruptCheckpointException(dir, f.key(), "value is not valid UTF-8");
                    }
                    entries.add(new JsonEntry(f.key(), f.declaringClass(), f.javaType(), json, f.nestedFields()));
                }
            }
            checkValuesFile(dir, m, values, ByteBuffer.allocate(1 << 20));
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, null, "cannot read: " + e, e);
        } finally {
            checksummer.shutdown();
        }
        return new LoadedCheckpoint(dir, m, Collections.unmodifiableList(entries));
    }

    /**
     * Checks every CRC32C (and the structure) without keeping the data: memory use is one 8 MiB buffer whatever the size.
     * Never throws for a corrupt checkpoint; the report says what is wrong.
     */
    public static VerifyReport verify(Path dir) {
        Manifest m;
        try {
            m = checkStructure(dir);
        } catch (CheckpointException e) {
            long step = -1;
            try {
                step = readManifest(dir).step();
            } catch (CheckpointException ignored) {
                // manifest itself is the problem
            }
            return new VerifyReport(dir, step, List.of(), List.of(e.getMessage()));
        }
        List<VerifyReport.FieldResult> results = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        ByteBuffer chunk = Reading.alignedDirect(VERIFY_CHUNK);
        try (FileChannel tensors = open(dir, CheckpointNames.TENSORS);
                FileChannel values = open(dir, CheckpointNames.VALUES)) {
            for (Manifest.Field f : m.fields()) {
                FileChannel ch = f.kind() == Manifest.Kind.TENSOR ? tensors : values;
                CRC32C crc = new CRC32C();
                String problem = null;
                long pos = f.offset();
                long end = f.offset() + f.byteLength();
                try {
                    while (pos < end) {
                        chunk.clear().limit((int) Math.min(VERIFY_CHUNK, end - pos));
                        Reading.readFully(ch, chunk, pos);
                        chunk.flip();
                        pos += chunk.remaining();
                        crc.update(chunk);
                    }
                } catch (IOException e) {
                    problem = "cannot read: " + e;
                }
                int computed = (int) crc.getValue();
                if (problem == null && computed != f.crc32c()) {
                    problem = crcProblem(f.crc32c(), computed);
                }
                if (problem != null) {
                    problems.add(new CorruptCheckpointException(dir, f.key(), problem).getMessage());
                }
                results.add(new VerifyReport.FieldResult(f.key(), f.file(), f.byteLength(), f.crc32c(), computed, problem));
            }
            if (problems.isEmpty()) {
                try {
                    checkValuesFile(dir, m, values, chunk);
                } catch (CorruptCheckpointException e) {
                    problems.add(e.getMessage());
                }
            }
        } catch (IOException e) {
            problems.add(dir + ": cannot read: " + e);
        }
        return new VerifyReport(dir, m.step(), List.copyOf(results), List.copyOf(problems));
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Manifest, file sizes and the safetensors header, all consistent; no field data read yet. */
    static Manifest checkStructure(Path dir) throws CheckpointException {
        Manifest m = readManifest(dir);
        checkSize(dir, CheckpointNames.TENSORS, m.tensorsFileBytes());
        checkSize(dir, CheckpointNames.VALUES, m.valuesFileBytes());
        try (FileChannel ch = open(dir, CheckpointNames.TENSORS)) {
            Safetensors.check(dir, ch, m.tensorsFileBytes(), m);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, null, CheckpointNames.TENSORS + ": cannot read: " + e, e);
        }
        return m;
    }

    private static void checkSize(Path dir, String name, long expected) throws CorruptCheckpointException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new CorruptCheckpointException(dir, null, name + " is missing or not a regular file");
        }
        long actual;
        try {
            actual = Files.size(p);
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, null, name + ": cannot read its size: " + e, e);
        }
        if (actual != expected) {
            throw new CorruptCheckpointException(dir, null, name + " is " + actual + " bytes, the manifest says "
                    + expected + (actual < expected ? " (truncated)" : ""));
        }
    }

    private static byte[] readSmallFile(Path dir, String name, long cap) throws CorruptCheckpointException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new CorruptCheckpointException(dir, null, name + " is missing or not a regular file");
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = ch.size();
            if (size > cap) {
                throw new CorruptCheckpointException(dir, null, name + " is " + size + " bytes, more than the "
                        + cap + " accepted");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            Reading.readFully(ch, buf, 0);
            return buf.array();
        } catch (CorruptCheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, null, name + ": cannot read: " + e, e);
        }
    }

    /**
     * The CRC32C of all of {@code values.json}: the per-field CRCs cover the values, this covers the keys and punctuation
     * around them, for readers that parse the file as a whole.
     */
    private static void checkValuesFile(Path dir, Manifest m, FileChannel ch, ByteBuffer chunk) throws IOException {
        CRC32C crc = new CRC32C();
        long pos = 0;
        long size = m.valuesFileBytes();
        while (pos < size) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), size - pos));
            Reading.readFully(ch, chunk, pos);
            chunk.flip();
            pos += chunk.remaining();
            crc.update(chunk);
        }
        int computed = (int) crc.getValue();
        if (computed != m.valuesFileCrc32c()) {
            throw new CorruptCheckpointException(dir, null, CheckpointNames.VALUES + ": CRC32C mismatch outside the "
                    + "field values (stored " + Manifest.crcHex(m.valuesFileCrc32c()) + ", computed "
                    + Manifest.crcHex(computed) + ")");
        }
    }

    private static FileChannel open(Path dir, String name) throws IOException {
        return FileChannel.open(dir.resolve(name), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    }

    private static void read(Path dir, Manifest.Field f, FileChannel ch, ByteBuffer buf) throws CheckpointException {
        try {
            Reading.readFully(ch, buf, f.offset());
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, f.key(), "cannot read " + f.file() + ": " + e, e);
        }
    }

    private static int readChecksummed(Path dir, Manifest.Field f, FileChannel ch, ByteBuffer buf,
            ExecutorService checksummer) throws CheckpointException {
        try {
            return Reading.readFullyChecksummed(ch, buf, f.offset(), READ_CHUNK, checksummer);
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, f.key(), "cannot read " + f.file() + ": " + e, e);
        }
    }

    private static void checkCrc(Path dir, Manifest.Field f, int computed) throws CorruptCheckpointException {
        if (computed != f.crc32c()) {
            throw new CorruptCheckpointException(dir, f.key(), crcProblem(f.crc32c(), computed));
        }
    }

    private static String crcProblem(int stored, int computed) {
        return "CRC32C mismatch (stored " + Manifest.crcHex(stored) + ", computed " + Manifest.crcHex(computed) + ")";
    }
}
