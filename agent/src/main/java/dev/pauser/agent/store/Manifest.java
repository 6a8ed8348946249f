package dev.pauser.agent.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The content of {@code manifest.json}: what a checkpoint holds and where each field's bytes are. Offsets are absolute byte
 * positions in the named file; every field has its own CRC32C. {@link #parse} treats the bytes as untrusted and checks
 * every value before anything is allocated from it.
 */
public record Manifest(
        long step,
        Instant wallTime,
        String host,
        String jvmVersion,
        String jvmVendor,
        Map<String, String> info,
        long tensorsFileBytes,
        long tensorsHeaderBytes,
        int tensorsHeaderCrc32c,
        long valuesFileBytes,
        int valuesFileCrc32c,
        List<Field> fields) {

    /** Hard cap on the size of {@code manifest.json} the reader accepts. */
    public static final long MAX_MANIFEST_BYTES = 64L << 20;

    public enum Kind { TENSOR, JSON }

    /**
     * One field. For a JSON field {@code dtype} is null and {@code shape} empty. {@code offset} is the absolute position of
     * its first byte in {@code file}. {@code nestedFields}: for a JSON value written field by field, the declared type of
     * each field of each class inside it ({@code "com.example.Opt#lr" -> "double"}), compared on resume; null when not
     * recorded (other values, and checkpoints written before it was recorded).
     */
    public record Field(String key, Kind kind, String declaringClass, String javaType, DType dtype, long[] shape,
            long byteLength, String file, long offset, int crc32c, Map<String, String> nestedFields) {

        /** A field without nested field types (tensors, scalars). */
        public Field(String key, Kind kind, String declaringClass, String javaType, DType dtype, long[] shape,
                long byteLength, String file, long offset, int crc32c) {
            this(key, kind, declaringClass, javaType, dtype, shape, byteLength, file, offset, crc32c, null);
        }

        /** Shape as text, e.g. {@code [3, 4]}; {@code -} for a JSON field. */
        public String shapeText() {
            if (kind == Kind.JSON) {
                return "-";
            }
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(shape[i]);
            }
            return sb.append(']').toString();
        }
    }

    /**
     * Reads strings and names up to the size of the file itself (the reader caps that at {@link #MAX_MANIFEST_BYTES}),
     * not Jackson's default 20M characters: a manifest {@link #toJson} wrote must read back.
     */
    static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength((int) MAX_MANIFEST_BYTES)
                            .maxNameLength((int) MAX_MANIFEST_BYTES)
                            .build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    public static String crcHex(int crc) {
        return String.format("%08x", crc);
    }

    byte[] toJson() {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("format", CheckpointNames.FORMAT);
        root.put("formatVersion", CheckpointNames.FORMAT_VERSION);
        root.put("step", step);
        root.put("wallTime", wallTime.toString());
        root.put("host", host);
        ObjectNode jvm = root.putObject("jvm");
        jvm.put("version", jvmVersion);
        jvm.put("vendor", jvmVendor);
        ObjectNode infoNode = root.putObject("info");
        info.forEach(infoNode::put);
        ObjectNode files = root.putObject("files");
        ObjectNode t = files.putObject(CheckpointNames.TENSORS);
        t.put("bytes", tensorsFileBytes);
        t.put("headerBytes", tensorsHeaderBytes);
        t.put("headerCrc32c", crcHex(tensorsHeaderCrc32c));
        ObjectNode vf = files.putObject(CheckpointNames.VALUES);
        vf.put("bytes", valuesFileBytes);
        vf.put("crc32c", crcHex(valuesFileCrc32c));
        ArrayNode entries = root.putArray("entries");
        for (Field f : fields) {
            ObjectNode e = entries.addObject();
            e.put("key", f.key());
            e.put("kind", f.kind() == Kind.TENSOR ? "tensor" : "json");
            e.put("declaringClass", f.declaringClass());
            e.put("javaType", f.javaType());
            if (f.kind() == Kind.TENSOR) {
                e.put("dtype", f.dtype().safetensorsName());
                ArrayNode shape = e.putArray("shape");
                for (long d : f.shape()) {
                    shape.add(d);
                }
            }
            e.put("byteLength", f.byteLength());
            e.put("file", f.file());
            e.put("offset", f.offset());
            e.put("crc32c", crcHex(f.crc32c()));
            if (f.nestedFields() != null) {
                ObjectNode nested = e.putObject("nestedFields");
                f.nestedFields().forEach(nested::put);
            }
        }
        byte[] bytes;
        try {
            bytes = MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write manifest", e);
        }
        if (bytes.length > MAX_MANIFEST_BYTES) {
            // the reader refuses it: fail this checkpoint rather than write one no resume can read
            throw new IllegalStateException(CheckpointNames.MANIFEST + " would be " + bytes.length + " bytes, more than the "
                    + MAX_MANIFEST_BYTES + " a reader accepts (" + fields.size() + " fields): use fewer @TrainState fields");
        }
        return bytes;
    }

    /** Parses and validates a manifest's bytes (already checked against {@code manifest.crc}). */
    static Manifest parse(Path dir, byte[] json) throws CorruptCheckpointException {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new CorruptCheckpointException(dir, null, CheckpointNames.MANIFEST + " is not valid JSON: "
                    + firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) {
            throw new CorruptCheckpointException(dir, null, CheckpointNames.MANIFEST + " is not a JSON object");
        }
        V v = new V(dir, null);
        String format = v.text(root, "format");
        if (!CheckpointNames.FORMAT.equals(format)) {
            throw v.fail("not a Pauser checkpoint (format '" + format + "', expected '" + CheckpointNames.FORMAT + "')");
        }
        long version = v.integer(root, "formatVersion");
        if (version != CheckpointNames.FORMAT_VERSION) {
            throw v.fail("format version " + version + " is not supported (this Pauser reads version "
                    + CheckpointNames.FORMAT_VERSION + ")");
        }
        long step = v.nonNegative(root, "step");
        Instant wall;
        try {
            wall = Instant.parse(v.text(root, "wallTime"));
        } catch (DateTimeParseException e) {
            throw v.fail("wallTime is not an ISO-8601 instant");
        }
        String host = v.optionalText(root, "host");
        JsonNode jvm = root.path("jvm");
        String jvmVersion = jvm.isObject() ? v.optionalText(jvm, "version") : "";
        String jvmVendor = jvm.isObject() ? v.optionalText(jvm, "vendor") : "";

        Map<String, String> info = new LinkedHashMap<>();
        JsonNode infoNode = root.get("info");
        if (infoNode != null && !infoNode.isNull()) {
            if (!infoNode.isObject()) {
                throw v.fail("info is not an object");
            }
            for (Map.Entry<String, JsonNode> e : infoNode.properties()) {
                if (!e.getValue().isTextual()) {
                    throw v.fail("info '" + e.getKey() + "' is not a string");
                }
                info.put(e.getKey(), e.getValue().textValue());
            }
        }

        JsonNode files = v.object(root, "files");
        for (Iterator<String> it = files.fieldNames(); it.hasNext();) {
            String name = it.next();
            if (!CheckpointNames.isDataFile(name)) {
                throw v.fail("file name '" + name + "' is not allowed (only " + CheckpointNames.TENSORS + ", "
                        + CheckpointNames.VALUES + ")");
            }
        }
        JsonNode tf = v.object(files, CheckpointNames.TENSORS);
        long tensorsBytes = v.nonNegative(tf, "bytes");
        long headerBytes = v.nonNegative(tf, "headerBytes");
        if (headerBytes > tensorsBytes) {
            throw v.fail(CheckpointNames.TENSORS + " headerBytes " + headerBytes + " exceeds its size " + tensorsBytes);
        }
        int headerCrc = v.crc(tf, "headerCrc32c");
        JsonNode vf = v.object(files, CheckpointNames.VALUES);
        long valuesBytes = v.nonNegative(vf, "bytes");
        int valuesCrc = v.crc(vf, "crc32c");

        JsonNode entries = root.get("entries");
        if (entries == null || !entries.isArray()) {
            throw v.fail("entries is missing or not an array");
        }
        List<Field> fields = new ArrayList<>(entries.size());
        Set<String> keys = new HashSet<>();
        int index = 0;
        for (JsonNode e : entries) {
            if (!e.isObject()) {
                throw v.fail("entries[" + index + "] is not an object");
            }
            JsonNode keyNode = e.get("key");
            if (keyNode == null || !keyNode.isTextual() || keyNode.textValue().isEmpty()) {
                throw v.fail("entries[" + index + "] has no key");
            }
            String key = keyNode.textValue();
            V fv = new V(dir, key);
            if (!keys.add(key)) {
                throw fv.fail("key appears twice");
            }
            String kindText = fv.text(e, "kind");
            Kind kind = switch (kindText) {
                case "tensor" -> Kind.TENSOR;
                case "json" -> Kind.JSON;
                default -> throw fv.fail("unknown kind '" + kindText + "'");
            };
            String declaring = fv.nullableText(e, "declaringClass");
            String javaType = fv.nullableText(e, "javaType");
            String file = fv.text(e, "file");
            if (!CheckpointNames.isDataFile(file)) {
                throw fv.fail("file name '" + file + "' is not allowed (only " + CheckpointNames.TENSORS + ", "
                        + CheckpointNames.VALUES + ")");
            }
            String expectedFile = kind == Kind.TENSOR ? CheckpointNames.TENSORS : CheckpointNames.VALUES;
            if (!file.equals(expectedFile)) {
                throw fv.fail("a " + kindText + " field must be in " + expectedFile + ", not " + file);
            }
            long byteLength = fv.nonNegative(e, "byteLength");
            DType dtype = null;
            long[] shape = new long[0];
            if (kind == Kind.TENSOR) {
                String dt = fv.text(e, "dtype");
                dtype = DType.fromSafetensorsName(dt);
                if (dtype == null) {
                    throw fv.fail("unknown dtype '" + dt + "'");
                }
                JsonNode shapeNode = e.get("shape");
                if (shapeNode == null || !shapeNode.isArray() || shapeNode.size() > 64) {
                    throw fv.fail("shape is missing, not an array or has more than 64 dimensions");
                }
                shape = new long[shapeNode.size()];
                long elements = 1;
                for (int i = 0; i < shape.length; i++) {
                    JsonNode d = shapeNode.get(i);
                    if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                        throw fv.fail("shape[" + i + "] is not a non-negative 64-bit integer");
                    }
                    shape[i] = d.longValue();
                    try {
                        elements = Math.multiplyExact(elements, shape[i]);
                    } catch (ArithmeticException ex) {
                        throw fv.fail("shape " + shapeText(shape, i + 1) + " has more elements than a long holds");
                    }
                }
                long computed;
                try {
                    computed = Math.multiplyExact(elements, (long) dtype.size());
                } catch (ArithmeticException ex) {
                    throw fv.fail("shape " + shapeText(shape, shape.length) + " of " + dtype
                            + " is more bytes than a long holds");
                }
                if (computed != byteLength) {
                    throw fv.fail("byteLength " + byteLength + " does not match shape " + shapeText(shape, shape.length)
                            + " of " + dtype + " (" + computed + " bytes)");
                }
            }
            long offset = fv.nonNegative(e, "offset");
            long fileBytes = kind == Kind.TENSOR ? tensorsBytes : valuesBytes;
            long end;
            try {
                end = Math.addExact(offset, byteLength);
            } catch (ArithmeticException ex) {
                end = Long.MAX_VALUE;
            }
            if (end > fileBytes) {
                throw fv.fail("bytes " + offset + ".." + (end == Long.MAX_VALUE ? "overflow" : end) + " lie beyond the end of "
                        + file + " (" + fileBytes + " bytes)");
            }
            if (kind == Kind.TENSOR && offset < headerBytes) {
                throw fv.fail("offset " + offset + " lies inside the safetensors header");
            }
            int crc = fv.crc(e, "crc32c");
            Map<String, String> nested = null;
            JsonNode nestedNode = e.get("nestedFields");
            if (nestedNode != null && !nestedNode.isNull()) {
                if (kind != Kind.JSON || !nestedNode.isObject()) {
                    throw fv.fail("nestedFields is not an object of a JSON field");
                }
                nested = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> n : nestedNode.properties()) {
                    if (!n.getValue().isTextual()) {
                        throw fv.fail("nestedFields '" + n.getKey() + "' is not a string");
                    }
                    nested.put(n.getKey(), n.getValue().textValue());
                }
            }
            fields.add(new Field(key, kind, declaring, javaType, dtype, shape, byteLength, file, offset, crc, nested));
            index++;
        }
        return new Manifest(step, wall, host, jvmVersion, jvmVendor, Collections.unmodifiableMap(info), tensorsBytes,
                headerBytes, headerCrc, valuesBytes, valuesCrc, Collections.unmodifiableList(fields));
    }

    private static String shapeText(long[] shape, int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(n < shape.length ? ", ...]" : "]").toString();
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Validation helpers that produce the one-line exception. */
    private record V(Path dir, String key) {
        CorruptCheckpointException fail(String problem) {
            return new CorruptCheckpointException(dir, key, key == null ? CheckpointNames.MANIFEST + ": " + problem
                    : problem);
        }

        String text(JsonNode n, String name) throws CorruptCheckpointException {
            JsonNode v = n.get(name);
            if (v == null || !v.isTextual()) {
                throw fail(name + " is missing or not a string");
            }
            return v.textValue();
        }

        String nullableText(JsonNode n, String name) throws CorruptCheckpointException {
            JsonNode v = n.get(name);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isTextual()) {
                throw fail(name + " is not a string");
            }
            return v.textValue();
        }

        String optionalText(JsonNode n, String name) throws CorruptCheckpointException {
            String s = nullableText(n, name);
            return s == null ? "" : s;
        }

        long integer(JsonNode n, String name) throws CorruptCheckpointException {
            JsonNode v = n.get(name);
            if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
                throw fail(name + " is missing or not a 64-bit integer");
            }
            return v.longValue();
        }

        long nonNegative(JsonNode n, String name) throws CorruptCheckpointException {
            long x = integer(n, name);
            if (x < 0) {
                throw fail(name + " is negative (" + x + ")");
            }
            return x;
        }

        int crc(JsonNode n, String name) throws CorruptCheckpointException {
            String text = text(n, name);
            if (!text.matches("[0-9a-f]{8}")) {
                throw fail(name + " '" + text + "' is not 8 hex digits");
            }
            return Integer.parseUnsignedInt(text, 16);
        }

        JsonNode object(JsonNode n, String name) throws CorruptCheckpointException {
            JsonNode v = n.get(name);
            if (v == null || !v.isObject()) {
                throw fail(name + " is missing or not an object");
            }
            return v;
        }
    }
}
