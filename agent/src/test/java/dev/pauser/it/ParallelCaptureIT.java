package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.SplitArraysTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of arrays whose copy is split over several threads ({@link SplitArraysTrainer}: lengths around the split
 * points, several element sizes, rows of a 2-D array) hold exactly the state: each verifies ({@code pauser verify}),
 * and a run resumed from one ends with the state of an uninterrupted run without the agent, bit for bit. The child sees
 * eight processors ({@code -XX:ActiveProcessorCount=8}), so the copies are split four ways even on a two-core machine.
 */
class ParallelCaptureIT {
    private static final String TOTAL = "24";

    @TempDir
    Path tmp;

    private static ChildJvm.Builder trainer(Path dir, String options, String... args) {
        ChildJvm.Builder b = dir == null ? ChildJvm.builder().noAgent()
                : ChildJvm.builder().agent("dir=" + dir + (options.isEmpty() ? "" : "," + options));
        return b.jvmArg("-Xmx1g").jvmArg("-XX:ActiveProcessorCount=8").main(SplitArraysTrainer.class, args);
    }

    @Test
    void splitCopiesCheckpointAndResumeBitExactly() throws Exception {
        Path dir = tmp.resolve("ck");
        try (ChildJvm child = trainer(dir, "every=5,keep=10", "12", "2").start()) {
            Checkpoints.finish(child, "first run");
        }
        List<Path> written = Checkpoints.list(dir);
        assertFalse(written.isEmpty(), "the first run checkpointed");
        for (Path ckpt : written) {
            CliIT.Result verify = CliIT.pauser("verify", ckpt.toString());
            assertEquals(0, verify.exit(), verify.toString());
        }
        // from the earliest: an asynchronous capture at a safe point (the last one is the exit's held capture)
        Path from = written.get(0);
        String resumed;
        try (ChildJvm child = trainer(dir, "every=5,keep=10,resume=" + from, TOTAL, "0").start()) {
            resumed = Checkpoints.finish(child, "resumed run");
            assertEquals(Checkpoints.step(from), Checkpoints.resumedStep(child.output()), child.output());
            assertTrue(Checkpoints.steps(dir).stream().anyMatch(s -> s > 12), "the resumed run checkpointed too");
        }
        String reference;
        try (ChildJvm child = trainer(null, "", TOTAL, "0").start()) {
            reference = Checkpoints.finish(child, "reference run without the agent");
        }
        assertEquals(reference, resumed, "the resumed run ends with the state of an uninterrupted one");

        // and a run resumed from the resumed run's newest checkpoint (captured into the adopted staging)
        List<Path> now = Checkpoints.list(dir);
        Path newest = now.get(now.size() - 1);
        try (ChildJvm child = trainer(dir, "resume=" + newest, TOTAL, "0").start()) {
            assertEquals(reference, Checkpoints.finish(child, "run resumed from the resumed run's checkpoint"));
        }
    }
}
