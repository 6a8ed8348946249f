package dev.pauser.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/** Test data and file surgery shared by the snapshot tests. */
final class Fixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    /** A tensor of random bytes (BOOL: 0/1) with the given shape; direct or heap. */
    static TensorEntry tensor(String key, DType dtype, boolean direct, long seed, long... shape) {
        long n = dtype.size();
        for (long d : shape) {
            n *= d;
        }
        byte[] bytes = new byte[(int) n];
        new Random(seed).nextBytes(bytes);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] &= 1;
            }
        }
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(bytes.length) : ByteBuffer.allocate(bytes.length);
        b.order(ByteOrder.LITTLE_ENDIAN).put(bytes).flip();
        return new TensorEntry(key, "com.example.Trainer", dtype.name().toLowerCase() + "[]", dtype, shape, b);
    }

    static JsonEntry json(String key, String json) {
        return new JsonEntry(key, "com.example.Trainer", "java.util.Map", json);
    }

    /** Every dtype, scalar, empty and multi-dimensional tensors, heap and direct, plus JSON values of every kind. */
    static List<Entry> everything() {
        List<Entry> list = new ArrayList<>();
        long seed = 1;
        for (DType t : DType.values()) {
            list.add(tensor("vec." + t, t, false, seed++, 7));
            list.add(tensor("mat." + t, t, true, seed++, 3, 5));
            list.add(tensor("cube." + t, t, seed % 2 == 0, seed++, 2, 3, 4));
            list.add(tensor("scalar." + t, t, false, seed++));
            list.add(tensor("empty." + t, t, true, seed++, 0));
            list.add(tensor("empty2d." + t, t, false, seed++, 4, 0));
        }
        list.add(tensor("bigDirect", DType.F32, true, 99, 3, 300_000)); // > 1 MiB: written straight from its memory
        list.add(tensor("bigHeap", DType.F64, false, 98, 1_200_000)); // > 8 MiB staging buffer
        list.add(json("optimizer", "{\"lr\":0.001,\"betas\":[0.9,0.999],\"name\":\"adam \\u00e9\\\"x\"}"));
        list.add(json("epoch", "42"));
        list.add(json("label", "\"héllo wörld ✓\""));
        list.add(json("nothing", "null"));
        list.add(json("flags", "[true,false]"));
        list.add(json("odd \"key\"/..", "{}"));
        return list;
    }

    static byte[] bytesOf(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    static void assertSameEntries(List<Entry> expected, List<Entry> actual) {
        assertEquals(expected.size(), actual.size());
        Map<String, Entry> byKey = new java.util.HashMap<>();
        actual.forEach(e -> byKey.put(e.key(), e));
        for (Entry e : expected) {
            Entry a = byKey.get(e.key());
            assertTrue(a != null, "missing " + e.key());
            assertEquals(e.declaringClass(), a.declaringClass());
            assertEquals(e.javaType(), a.javaType());
            if (e instanceof TensorEntry t) {
                TensorEntry at = (TensorEntry) a;
                assertEquals(t.dtype(), at.dtype(), e.key());
                assertArrayEquals(t.shape(), at.shape(), e.key());
                assertArrayEquals(bytesOf(t.data()), bytesOf(at.data()), e.key());
                assertEquals(ByteOrder.LITTLE_ENDIAN, at.data().order());
            } else {
                assertEquals(((JsonEntry) e).json(), ((JsonEntry) a).json(), e.key());
            }
        }
    }

    /** Rewrites manifest.json through {@code edit} and recomputes manifest.crc, as a forger would. */
    static void rewriteManifest(Path ckpt, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(ckpt.resolve("manifest.json").toFile());
        edit.accept(root);
        writeManifestBytes(ckpt, JSON.writeValueAsBytes(root));
    }

    static void writeManifestBytes(Path ckpt, byte[] bytes) throws IOException {
        Files.write(ckpt.resolve("manifest.json"), bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        Files.writeString(ckpt.resolve("manifest.crc"), String.format("%08x manifest.json%n", crc.getValue()),
                StandardCharsets.US_ASCII);
    }

    /** The manifest entry object for {@code key}. */
    static ObjectNode entry(ObjectNode manifest, String key) {
        for (var e : manifest.get("entries")) {
            if (e.get("key").asText().equals(key)) {
                return (ObjectNode) e;
            }
        }
        throw new AssertionError("no entry " + key);
    }

    static void flipByte(Path file, long position) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) position] ^= 0x40;
        Files.write(file, b);
    }
}
