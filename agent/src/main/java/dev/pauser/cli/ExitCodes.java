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
    /** {@code check-resume}: the resumed run's checkpoint differs from the straight run's. */
    static final int NOT_EXACT = 7;
    /** {@code check-resume}: a run of the program failed, hung, or ended without the checkpoint it was to write. */
    static final int RUN_FAILED = 8;

    private ExitCodes() {
    }

    /** Every code and what it means, for the top-level usage. */
    static Map<String, String> descriptions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(OK + "", "success");
        m.put(FAILED + "", "the command failed (the JVM refused it or the agent options, is stopping, a checkpoint "
                + "failed, or the connection broke)");
        m.put(USAGE + "", "bad command line");
        m.put(NOT_FOUND + "", "no JVM with that pid, or the Pauser agent is not loaded in it; no such checkpoint path");
        m.put(TIMED_OUT + "", "--wait timed out");
        m.put(CANNOT_ATTACH + "", "cannot reach the JVM (another user's, attach disabled, attach refused)");
        m.put(CORRUPT + "", "verify: a checkpoint is corrupt, or there is none; inspect: a manifest can't be read");
        m.put(NOT_EXACT + "", "check-resume: the resumed run ended with other state than the straight run");
        m.put(RUN_FAILED + "", "check-resume: a run of the program failed, timed out, or did not reach its step");
        return m;
    }

    /** The codes {@code command} can exit with, worded for it: each command's usage lists only its own. */
    static Map<String, String> forCommand(String command) {
        Map<String, String> m = new LinkedHashMap<>();
        switch (command) {
            case "list":
                m.put(OK + "", "success (also when no JVM runs the agent)");
                m.put(USAGE + "", "bad command line");
                return m;
            case "inspect":
            case "verify":
                m.put(OK + "", command.equals("verify") ? "every checkpoint verifies" : "every manifest reads");
                m.put(USAGE + "", "bad command line");
                m.put(NOT_FOUND + "", "no such path, or it is a file");
                m.put(CORRUPT + "", command.equals("verify")
                        ? "a checkpoint does not verify, or the directory holds none"
                        : "a manifest can't be read, or the directory holds no checkpoint");
                return m;
            case "check-resume":
                m.put(OK + "", "resume is exact");
                m.put(FAILED + "", "a checkpoint of the runs could not be read");
                m.put(USAGE + "", "bad command line");
                m.put(NOT_EXACT + "", "resume is not exact: fields differ (listed, with likely causes)");
                m.put(RUN_FAILED + "", "a run failed, timed out, or ended before its step (the end of its output "
                        + "is shown)");
                return m;
            case "job":
                m.put(OK + "", "success");
                m.put(FAILED + "", "cannot reach ZooKeeper, or it refused the request");
                m.put(USAGE + "", "bad command line, or a bad <connect>/<job>");
                m.put(NOT_FOUND + "", "no worker ever joined a job at that path");
                m.put(TIMED_OUT + "", "--wait timed out (pause, resume)");
                return m;
            case "attach":
                m.put(OK + "", "the agent is loaded (also when it already was)");
                m.put(FAILED + "", "the JVM rejected the agent options, or the agent did not start there");
                m.put(USAGE + "", "bad command line");
                m.put(NOT_FOUND + "", "no JVM with that pid");
                m.put(CANNOT_ATTACH + "", "cannot attach to the JVM (another user's, attach disabled, attach refused)");
                return m;
            default: // the commands that talk to a running agent: status, pause, resume, checkpoint, stop
                m.put(OK + "", "success");
                m.put(FAILED + "", command.equals("checkpoint")
                        ? "the checkpoint failed, the JVM refused the request or is stopping, or the connection broke"
                        : "the JVM refused the request or is stopping, or the connection broke");
                m.put(USAGE + "", "bad command line");
                m.put(NOT_FOUND + "", "no JVM with that pid, or the Pauser agent is not loaded in it");
                if (!command.equals("status") && !command.equals("resume")) {
                    m.put(TIMED_OUT + "", "--wait timed out");
                }
                m.put(CANNOT_ATTACH + "", "cannot reach the JVM (another user's, attach disabled, attach refused)");
                return m;
        }
    }
}
