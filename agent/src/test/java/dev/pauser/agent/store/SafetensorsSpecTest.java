package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads state.safetensors with a reader written here from the format's specification
 * (https://github.com/huggingface/safetensors#format), sharing no code with the store: 8 bytes little-endian u64 N, N bytes
 * of UTF-8 JSON (may be padded with trailing spaces), then the byte buffer; every tensor is
 * {"dtype","shape","data_offsets":[BEGIN,END]} relative to the buffer start; the buffer is entirely indexed, no holes,
 * no overlaps; optional "__metadata__" is a string-to-string map.
 */
class SafetensorsSpecTest {
    @TempDir
    Path tmp;

    /** dtype sizes straight from the specification's list. */
    private static final Map<String, Integer> SPEC_SIZES = Map.ofEntries(Map.entry("F64", 8), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("I16", 2),
            Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2), Map.entry("I8", 1), Map.entry("U8", 1),
            Map.entry("BOOL", 1));

    @Test
    void fileFollowsTheSpecificationExactly() throws Exception {
        List<Entry> entries = Fixtures.everything();
        Path dir;
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            dir = store.commit(3, Map.of(), entries).dir();
        }
        byte[] file = Files.readAllBytes(dir.resolve("state.safetensors"));
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue(n > 0 && n <= file.length - 8, "header length " + n);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String headerText = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(headerText.startsWith("{"), "header starts with {");
        assertEquals(headerText.stripTrailing(), headerText.replaceAll(" +$", ""), "only spaces pad the header");
        Map<String, Object> header = Fixtures.JSON.readValue(headerText, new TypeReference<Map<String, Object>>() { });

        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) header.remove("__metadata__");
        assertTrue(meta != null && meta.values().stream().allMatch(v -> v instanceof String), "metadata: strings");

        long dataStart = 8 + n;
        long dataLen = file.length - dataStart;
        Map<String, TensorEntry> expected = new HashMap<>();
        for (Entry e : entries) {
            if (e instanceof TensorEntry t) {
                expected.put(t.key(), t);
            }
        }
        assertEquals(expected.keySet(), header.keySet());
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> info = (Map<String, Object>) e.getValue();
            String dtype = (String) info.get("dtype");
            @SuppressWarnings("unchecked")
            List<Number> shape = (List<Number>) info.get("shape");
            @SuppressWarnings("unchecked")
            List<Number> offsets = (List<Number>) info.get("data_offsets");
            assertTrue(SPEC_SIZES.containsKey(dtype), dtype);
            assertEquals(2, offsets.size());
            long begin = offsets.get(0).longValue();
            long end = offsets.get(1).longValue();
            long elements = 1;
            for (Number d : shape) {
                elements *= d.longValue();
            }
            assertEquals(elements * SPEC_SIZES.get(dtype), end - begin, e.getKey());
            assertEquals(0, begin % SPEC_SIZES.get(dtype), e.getKey() + " aligned to its element size");
            ranges.add(new long[] {begin, end});

            TensorEntry t = expected.get(e.getKey());
            assertEquals(t.dtype().safetensorsName(), dtype);
            assertArrayEquals(t.shape(), shape.stream().mapToLong(Number::longValue).toArray());
            byte[] actual = Arrays.copyOfRange(file, (int) (dataStart + begin), (int) (dataStart + end));
            assertArrayEquals(Fixtures.bytesOf(t.data()), actual, e.getKey());
        }
        ranges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        long pos = 0;
        for (long[] r : ranges) {
            assertEquals(pos, r[0], "no hole or overlap");
            pos = r[1];
        }
        assertEquals(dataLen, pos, "the buffer is entirely indexed");
    }

    @Test
    void floatsReadBackAsLittleEndianValues() throws Exception {
        float[] w = {1.5f, -2.25f, Float.NaN, Float.MIN_VALUE, 3e38f, -0.0f};
        ByteBuffer b = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(w);
        Path dir;
        try (CheckpointStore store = CheckpointStore.open(tmp)) {
            dir = store.commit(1, Map.of(), List.of(new TensorEntry("w", "C", "float[]", DType.F32, new long[] {6}, b)))
                    .dir();
        }
        byte[] file = Files.readAllBytes(dir.resolve("state.safetensors"));
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ByteBuffer data = ByteBuffer.wrap(file, (int) (8 + n), w.length * 4).slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(data.getFloat(i * 4)));
        }
    }
}
