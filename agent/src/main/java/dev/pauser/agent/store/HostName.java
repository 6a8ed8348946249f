package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host name a manifest records: the kernel's host name, else {@code HOSTNAME} or {@code COMPUTERNAME}, else
 * "unknown". Looked up once per JVM, on the first committing thread; any thread.
 */
public final class HostName {
    private static volatile String host;

    private HostName() {
    }

    public static String get() {
        String h = host;
        if (h == null) {
            h = find();
            host = h;
        }
        return h;
    }

    private static String find() {
        // No DNS here: InetAddress.getLocalHost can block for seconds on a misconfigured machine.
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(p)) {
                String s = Files.readString(p).strip();
                if (!s.isEmpty()) {
                    return s;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through
        }
        for (String env : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
            String s = System.getenv(env);
            if (s != null && !s.isBlank()) {
                return s.strip();
            }
        }
        return "unknown";
    }
}
