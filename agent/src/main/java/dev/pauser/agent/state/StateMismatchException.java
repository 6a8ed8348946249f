package dev.pauser.agent.state;

import java.util.List;

/**
 * The checkpoint and the code disagree (a field removed, added, retyped or reshaped since the checkpoint was written).
 * Thrown by {@link StateRestore} in {@link StateRestore.OnMismatch#FAIL} mode before any field was written; the message
 * lists every mismatch, one per line.
 */
public class StateMismatchException extends StateException {
    private static final long serialVersionUID = 1L;

    public StateMismatchException(List<String> mismatches) {
        super("the checkpoint does not match the @TrainState fields of the code (" + mismatches.size()
                + (mismatches.size() == 1 ? " mismatch" : " mismatches")
                + "; fix the code, or resume with onMismatch=warn to keep the code's values for these fields)",
                mismatches);
    }

    /** One line per mismatch. */
    public List<String> mismatches() {
        return problems();
    }
}
