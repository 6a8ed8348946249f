package dev.pauser.agent.log;

import java.lang.System.Logger.Level;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Pauser's log lines, one line each: {@code pauser: <message>}, with the level after the prefix for the others
 * ({@code pauser: WARNING: ...}, {@code pauser: ERROR: ...}, {@code pauser: DEBUG: ...}). The {@code log} option sets
 * the lowest level written.
 *
 * <p>Pauser imposes no logging framework and never reconfigures the app's logging. While JDK logging has its default
 * configuration (none of {@code java.util.logging.config.file}, {@code java.util.logging.config.class} or
 * {@code java.util.logging.manager} set, and no {@link System.LoggerFinder} on the class path), its default format
 * would put a header line naming this class before every line; then Pauser writes its lines to standard error itself.
 * Otherwise they go through {@link System.Logger} (logger name {@code dev.pauser}), wherever the app's logging sends
 * them, formatted by it. Checked at each line (they are rare), without initializing JDK logging: an app that sets its
 * log manager in {@code main} must find it uninitialized.
 */
public final class Log {
    private static final System.Logger LOGGER = System.getLogger("dev.pauser");
    private static final String PREFIX = "pauser: ";
    private static volatile LogLevel threshold = LogLevel.INFO;
    private static volatile boolean shuttingDown;
    /** Whether a {@code System.LoggerFinder} other than the JDK's is installed; looked up once, at the first line. */
    private static volatile Boolean customLoggerFinder;

    private Log() {
    }

    public static void setThreshold(LogLevel level) {
        threshold = level;
    }

    /** Whether {@code log=debug}: lines worth composing only then. */
    public static boolean debugEnabled() {
        return threshold == LogLevel.DEBUG;
    }

    public static void info(String message) {
        log(LogLevel.INFO, Level.INFO, message);
    }

    public static void warn(String message) {
        log(LogLevel.WARNING, Level.WARNING, message);
    }

    public static void error(String message) {
        log(LogLevel.ERROR, Level.ERROR, message);
    }

    public static void debug(String message) {
        log(LogLevel.DEBUG, Level.DEBUG, message);
    }

    private static void log(LogLevel ours, Level jdk, String message) {
        LogLevel t = threshold;
        if (t == LogLevel.OFF || ours.ordinal() > t.ordinal()) {
            return;
        }
        String text = message.startsWith(PREFIX) ? message.substring(PREFIX.length()) : message;
        if (shuttingDown() || jdkLoggingUnconfigured()) {
            // Pauser's own format: JDK logging is unconfigured (its default format would add a header line), or the
            // JVM is shutting down (JDK logging's own shutdown hook may already have closed its handlers, and the line
            // would be lost: an asynchronous checkpoint committed while the JVM exits, say).
            System.err.println(line(ours, text));
            System.err.flush();
            return;
        }
        if (jdk == Level.DEBUG && !LOGGER.isLoggable(Level.DEBUG)) {
            // log=debug was asked for explicitly, but the app's logging drops DEBUG (FINE) for this logger
            LOGGER.log(Level.INFO, line(ours, text));
            return;
        }
        LOGGER.log(jdk, PREFIX + text);
    }

    /** The line as Pauser writes it itself: the prefix, the level unless it is INFO, the message. */
    static String line(LogLevel level, String text) {
        return level == LogLevel.INFO ? PREFIX + text : PREFIX + level.name() + ": " + text;
    }

    /**
     * True while JDK logging has its default configuration (see the class comment). Reads system properties, and
     * once, the service providers visible to the system class loader, as the JDK does to pick its logging backend.
     */
    private static boolean jdkLoggingUnconfigured() {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null
                || System.getProperty("java.util.logging.manager") != null) {
            return false;
        }
        Boolean custom = customLoggerFinder;
        if (custom == null) {
            try {
                custom = ServiceLoader.load(System.LoggerFinder.class, ClassLoader.getSystemClassLoader()).stream()
                        .findAny().isPresent();
            } catch (ServiceConfigurationError | SecurityException e) {
                custom = true; // a provider is declared, even if broken: its backend decides, not us
            }
            customLoggerFinder = custom;
        }
        return !custom;
    }

    /**
     * Whether the JVM is shutting down. The JDK offers no query; registering a shutdown hook is refused from the moment
     * shutdown starts, so a probe hook (never started) tells. Log lines are rare, so its cost does not matter.
     */
    private static boolean shuttingDown() {
        if (shuttingDown) {
            return true;
        }
        Thread probe = new Thread(() -> { }, "pauser-shutdown-probe");
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException inProgress) {
            shuttingDown = true;
            return true;
        }
    }

    /**
     * For the stop path: JDK logging may already be shut down by its own shutdown hook, so these lines go straight to
     * standard error.
     */
    public static void stderr(String message) {
        if (threshold != LogLevel.OFF) {
            System.err.println(PREFIX + message);
            System.err.flush();
        }
    }
}
