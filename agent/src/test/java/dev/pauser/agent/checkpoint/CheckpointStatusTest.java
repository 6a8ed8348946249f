package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.LoadedCheckpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status record over a store round trip: what a resumed run reports, and when its state counts as unchanged. */
class CheckpointStatusTest {
    @TempDir
    Path dir;

    private static List<Entry> state(long step, String lr) {
        return List.of(new JsonEntry("step", "p.C", "long", Long.toString(step)),
                new JsonEntry("lr", "p.C", "double", lr));
    }

    @Test
    void aResumedRunReportsTheCheckpointItResumedFromUntilItCommitsOne() throws Exception {
        try (CheckpointStore store = CheckpointStore.open(dir)) {
            CheckpointStore.CommitResult first = store.commit(7, Map.of(), state(7, "0.5"));
            LoadedCheckpoint from = CheckpointReader.load(first.dir());
            CheckpointStatus status = new CheckpointStatus();
            status.resumedFrom(from, 1234);

            assertEquals(7, status.lastStep());
            assertEquals(7, status.durableStep());
            assertEquals(first.dir().toString(), status.lastPath());
            assertEquals(1234, status.lastBytes());
            assertEquals(from.wallTime().toEpochMilli(), status.lastTimeMillis());
            assertEquals(0, status.lastMillis(), "how long the resumed checkpoint took is not known here");
            CheckpointResult unchanged = status.unchanged();
            assertEquals(7, unchanged.step());
            assertEquals(first.dir().toString(), unchanged.path());
            assertFalse(unchanged.written());

            assertTrue(status.sameAsResumed(state(7, "0.5")), "every field has the stored CRC");
            assertFalse(status.sameAsResumed(state(7, "0.25")), "one field differs");
            assertFalse(status.sameAsResumed(state(7, "0.5").subList(0, 1)), "a field is missing");

            status.failed("disk full");
            assertEquals("disk full", status.lastError());
            CheckpointStore.CommitResult second = store.commit(9, Map.of(), state(9, "0.5"));
            status.committed(second, 40, 3_456_789); // the stall in nanoseconds
            assertEquals(9, status.lastStep());
            assertEquals(9, status.durableStep());
            assertEquals(second.dir().toString(), status.lastPath());
            assertEquals(second.bytes(), status.lastBytes());
            assertEquals(40, status.lastMillis());
            assertEquals(3, status.lastStallMillis());
            assertEquals(3_456, status.lastStallMicros());
            assertEquals("", status.lastError(), "a durable checkpoint clears the last error");
            assertFalse(status.sameAsResumed(state(7, "0.5")), "once this run committed, nothing is compared any more");
        }
    }
}
