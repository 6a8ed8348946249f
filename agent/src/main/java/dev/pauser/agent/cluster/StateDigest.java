package dev.pauser.agent.cluster;

import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.Manifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeSet;

/**
 * What a checkpoint holds, as a short text the workers of a job compare: a digest of its fields' keys, Java types and
 * element types (not their shapes or values). Workers running one program have the same; any thread.
 */
final class StateDigest {
    private StateDigest() {
    }

    /** 16 hex digits; {@code unreadable} when the manifest can't be read (which no other checkpoint matches). */
    static String of(Path checkpoint) {
        TreeSet<String> fields = new TreeSet<>();
        try {
            for (Manifest.Field f : CheckpointReader.readManifest(checkpoint).fields()) {
                fields.add(f.key() + ":" + f.javaType() + ":" + f.dtype());
            }
        } catch (CheckpointException e) {
            return "unreadable";
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(String.join("\n", fields).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256: " + e, e);
        }
    }
}
