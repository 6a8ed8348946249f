package dev.pauser.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** The exit statuses of every command: distinct, so scripts can tell "not there" from "too slow" from "broken". */
final class ExitCodes {
    static final int OK = 0;
    /** The command failed: the target rejected the agent options, the JVM is stopping, the connection broke. */
    static final int FAILED = 1;
    /** Bad command line; picocli's own code for usage errors. */
    static final int USAGE = 2;
    /** No JVM with that pid, or the Pauser agent is not loaded in it. */
    static final int NOT_FOUND = 3;
    /** A --wait ran out before the JVM got there. */
    static final int TIMED_OUT = 4;
    /** The JVM is there but would not let us in (attach refused, another user, attach disabled). */
    static final int CANNOT_ATTACH = 5;
    /** {@code verify} found a checkpoint that does not verify (or none at all), {@code inspect} one it can't read. */
    static final int CORRUPT = 6;

    private ExitCodes() {
    }

    /** The list printed under "Exit codes:" in every command's usage. */
    static Map<String, String> descriptions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(OK + "", "success");
        m.put(FAILED + "", "the command failed (the JVM rejected the agent options, is stopping, or the connection broke)");
        m.put(USAGE + "", "bad command line");
        m.put(NOT_FOUND + "", "no JVM with that pid, or the Pauser agent is not loaded in it");
        m.put(TIMED_OUT + "", "--wait timed out");
        m.put(CANNOT_ATTACH + "", "cannot attach to the JVM (another user, attach disabled, attach refused)");
        m.put(CORRUPT + "", "verify: a checkpoint is corrupt, or there is none; inspect: a manifest can't be read");
        return m;
    }
}
