package dev.pauser.agent.device;

/**
 * Why JCuda's driver library did not load, in one line. JCuda reports it as an {@link UnsatisfiedLinkError} (a
 * {@link NoClassDefFoundError} once the class failed to initialize) whose message nests the loader's own messages
 * ({@code libcuda.so.1: cannot open shared object file}).
 */
final class NativeLibraryFailure {
    private NativeLibraryFailure() {
    }

    static String reason(Throwable failure) {
        String all = messages(failure);
        if (all.contains("libcuda.so")) {
            return "libcuda.so.1 is not installed (no NVIDIA driver)";
        }
        if (all.contains("No resource found")) {
            return "JCuda's native libraries for this platform are not on the class path (add org.jcuda:jcuda-natives"
                    + " with the classifier " + platform() + ")";
        }
        return "JCuda's driver library did not load: " + firstLine(failure);
    }

    private static String messages(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null && all.length() < 100_000; c = c.getCause()) {
            all.append(c.getMessage()).append('\n');
        }
        return all.toString();
    }

    private static String firstLine(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        String m = String.valueOf(root.getMessage());
        int nl = m.indexOf('\n');
        return root.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl)).trim();
    }

    /** JCuda's classifier for this machine ({@code linux-x86_64}), as its native jars are named. */
    private static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        String osName = os.startsWith("windows") ? "windows" : os.startsWith("mac") ? "apple" : "linux";
        String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") ? "aarch64" : arch;
        return osName + "-" + archName;
    }
}
