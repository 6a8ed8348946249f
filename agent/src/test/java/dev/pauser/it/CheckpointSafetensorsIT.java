package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: the {@code state.safetensors} a real agent run wrote parses with a reader written
 * here from the format's specification (https://github.com/huggingface/safetensors#format): 8 bytes little-endian u64 N,
 * N bytes of UTF-8 JSON, then the byte buffer; each tensor {"dtype","shape","data_offsets":[BEGIN,END]} relative to the
 * buffer; the buffer entirely indexed without holes or overlaps; little-endian, row-major values. The 2-D weights it
 * holds are the ones the fixture printed at the end of the run.
 */
class CheckpointSafetensorsIT {
    private static final Map<String, Integer> SPEC_SIZES = Map.of("F64", 8, "F32", 4, "I64", 8, "I32", 4, "I16", 2,
            "U16", 2, "I8", 1, "U8", 1, "BOOL", 1);

    @TempDir
    Path dir;

    @Test
    void stateSafetensorsOfARealRunParsesPerTheSpecificationAndHoldsTheFixturesWeights() throws Exception {
        String[] args = {"--steps", "60", "--delay-ms", "2", "--print-weights"};
        String printed;
        try (ChildJvm child = Checkpoints.start(dir, "every=25", args)) {
            Checkpoints.finish(child, "run");
            Matcher m = Pattern.compile("(?m)^weights=(\\S+)$").matcher(child.output());
            assertTrue(m.find(), child.output());
            printed = m.group(1);
        }
        List<Path> ckpts = Checkpoints.list(dir);
        Path newest = ckpts.get(ckpts.size() - 1); // written at exit: the final state
        byte[] file = Files.readAllBytes(newest.resolve("state.safetensors"));

        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue(n > 1 && n <= file.length - 8, "header length " + n);
        String headerText = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(headerText.startsWith("{"), headerText);
        JsonNode header = new ObjectMapper().readTree(headerText);
        long dataStart = 8 + n;
        long dataLen = file.length - dataStart;

        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(x -> assertTrue(x.getValue().isTextual(), "metadata " + x));
                continue;
            }
            JsonNode t = e.getValue();
            String dtype = t.get("dtype").asText();
            assertTrue(SPEC_SIZES.containsKey(dtype), e.getKey() + ": dtype " + dtype);
            long elements = 1;
            for (JsonNode d : t.get("shape")) {
                elements *= d.asLong();
            }
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            assertEquals(elements * SPEC_SIZES.get(dtype), end - begin, e.getKey() + ": size from shape and dtype");
            assertTrue(begin >= 0 && end <= dataLen, e.getKey() + ": inside the buffer");
            ranges.add(new long[] {begin, end});
        }
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        long at = 0;
        for (long[] r : ranges) {
            assertEquals(at, r[0], "no hole and no overlap in the byte buffer");
            at = r[1];
        }
        assertEquals(dataLen, at, "the byte buffer is entirely indexed");

        JsonNode weights = header.get("weights");
        assertEquals("F32", weights.get("dtype").asText());
        assertEquals("[8,16]", weights.get("shape").toString());
        assertEquals("F64", header.get("optimizer.momentum").get("dtype").asText());
        assertEquals("[128]", header.get("optimizer.momentum").get("shape").toString());
        assertEquals("F32", header.get("direct").get("dtype").asText());
        assertEquals("[32]", header.get("direct").get("shape").toString());

        String[] expectedHex = printed.split(",");
        ByteBuffer data = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int from = (int) (dataStart + weights.get("data_offsets").get(0).asLong());
        int[] actual = new int[expectedHex.length];
        int[] expected = new int[expectedHex.length];
        for (int i = 0; i < expectedHex.length; i++) {
            expected[i] = Integer.parseUnsignedInt(expectedHex[i], 16);
            actual[i] = data.getInt(from + i * 4);
        }
        assertArrayEquals(expected, actual, "weights in state.safetensors (row-major F32 LE) vs the fixture's print");
    }
}
