package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.JsonEntry;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.fixture.ShuffleTrainer;
import dev.pauser.fixture.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code stopAtStep} option: the run stops after exactly that step, with a checkpoint there, and exits 0. */
class StopAtStepIT {
    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    @Test
    void noStepStartsAfterThatStepAndTheJvmExitsWithStatusZero() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",stopAtStep=9")
                .main(Trainer.class, "--steps", "500", "--delay-ms", "2", "--log").start()) {
            assertEquals(0, child.awaitExit(WAIT), child.output());
            String out = child.output();
            assertTrue(out.contains("end step=9\n"), out);
            assertFalse(out.contains("begin step=10\n"), "no step starts after the stop: " + out);
            assertFalse(out.contains("result="), "the program did not get to its end: " + out);
            assertTrue(out.contains("pauser: stopAtStep=9 reached: finishing in-flight steps"), out);
            assertTrue(out.contains("pauser: stopped at step 9; exiting with status 0"), out);
        }
    }

    @Test
    void theCheckpointHoldsTheStateAfterThatStepAndAResumedRunStopsAtItsOwnStep() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",stopAtStep=9")
                .main(ShuffleTrainer.class, "--steps", "100000").start()) {
            assertEquals(0, child.awaitExit(WAIT), child.output());
            assertFalse(child.output().contains("weights-hash="), child.output());
        }
        assertEquals("9", trainerStep(dir.resolve("ckpt-000000000009")));

        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",stopAtStep=12")
                .main(ShuffleTrainer.class, "--steps", "100000").start()) {
            assertEquals(0, child.awaitExit(WAIT), child.output());
            assertTrue(child.output().contains("resuming from "), child.output());
            assertTrue(child.output().contains("pauser: stopped at step 12; exiting with status 0"), child.output());
        }
        assertEquals("12", trainerStep(dir.resolve("ckpt-000000000012")));
        assertFalse(Files.exists(dir.resolve("ckpt-000000000013")));

        // a step already passed: the resumed run stops after its first step
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",stopAtStep=5")
                .main(ShuffleTrainer.class, "--steps", "100000").start()) {
            assertEquals(0, child.awaitExit(WAIT), child.output());
            assertTrue(child.output().contains("pauser: stopped at step 13; exiting with status 0"), child.output());
        }
        assertEquals("13", trainerStep(dir.resolve("ckpt-000000000013")));
    }

    /** The trainer's own step counter in a checkpoint: the steps that really ran. */
    private static String trainerStep(Path ckpt) throws Exception {
        LoadedCheckpoint c = CheckpointReader.load(ckpt);
        return ((JsonEntry) c.byKey().get("step")).json();
    }
}
