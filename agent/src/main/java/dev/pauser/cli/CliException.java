package dev.pauser.cli;

/**
 * An expected failure: its message is the one line the user sees (after "pauser: "), its code the exit status. No stack
 * trace is printed for it, since it names a situation (no such JVM, a timeout), not a bug.
 */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
