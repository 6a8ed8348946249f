package dev.pauser.agent;

import java.lang.System.Logger.Level;

/**
 * Pauser's log lines, through {@link System.Logger} (logger name {@code dev.pauser}), so they go wherever the app's
 * logging sends JDK logging; Pauser imposes no logging framework. The {@code log} option sets the lowest level written.
 */
public final class Log {
    private static final System.Logger LOGGER = System.getLogger("dev.pauser");
    private static volatile Config.LogLevel threshold = Config.LogLevel.INFO;
    private static volatile boolean shuttingDown;

    private Log() {
    }

    static void setThreshold(Config.LogLevel level) {
        threshold = level;
    }

    public static void info(String message) {
        log(Config.LogLevel.INFO, Level.INFO, message);
    }

    public static void warn(String message) {
        log(Config.LogLevel.WARNING, Level.WARNING, message);
    }

    public static void error(String message) {
        log(Config.LogLevel.ERROR, Level.ERROR, message);
    }

    public static void debug(String message) {
        log(Config.LogLevel.DEBUG, Level.DEBUG, message);
    }

    private static void log(Config.LogLevel ours, Level jdk, String message) {
        Config.LogLevel t = threshold;
        if (t == Config.LogLevel.OFF || ours.ordinal() > t.ordinal()) {
            return;
        }
        if (shuttingDown()) {
            // JDK logging's own shutdown hook may already have closed its handlers: the line would be lost (an
            // asynchronous checkpoint committed while the JVM exits, say)
            stderr(message.startsWith("pauser: ") ? message.substring("pauser: ".length()) : message);
            return;
        }
        if (jdk == Level.DEBUG && !LOGGER.isLoggable(Level.DEBUG)) {
            // log=debug was asked for explicitly, but JDK logging's default configuration drops DEBUG (FINE)
            LOGGER.log(Level.INFO, "pauser: [debug] " + message);
            return;
        }
        LOGGER.log(jdk, message.startsWith("pauser: ") ? message : "pauser: " + message);
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
    static void stderr(String message) {
        if (threshold != Config.LogLevel.OFF) {
            System.err.println("pauser: " + message);
            System.err.flush();
        }
    }
}
