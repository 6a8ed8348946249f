package dev.pauser.agent.store;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names on disk. A checkpoint directory is {@code ckpt-<step>} with the step zero-padded to 12 digits
 * ({@code ckpt-000000001234}) so that a plain listing sorts by step; larger steps simply get more digits, and every
 * program here orders by the parsed step, never by the name.
 */
public final class CheckpointNames {
    public static final String FORMAT = "pauser-checkpoint";
    public static final int FORMAT_VERSION = 1;

    public static final String MANIFEST = "manifest.json";
    public static final String MANIFEST_CRC = "manifest.crc";
    public static final String TENSORS = "state.safetensors";
    public static final String VALUES = "values.json";
    public static final String LATEST = "latest";
    public static final String LATEST_TMP = "latest.tmp";
    public static final String LOCK = ".lock";

    /** Prefix of a checkpoint being written; a leftover one is a crash's debris and is removed when a store opens. */
    static final String TMP_PREFIX = ".tmp-";
    /** Prefix of a checkpoint being deleted by retention; a leftover one is finished off when a store opens. */
    static final String DEL_PREFIX = ".del-";
    /** Prefix of a checkpoint replaced by a newer commit of the same step; restored if the replacement never landed. */
    static final String OLD_PREFIX = ".old-";

    private static final Pattern CKPT = Pattern.compile("ckpt-([0-9]{1,19})");
    private static final Pattern DEBRIS = Pattern.compile("\\.(tmp|del|old)-(ckpt-[0-9]{1,19})-[0-9a-f]{1,16}");

    private CheckpointNames() {
    }

    public static String dirName(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must not be negative: " + step);
        }
        return String.format("ckpt-%012d", step);
    }

    /** The step of a checkpoint directory name, or empty when the name is not one we write. */
    public static OptionalLong parseStep(String name) {
        Matcher m = CKPT.matcher(name);
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(m.group(1)));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** For {@code .tmp-ckpt-…-<hex>} etc.: the kind ("tmp", "del", "old") and the checkpoint name, else null. */
    static String[] parseDebris(String name) {
        Matcher m = DEBRIS.matcher(name);
        return m.matches() ? new String[] {m.group(1), m.group(2)} : null;
    }

    /** True for the data files a manifest may name; anything else (paths, "..", other names) is rejected. */
    static boolean isDataFile(String name) {
        return TENSORS.equals(name) || VALUES.equals(name);
    }
}
