package dev.pauser.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.testkit.ChildJvmCommand;
import dev.pauser.testkit.ChildJvmProcess;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DL4J program under the agent, as its user runs it: {@code java -javaagent:pauser.jar -cp
 * pauser-dl4j.jar:<the program>:<DL4J> dev.pauser.dl4j.DropoutTrainer 40}, one BLAS thread. Killed with SIGKILL and
 * started again, it ends with the parameters, iteration and epoch counts of a run without the agent.
 */
class Dl4jResumeIT {
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final int STEPS = 40;
    private static final String RESULT = "dl4j-trainer: params-sha256=";
    /** The agent's line for a durable checkpoint: group 1 is its step. */
    private static final Pattern CHECKPOINT = Pattern.compile("pauser: checkpoint \\S+ \\(step (\\d+), ");
    private static String uninterrupted;

    private static final class Trainer extends ChildJvmProcess {
        private Trainer(Command command) throws IOException {
            super(command);
        }

        /** {@code agentOptions == null}: no agent; {@code args}: the trainer's, after the number of steps. */
        static Trainer start(String agentOptions, String... args) throws IOException {
            String dl4j = System.getProperty("pauser.test.dl4jClassPath");
            if (dl4j == null || dl4j.isBlank()) {
                fail("system property pauser.test.dl4jClassPath (DL4J's class path) is not set; run the test with "
                        + "mvn verify");
            }
            String classPath = String.join(File.pathSeparator,
                    builtFile("pauser.test.codecJar", "target/pauser-dl4j-0.1.0.jar").toString(),
                    System.getProperty("pauser.test.trainerClasses", "target/test-classes"), dl4j);
            Command c = new Command().standardErrorApart().env("OMP_NUM_THREADS", "1")
                    .main(classPath, DropoutTrainer.class.getName(), trainerArgs(args));
            return new Trainer(agentOptions == null ? c.noAgent() : c.agent(agentOptions));
        }

        private static String[] trainerArgs(String... more) {
            String[] all = new String[1 + more.length];
            all[0] = String.valueOf(STEPS);
            System.arraycopy(more, 0, all, 1, more.length);
            return all;
        }

        String result() {
            return stdout().stream().filter(l -> l.startsWith(RESULT)).findFirst()
                    .orElseGet(() -> fail("no result line: " + describe()));
        }
    }

    private static final class Command extends ChildJvmCommand<Command> {
        @Override
        protected Command self() {
            return this;
        }
    }

    @BeforeAll
    static void uninterruptedRunWithoutTheAgent() throws Exception {
        try (Trainer t = Trainer.start(null)) {
            assertEquals(0, t.awaitExit(WAIT), t.describe());
            uninterrupted = t.result();
            assertTrue(uninterrupted.endsWith(" iterations=" + STEPS + " epochs=0"), uninterrupted);
        }
    }

    @Test
    void killedWhileHeldAtAStepAndRestartedEndsWithTheUninterruptedParameters(@TempDir Path dir) throws Exception {
        // A checkpoint every 10 steps; the run is held at the end of step 25 and killed there. The restart resumes from
        // the last durable checkpoint (when the one due at step 20 was written is the agent's business: at 20 or later)
        // and trains the remaining steps again, dropout masks included.
        String options = "dir=" + dir + ",every=10";
        long durable;
        try (Trainer killed = Trainer.start(options + ",pauseAtStep=25,checkpointOnPause=false")) {
            killed.awaitLine("pauser: state \\S+ -> PAUSED at step 25$", WAIT);
            killed.awaitCondition("a checkpoint at step 20 or later", () -> lastCheckpointStep(killed) >= 20, WAIT);
            durable = lastCheckpointStep(killed);
            killed.signal("KILL");
            assertEquals(137, killed.awaitExit(WAIT), killed.describe());
            assertFalse(killed.stdout().stream().anyMatch(l -> l.startsWith(RESULT)), killed.describe());
        }
        try (Trainer resumed = Trainer.start(options)) {
            Matcher m = resumed.awaitLine("pauser: restored (\\d+) @TrainState fields of "
                    + Pattern.quote(DropoutTrainer.class.getName()) + " from \\S+ \\(step (\\d+), ", WAIT);
            assertEquals("2", m.group(1), resumed.describe());
            long resumedAt = Long.parseLong(m.group(2));
            assertTrue(resumedAt >= durable && resumedAt <= 25, "resumed at " + resumedAt + ", the last checkpoint "
                    + "seen was at " + durable + ": " + resumed.describe());
            assertEquals(0, resumed.awaitExit(WAIT), resumed.describe());
            assertTrue(resumed.stdout().contains("dl4j-trainer: starting at step " + resumedAt), resumed.describe());
            assertEquals(uninterrupted, resumed.result(), "resumed at step " + resumedAt + ": " + resumed.describe());
        }
    }

    @Test
    void aCheckpointOfAnotherSizeOfNetworkIsRefusedWithOneLineNamingTheField(@TempDir Path dir) throws Exception {
        String options = "dir=" + dir;
        try (Trainer first = Trainer.start(options)) {
            assertEquals(0, first.awaitExit(WAIT), first.describe()); // its exit checkpoint is at step 40
        }
        try (Trainer narrower = Trainer.start(options, "16")) {
            assertEquals(2, narrower.awaitExit(WAIT), narrower.describe());
            Matcher m = narrower.awaitLine("restoring 'net' \\(" + Pattern.quote(DropoutTrainer.class.getName())
                    + "\\.net\\) failed: (.*)$", WAIT);
            // 8x32+32 + 32x32+32 + 32x3+3 parameters saved; 8x16+16 + 16x16+16 + 16x3+3 in the network now
            assertEquals("the checkpoint holds 1443 floats of parameters, the network has 467 FLOAT: its "
                    + "configuration changed since the checkpoint", m.group(1), narrower.describe());
        }
    }

    /** The step of the last checkpoint the child's log line reported, 0 for none. */
    private static long lastCheckpointStep(ChildJvmProcess child) {
        Matcher m = CHECKPOINT.matcher(child.output());
        long last = 0;
        while (m.find()) {
            last = Math.max(last, Long.parseLong(m.group(1)));
        }
        return last;
    }
}
