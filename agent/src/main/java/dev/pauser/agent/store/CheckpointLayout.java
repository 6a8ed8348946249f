package dev.pauser.agent.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The files of one checkpoint, laid out in memory before anything is written: the order of the tensors in
 * {@code state.safetensors} and its header, the bytes of {@code values.json}, every field's offset and CRC32C, and the
 * bytes of {@code manifest.json} and {@code manifest.crc}. Built purely from the entries (no I/O: the wall time and the
 * host come from the caller); the tensor data itself is not copied, {@link CheckpointCommit} streams it from the
 * entries. Every tensor has its CRC32C recorded as 0 here: the commit computes them while it writes the data (a
 * streamed tensor's ({@link TensorSource}) from the chunks written, the others on a second thread while the data file is
 * written) and lays the manifest out again with {@link #withTensorCrcs} before writing it (the CRC is fixed
 * width in the manifest, so its size, and {@code totalBytes}, do not change). Built on the thread that commits;
 * immutable afterwards.
 *
 * @param tensors the tensor entries in file order
 * @param tensorsHeader the safetensors header (length prefix included)
 * @param tensorsBytes the size of {@code state.safetensors}
 * @param totalBytes the size of every file of the checkpoint plus the {@code latest} pointer naming it
 */
record CheckpointLayout(String name, List<TensorEntry> tensors, byte[] tensorsHeader, long tensorsBytes, byte[] values,
        byte[] manifest, byte[] manifestCrc, long totalBytes, Manifest model) {

    /** Validates JSON values without the default 20M-character string cap (values may legitimately be large). */
    private static final JsonFactory VALUE_CHECKER = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE).maxNestingDepth(10_000).build())
            .build();

    /**
     * Lays out checkpoint {@code step}.
     *
     * @throws IllegalArgumentException when the entries are inconsistent (duplicate keys, data length not matching the
     *     shape, invalid JSON) or {@code info} holds nulls
     */
    static CheckpointLayout of(long step, Map<String, String> info, List<Entry> entries, Instant wallTime, String host) {
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
                checkTensor(t);
                tensors.add(t);
            } else if (e instanceof JsonEntry j) {
                checkJson(j);
                jsons.add(j);
            }
        }
        // Larger elements first (stable otherwise): every tensor then starts at a multiple of its element size, as the
        // Python writer does, so zero-copy readers can view the bytes in place.
        tensors.sort(Comparator.comparingInt((TensorEntry t) -> t.dtype().size()).reversed());

        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", CheckpointNames.FORMAT);
        meta.put("step", Long.toString(step));
        byte[] header = Safetensors.header(tensors, meta);
        List<Manifest.Field> fields = new ArrayList<>();
        long pos = header.length;
        for (TensorEntry t : tensors) {
            long len = t.byteLength();
            fields.add(new Manifest.Field(t.key(), Manifest.Kind.TENSOR, t.declaringClass(), t.javaType(), t.dtype(),
                    t.shape().clone(), len, CheckpointNames.TENSORS, pos, 0));
            pos += len;
        }
        long tensorsBytes = pos;
        byte[] values = values(jsons, fields);

        Manifest m = new Manifest(step, wallTime, host, System.getProperty("java.version", ""),
                System.getProperty("java.vendor", ""), new LinkedHashMap<>(info), tensorsBytes, header.length,
                Crc32c.of(header), values.length, Crc32c.of(values), fields);
        byte[] manifest = m.toJson();
        byte[] manifestCrc = manifestCrc(manifest);
        long totalBytes = tensorsBytes + values.length + manifest.length + manifestCrc.length + latestPointer(name).length;
        return new CheckpointLayout(name, List.copyOf(tensors), header, tensorsBytes, values, manifest, manifestCrc,
                totalBytes, m);
    }

    /** This layout with the tensors' CRC32Cs (key to CRC) in the manifest. */
    CheckpointLayout withTensorCrcs(Map<String, Integer> crcs) {
        if (crcs.isEmpty()) {
            return this;
        }
        List<Manifest.Field> fields = new ArrayList<>(model.fields().size());
        for (Manifest.Field f : model.fields()) {
            Integer crc = crcs.get(f.key());
            fields.add(crc == null ? f : new Manifest.Field(f.key(), f.kind(), f.declaringClass(), f.javaType(),
                    f.dtype(), f.shape(), f.byteLength(), f.file(), f.offset(), crc, f.nestedFields()));
        }
        Manifest m = new Manifest(model.step(), model.wallTime(), model.host(), model.jvmVersion(), model.jvmVendor(),
                model.info(), model.tensorsFileBytes(), model.tensorsHeaderBytes(), model.tensorsHeaderCrc32c(),
                model.valuesFileBytes(), model.valuesFileCrc32c(), fields);
        byte[] manifest = m.toJson();
        if (manifest.length != this.manifest.length) {
            throw new IllegalStateException("the manifest changed size when the tensors' CRCs were filled in");
        }
        return new CheckpointLayout(name, tensors, tensorsHeader, tensorsBytes, values, manifest, manifestCrc(manifest),
                totalBytes, m);
    }

    private static byte[] manifestCrc(byte[] manifest) {
        return (Manifest.crcHex(Crc32c.of(manifest)) + " " + CheckpointNames.MANIFEST + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The files besides {@code state.safetensors}, by name, in the order they are written ({@code manifest.crc} last). */
    Map<String, byte[]> smallFiles() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CheckpointNames.VALUES, values);
        files.put(CheckpointNames.MANIFEST, manifest);
        files.put(CheckpointNames.MANIFEST_CRC, manifestCrc);
        return files;
    }

    /** The content of the {@code latest} pointer naming checkpoint directory {@code name}. */
    static byte[] latestPointer(String name) {
        return (name + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** {@code values.json}: one object, key to value, two-space indented; adds each value's field to {@code fields}. */
    private static byte[] values(List<JsonEntry> jsons, List<Manifest.Field> fields) {
        ByteArrayOutputStream vs = new ByteArrayOutputStream();
        vs.write('{');
        boolean first = true;
        for (JsonEntry j : jsons) {
            byte[] k = quote(j.key());
            byte[] v = Crc32c.valueBytes(j);
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
            fields.add(new Manifest.Field(j.key(), Manifest.Kind.JSON, j.declaringClass(), j.javaType(), null,
                    new long[0], v.length, CheckpointNames.VALUES, off, Crc32c.of(v), j.nestedFields()));
        }
        vs.writeBytes(first ? "}\n".getBytes(StandardCharsets.UTF_8) : "\n}\n".getBytes(StandardCharsets.UTF_8));
        return vs.toByteArray();
    }

    private static void checkTensor(TensorEntry t) {
        if (Safetensors.METADATA.equals(t.key())) {
            throw new IllegalArgumentException("'" + Safetensors.METADATA + "' is reserved by safetensors");
        }
        long expected;
        try {
            expected = t.expectedByteLength();
        } catch (ArithmeticException ex) {
            throw new IllegalArgumentException("field '" + t.key() + "': " + ex.getMessage());
        }
        if (t.byteLength() != expected) {
            throw new IllegalArgumentException("field '" + t.key() + "': " + t.byteLength()
                    + " bytes of data for " + t.dtype() + Arrays.toString(t.shape()) + " (" + expected + " expected)");
        }
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
}
