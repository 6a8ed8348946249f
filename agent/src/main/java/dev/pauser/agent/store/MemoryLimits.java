package dev.pauser.agent.store;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * What this JVM can still allocate, for checking a checkpoint's size before its buffers are allocated, and the one line
 * that says what to raise when memory is short. Direct buffers (capture staging, a checkpoint loaded at resume) count
 * against {@code -XX:MaxDirectMemorySize}, whose default is the heap's maximum ({@code -Xmx}).
 */
public final class MemoryLimits {
    private MemoryLimits() {
    }

    /** The most direct buffer memory this JVM may reserve: -XX:MaxDirectMemorySize, or the maximum heap by default. */
    public static long maxDirect() {
        long set = maxDirectMemorySizeOption();
        return set > 0 ? set : Runtime.getRuntime().maxMemory();
    }

    /** Direct buffer memory reserved now (the JDK's "direct" buffer pool). */
    public static long usedDirect() {
        try {
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    return Math.max(0, pool.getMemoryUsed());
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // no management support: assume nothing is used, the allocation itself still guards the limit
        }
        return 0;
    }

    /** Direct buffer memory that can still be reserved. */
    public static long availableDirect() {
        return Math.max(0, maxDirect() - usedDirect());
    }

    /** Heap that can still be allocated, counting garbage as free (a full collection runs before an OutOfMemoryError). */
    public static long maxHeap() {
        return Runtime.getRuntime().maxMemory();
    }

    /**
     * -XX:MaxDirectMemorySize in bytes, 0 when not set. Asks HotSpot first; elsewhere reads the JVM's arguments (the
     * last one wins, as on the command line).
     */
    static long maxDirectMemorySizeOption() {
        try {
            Class<?> type = Class.forName("com.sun.management.HotSpotDiagnosticMXBean");
            Object bean = ManagementFactory.getPlatformMXBean(type.asSubclass(java.lang.management.PlatformManagedObject.class));
            Object option = type.getMethod("getVMOption", String.class).invoke(bean, "MaxDirectMemorySize");
            Object value = option.getClass().getMethod("getValue").invoke(option);
            return Long.parseLong(String.valueOf(value));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            // not HotSpot, or jdk.management absent: fall back to the command line
        }
        long found = 0;
        try {
            List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
            for (String a : args) {
                if (a.startsWith("-XX:MaxDirectMemorySize=")) {
                    found = parseSize(a.substring("-XX:MaxDirectMemorySize=".length()));
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // no management support
        }
        return found;
    }

    /** A JVM size option value: digits with an optional k, m, g or t suffix (any case); -1 when malformed. */
    static long parseSize(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.isEmpty()) {
            return -1;
        }
        int shift = switch (v.charAt(v.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? v : v.substring(0, v.length() - 1);
        try {
            long n = Long.parseLong(digits);
            return n < 0 || n > (Long.MAX_VALUE >> shift) ? -1 : n << shift;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Bytes as MiB, rounded up, for messages. */
    public static String mib(long bytes) {
        return ((bytes + (1 << 20) - 1) >> 20) + " MiB";
    }

    /** True when the error is the direct buffer limit, not the heap. */
    public static boolean isDirect(OutOfMemoryError e) {
        String m = e.getMessage();
        return m != null && m.contains("direct buffer memory");
    }

    /** What to raise for this error, with the current limit: "raise -XX:MaxDirectMemorySize= (now 300 MiB ...)". */
    public static String raiseFor(OutOfMemoryError e) {
        return isDirect(e) ? raiseDirect() : raiseHeap();
    }

    /** The advice for too little direct buffer memory. */
    public static String raiseDirect() {
        return "raise -XX:MaxDirectMemorySize= (now " + mib(maxDirect())
                + (maxDirectMemorySizeOption() > 0 ? "" : ", the default: the same as -Xmx") + ")";
    }

    /** The advice for too little heap. */
    public static String raiseHeap() {
        return "raise -Xmx (now " + mib(maxHeap()) + ")";
    }
}
