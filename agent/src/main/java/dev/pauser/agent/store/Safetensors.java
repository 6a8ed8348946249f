package dev.pauser.agent.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors layout (https://github.com/huggingface/safetensors): an 8-byte little-endian unsigned header length N,
 * N bytes of UTF-8 JSON {@code {"<name>":{"dtype":"F32","shape":[..],"data_offsets":[begin,end]},...,"__metadata__":{..}}}
 * padded with spaces so that the data starts at a multiple of 8, then the tensors' bytes, contiguous, offsets relative to
 * the start of the data.
 */
final class Safetensors {
    /** The reference implementation refuses headers above 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA = "__metadata__";

    private Safetensors() {
    }

    /**
     * The file's prefix (length + padded header) for tensors written in the given order, contiguous from data offset 0.
     */
    static byte[] header(List<TensorEntry> ordered, Map<String, String> metadata) {
        ObjectNode root = Manifest.MAPPER.createObjectNode();
        ObjectNode meta = root.putObject(METADATA);
        metadata.forEach(meta::put);
        long pos = 0;
        for (TensorEntry t : ordered) {
            long len = t.expectedByteLength();
            ObjectNode n = root.putObject(t.key());
            n.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            n.putArray("data_offsets").add(pos).add(pos + len);
            pos += len;
        }
        byte[] json;
        try {
            json = Manifest.MAPPER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write safetensors header", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, out, 8, json.length);
        Arrays.fill(out, 8 + json.length, out.length, (byte) ' ');
        return out;
    }

    /**
     * Reads the header of {@code state.safetensors} and checks it against the manifest: the same tensors with the same
     * dtype, shape and absolute position, covering the data region exactly.
     */
    static void check(Path dir, FileChannel ch, long fileSize, Manifest m) throws IOException {
        String file = CheckpointNames.TENSORS;
        if (fileSize < 8) {
            throw new CorruptCheckpointException(dir, null, file + " is " + fileSize + " bytes, too short for a header");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        Reading.readFully(ch, lenBuf, 0);
        long n = lenBuf.flip().getLong();
        if (n < 2 || n > MAX_HEADER_BYTES || n > fileSize - 8) {
            throw new CorruptCheckpointException(dir, null, file + " header length " + Long.toUnsignedString(n)
                    + " is not sane (file is " + fileSize + " bytes, cap " + MAX_HEADER_BYTES + ")");
        }
        if (8 + n != m.tensorsHeaderBytes()) {
            throw new CorruptCheckpointException(dir, null, file + " header is " + (8 + n)
                    + " bytes, manifest says " + m.tensorsHeaderBytes());
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        Reading.readFully(ch, hb, 8);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(lenBuf.flip());
        crc.update(hb.array());
        int computed = (int) crc.getValue();
        if (computed != m.tensorsHeaderCrc32c()) {
            throw new CorruptCheckpointException(dir, null, file + " header: CRC32C mismatch (stored "
                    + Manifest.crcHex(m.tensorsHeaderCrc32c()) + ", computed " + Manifest.crcHex(computed) + ")");
        }
        JsonNode root;
        try {
            root = Manifest.MAPPER.readTree(new String(hb.array(), StandardCharsets.UTF_8).stripTrailing());
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, null, file + " header is not valid JSON: "
                    + Manifest.firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) {
            throw new CorruptCheckpointException(dir, null, file + " header is not a JSON object");
        }
        long dataStart = 8 + n;
        Map<String, Manifest.Field> tensors = new HashMap<>();
        for (Manifest.Field f : m.fields()) {
            if (f.kind() == Manifest.Kind.TENSOR) {
                tensors.put(f.key(), f);
            }
        }
        List<long[]> ranges = new ArrayList<>();
        int count = 0;
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String key = e.getKey();
            if (METADATA.equals(key)) {
                continue;
            }
            Manifest.Field f = tensors.get(key);
            if (f == null) {
                throw new CorruptCheckpointException(dir, key, file + " holds a tensor the manifest does not list");
            }
            JsonNode t = e.getValue();
            JsonNode offs = t.get("data_offsets");
            JsonNode shape = t.get("shape");
            JsonNode dtype = t.get("dtype");
            if (!t.isObject() || dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                    || offs == null || !offs.isArray() || offs.size() != 2
                    || !offs.get(0).canConvertToLong() || !offs.get(1).canConvertToLong()) {
                throw new CorruptCheckpointException(dir, key, file + " header entry is malformed");
            }
            if (!dtype.textValue().equals(f.dtype().safetensorsName())) {
                throw new CorruptCheckpointException(dir, key, file + " says dtype " + dtype.textValue()
                        + ", manifest says " + f.dtype());
            }
            boolean sameShape = shape.size() == f.shape().length;
            for (int i = 0; sameShape && i < f.shape().length; i++) {
                sameShape = shape.get(i).isIntegralNumber() && shape.get(i).canConvertToLong()
                        && shape.get(i).longValue() == f.shape()[i];
            }
            if (!sameShape) {
                throw new CorruptCheckpointException(dir, key, file + " says shape " + shape + ", manifest says "
                        + f.shapeText());
            }
            long begin = offs.get(0).longValue();
            long end = offs.get(1).longValue();
            if (begin < 0 || end < begin || dataStart + begin != f.offset() || end - begin != f.byteLength()) {
                throw new CorruptCheckpointException(dir, key, file + " data_offsets [" + begin + ", " + end
                        + "] disagree with the manifest (offset " + f.offset() + ", " + f.byteLength() + " bytes)");
            }
            ranges.add(new long[] {begin, end});
            count++;
        }
        if (count != tensors.size()) {
            throw new CorruptCheckpointException(dir, null, file + " header lists " + count + " tensors, manifest "
                    + tensors.size());
        }
        ranges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        long pos = 0;
        for (long[] r : ranges) {
            if (r[0] != pos) {
                throw new CorruptCheckpointException(dir, null, file + " data has a hole or overlap at data offset "
                        + pos);
            }
            pos = r[1];
        }
        if (dataStart + pos != fileSize) {
            throw new CorruptCheckpointException(dir, null, file + " tensors end at " + (dataStart + pos)
                    + " but the file is " + fileSize + " bytes");
        }
    }
}
