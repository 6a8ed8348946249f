package dev.pauser.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pauser.agent.checkpoint.CheckpointResult;
import dev.pauser.agent.contract.CheckpointOutcome;
import dev.pauser.agent.contract.CheckpointOutcome.Status;
import org.junit.jupiter.api.Test;

/** Each finished checkpoint request becomes the typed outcome its line describes. */
class PauserControlTest {

    @Test
    void aWrittenCheckpointIsDurableWithItsPathSizeAndLine() {
        CheckpointResult r = new CheckpointResult(42, "/c/ckpt-000000000042", 4096, 12, true, "");
        assertEquals(new CheckpointOutcome(Status.DURABLE, 42, "/c/ckpt-000000000042", 4096, 12, "", r.describe()),
                PauserControl.outcome(r));
    }

    @Test
    void nothingWrittenIsAlreadyDurableWhereACheckpointHoldsTheStateAndNothingToSaveOtherwise() {
        CheckpointResult held = new CheckpointResult(42, "/c/ckpt-000000000042", 4096, 0, false, "");
        assertEquals(Status.ALREADY_DURABLE, PauserControl.outcome(held).status());
        assertEquals(held.describe(), PauserControl.outcome(held).message());
        assertEquals("/c/ckpt-000000000042", PauserControl.outcome(held).path());

        CheckpointResult none = new CheckpointResult(0, "", 0, 0, false, "");
        assertEquals(Status.NOTHING_TO_SAVE, PauserControl.outcome(none).status());
    }

    @Test
    void aFailureCarriesItsErrorAndTheLineStartingCheckpointFailed() {
        CheckpointResult r = new CheckpointResult(7, "", 0, 0, false, "No space left on device");
        CheckpointOutcome o = PauserControl.outcome(r);
        assertEquals(Status.FAILED, o.status());
        assertEquals(7, o.step());
        assertEquals("No space left on device", o.error());
        assertEquals("checkpoint failed: No space left on device", o.message());
    }
}
