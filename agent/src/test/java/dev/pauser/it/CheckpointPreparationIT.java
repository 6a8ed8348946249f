package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.CheckpointOutcome;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.BigArrayTrainer;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first checkpoint is prepared in the background once the trainer registers: its staging is allocated before any
 * checkpoint is asked for (the child's direct buffer pool, over JMX), as far as the direct memory limit allows; a
 * checkpoint asked for right after the first step, while that preparation may still run (both then stage the same
 * fields), is complete and resumes exactly ({@code pauser verify}, then a resumed run against an uninterrupted one
 * without the agent).
 */
class CheckpointPreparationIT {
    private static final Duration LINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private static ChildJvm.Builder trainer(Path dir, String options, String maxDirect, String... args) {
        ChildJvm.Builder b = dir == null ? ChildJvm.builder().noAgent()
                : ChildJvm.builder().agent("dir=" + dir + (options.isEmpty() ? "" : "," + options));
        b.jvmArg("-Xmx400m");
        if (maxDirect != null) {
            b.jvmArg("-XX:MaxDirectMemorySize=" + maxDirect);
        }
        return b.main(BigArrayTrainer.class, args);
    }

    /** The child's direct buffer memory in use, from its platform MXBeans. */
    private static long directBytes(ChildJvm child) throws Exception {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(child.jmx(), BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b.getMemoryUsed();
            }
        }
        throw new AssertionError("the child has no direct buffer pool");
    }

    @Test
    void theStagingIsAllocatedBeforeTheFirstCheckpointIsAskedFor() throws Exception {
        try (ChildJvm child = trainer(tmp.resolve("ck"), "log=debug", null, "64", "100000000", "2").start()) {
            child.awaitLine(Pattern.quote("prepared the first checkpoint of " + BigArrayTrainer.class.getName())
                    + " in \\d+ ms: 64 MiB of capture staging", LINE);
            assertTrue(directBytes(child) >= 64L << 20, "direct memory after the preparation: " + directBytes(child));
            assertEquals(-1, child.pauser().getLastCheckpointStep(), "no checkpoint was asked for");
        }
    }

    @Test
    void thePreparationStaysWithinTheDirectMemoryLimit() throws Exception {
        // 64 MiB of state, 48 MiB of direct memory: the staging can't be prepared; nothing is allocated ahead
        try (ChildJvm child = trainer(tmp.resolve("ck"), "", "48m", "64", "100000000", "2").start()) {
            child.awaitLine(Pattern.quote("not preparing 64 MiB of capture staging for " + BigArrayTrainer.class.getName()
                    + " ahead"), LINE);
            assertTrue(directBytes(child) < 48L << 20, "direct memory: " + directBytes(child));
            PauserMXBean pauser = child.pauser();
            long step = pauser.getStep();
            Steps.awaitStepAfter(pauser, step); // training goes on
        }
    }

    @Test
    void aCheckpointRightAfterTheFirstStepIsCompleteAndResumesExactly() throws Exception {
        Path dir = tmp.resolve("ck");
        CheckpointOutcome first;
        try (ChildJvm child = trainer(dir, "", null, "64", "100000000", "2").start()) {
            child.awaitLine("ready", LINE);
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 0);
            first = pauser.checkpointAndWaitForOutcome(120_000);
            assertEquals(CheckpointOutcome.Status.DURABLE, first.status(), first.toString());
            pauser.stop();
            assertEquals(0, child.awaitExit(Duration.ofSeconds(120)), child.output());
        }
        CliIT.Result verify = CliIT.pauser("verify", first.path());
        assertEquals(0, verify.exit(), verify.toString());

        String total = Long.toString(first.step() + 20);
        String resumed;
        try (ChildJvm child = trainer(dir, "resume=" + first.path(), null, "64", total, "0").start()) {
            resumed = Checkpoints.finish(child, "resumed run");
            assertEquals(first.step(), Checkpoints.resumedStep(child.output()), child.output());
        }
        String reference;
        try (ChildJvm child = trainer(null, "", null, "64", total, "0").start()) {
            reference = Checkpoints.finish(child, "reference run without the agent");
        }
        assertFalse(reference.isEmpty());
        assertEquals(reference, resumed, "the resumed run ends with the state of an uninterrupted one");
    }
}
