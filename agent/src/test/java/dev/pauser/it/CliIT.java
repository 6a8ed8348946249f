package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end: {@code java -jar pauser.jar <command>} run as its own process, with the JDK under test,
 * against a child JVM running the fixture trainer. The children run far more steps than a test needs (the delay keeps
 * that to a minute at most) so none finishes on its own mid-test; try-with-resources ends them.
 */
class CliIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STEPS = "6000";

    @TempDir
    Path dir;

    /** What one process printed and how it ended. */
    record Result(int exit, String out, String err) {
        List<String> errLines() {
            return err.isBlank() ? List.of() : List.of(err.strip().split("\\R"));
        }

        /** A failing command prints exactly one line, on standard error, and nothing on standard output. */
        String oneErrorLine() {
            assertEquals(1, errLines().size(), "not one line on stderr: " + this);
            assertEquals("", out.strip(), "stdout of a failure: " + this);
            return errLines().get(0);
        }
    }

    /** Runs {@code java -jar pauser.jar args} with the JDK under test. */
    static Result pauser(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaExecutable().toString(), "-jar",
                ChildJvm.agentJar().toString()));
        cmd.addAll(List.of(args));
        return run(cmd, Duration.ofSeconds(120));
    }

    /** Runs a command to its end; stdout and stderr go to files, so neither pipe can fill up and block it. */
    static Result run(List<String> cmd, Duration timeout) throws Exception {
        Path out = Files.createTempFile("pauser-it-", ".out");
        Path err = Files.createTempFile("pauser-it-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", cmd) + " did not end within " + timeout + "; stdout:\n" + read(out)
                        + "\nstderr:\n" + read(err));
            }
            return new Result(p.exitValue(), read(out), read(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    private static JsonNode json(Result r) throws IOException {
        assertEquals(0, r.exit(), "exit status: " + r);
        return JSON.readTree(r.out());
    }

    static ChildJvm trainerWithAgent(Path dir, String delayMs) throws IOException {
        return ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", STEPS, "--delay-ms", delayMs, "--log").start();
    }

    /** Step stays where it is for a while: the run is held, not just slow. */
    static long assertStepStill(PauserMXBean pauser) throws InterruptedException {
        long step = pauser.getStep();
        Thread.sleep(300);
        assertEquals(step, pauser.getStep(), "Step moved while paused");
        return step;
    }

    static void assertStepsContinue(PauserMXBean pauser, long from) throws InterruptedException {
        Steps.awaitStepAfter(pauser, from + 2);
    }

    @Test
    void pauseWaitHoldsTheRunStatusAndListShowItAndResumeContinues() throws Exception {
        try (ChildJvm child = trainerWithAgent(dir, "10")) {
            child.awaitLine("done step=5", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());

            Result paused = pauser("pause", pid, "--wait=60s");
            assertEquals(0, paused.exit(), paused.toString());
            assertTrue(paused.out().contains("PAUSED"), paused.toString());

            PauserMXBean mbean = child.pauser();
            long step = assertStepStill(mbean);
            JsonNode status = json(pauser("status", pid, "--json"));
            assertEquals("PAUSED", status.get("state").asText());
            assertTrue(status.get("paused").asBoolean());
            assertEquals(step, status.get("step").asLong());
            assertEquals(child.pid(), status.get("pid").asLong());
            assertTrue(status.get("pausedSinceMillis").asLong() > 0);
            assertEquals(1, status.get("trainerThreads").asInt());
            assertEquals(dir.toAbsolutePath().normalize().toString(), status.get("directory").asText());
            assertFalse(status.get("version").asText().isBlank());

            Result list = pauser("list");
            assertEquals(0, list.exit(), list.toString());
            Matcher row = Pattern.compile("(?m)^" + pid + "\\s+PAUSED\\s+" + step + "\\s+" + Trainer.class.getName())
                    .matcher(list.out());
            assertTrue(row.find(), "no row for " + pid + " in:\n" + list.out());
            JsonNode rows = json(pauser("list", "--json"));
            JsonNode mine = null;
            for (JsonNode r : rows) {
                if (r.get("pid").asLong() == child.pid()) {
                    mine = r;
                }
            }
            assertTrue(mine != null, "pid " + pid + " not in " + rows);
            assertEquals("PAUSED", mine.get("state").asText());
            assertEquals(Trainer.class.getName(), mine.get("mainClass").asText());

            Result resumed = pauser("resume", pid, "--json");
            assertEquals("RUNNING", json(resumed).get("state").asText(), resumed.toString());
            assertStepsContinue(mbean, step);
            assertEquals("RUNNING", json(pauser("status", pid, "--json")).get("state").asText());
        }
    }

    @Test
    void pauseWithoutWaitReturnsAtOnceAndTheRunPauses() throws Exception {
        try (ChildJvm child = trainerWithAgent(dir, "10")) {
            child.awaitLine("done step=5", Duration.ofSeconds(60));
            Result r = pauser("pause", Long.toString(child.pid()), "--json");
            String state = json(r).get("state").asText();
            assertTrue(state.equals("PAUSING") || state.equals("PAUSED"), r.toString());
            PauserMXBean mbean = child.pauser();
            assertEquals("PAUSED", mbean.pauseAndWait(60_000));
        }
    }

    /** A step longer than the wait: exit 4 with one line, and the pause still takes effect once the step ends. */
    @Test
    void pauseWaitTimesOutWhileAStepRuns() throws Exception {
        // a 20 s step: the command line (a JVM of its own, slow to start on a busy machine) reaches the run while the
        // first step is still in flight
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", "20", "--delay-ms", "20000", "--log").start()) {
            child.awaitLine("ready", Duration.ofSeconds(60));
            PauserMXBean mbean = child.pauser();
            // the worker is inside its first step once it is counted
            Steps.await("the worker counted", 60_000, () -> mbean.getTrainerThreads() > 0);
            String pid = Long.toString(child.pid());
            Result r = pauser("pause", pid, "--wait=200ms");
            assertEquals(4, r.exit(), r.toString());
            String line = r.oneErrorLine();
            assertTrue(line.startsWith("pauser: JVM " + pid + " did not pause within 200ms (state PAUSING"), line);
            assertEquals("PAUSING", mbean.getState(), "the pause stays requested after the timeout");
            assertEquals("PAUSED", mbean.pauseAndWait(60_000), "the pause takes effect when the step ends");
        }
    }

    @Test
    void statusOfAPidWithNoProcessFailsWithOneLine() throws Exception {
        long pid = unusedPid();
        Result r = pauser("status", Long.toString(pid));
        assertEquals(3, r.exit(), r.toString());
        assertEquals("pauser: no JVM with pid " + pid, r.oneErrorLine());
    }

    @Test
    void statusOfAJvmWithoutTheAgentSaysHowToLoadIt() throws Exception {
        try (ChildJvm child = ChildJvm.builder().noAgent().main(Trainer.class, "--steps", STEPS, "--delay-ms", "10")
                .start()) {
            child.awaitLine("ready", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            Result r = pauser("status", pid);
            assertEquals(3, r.exit(), r.toString());
            assertEquals("pauser: JVM " + pid + " does not run the Pauser agent; load it with: pauser attach " + pid,
                    r.oneErrorLine());
            Result p = pauser("pause", pid, "--wait", "--json");
            assertEquals(3, p.exit(), p.toString());
            assertTrue(p.oneErrorLine().contains("does not run the Pauser agent"), p.toString());
        }
    }

    /**
     * The agent loaded into a trainer already inside its steps: the loaded {@code @TrainStep} class is retransformed,
     * and pause and resume then work as with -javaagent.
     */
    @Test
    void attachLoadsTheAgentIntoARunningTrainer() throws Exception {
        try (ChildJvm child = ChildJvm.builder().noAgent()
                .main(Trainer.class, "--steps", STEPS, "--delay-ms", "10", "--log").start()) {
            child.awaitLine("done step=5", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());

            Result bogus = pauser("attach", pid, "bogus=1");
            assertEquals(1, bogus.exit(), bogus.toString());
            String line = bogus.oneErrorLine();
            assertTrue(line.startsWith("pauser: ") && line.contains("'bogus'"), line);
            assertTrue(child.process().isAlive(), "a bad option must not hurt the running program");

            Result attached = pauser("attach", pid, "dir=" + dir, "log=info");
            assertEquals(0, attached.exit(), attached.toString());
            assertTrue(attached.out().contains("loaded the Pauser agent"), attached.toString());

            Result paused = pauser("pause", pid, "--wait=60s");
            assertEquals(0, paused.exit(), paused.toString());
            PauserMXBean mbean = child.pauser();
            assertEquals("PAUSED", mbean.getState());
            long step = assertStepStill(mbean);
            assertTrue(step > 0, "the retransformed step method does not count steps");
            assertEquals(dir.toString(), mbean.getDirectory());

            Result resumed = pauser("resume", pid);
            assertEquals(0, resumed.exit(), resumed.toString());
            assertStepsContinue(mbean, step);

            Result again = pauser("attach", pid, "--json");
            JsonNode j = json(again);
            assertTrue(j.get("alreadyLoaded").asBoolean(), again.toString());
            assertFalse(j.get("loaded").asBoolean(), again.toString());
        }
    }

    @Test
    void stopFinishesTheStepInFlightAndTheJvmExitsZero() throws Exception {
        try (ChildJvm child = trainerWithAgent(dir, "20")) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            Result r = pauser("stop", Long.toString(child.pid()), "--wait=60s", "--json");
            assertTrue(json(r).get("exited").asBoolean(), r.toString());
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
            String output = child.output();
            Matcher stopped = Pattern.compile("stopped at step (\\d+); exiting with status 0").matcher(output);
            assertTrue(stopped.find(), output);
            long stoppedAt = Long.parseLong(stopped.group(1));
            Matcher done = Pattern.compile("done step=(\\d+)").matcher(output);
            long lastDone = 0;
            while (done.find()) {
                lastDone = Long.parseLong(done.group(1));
            }
            // The step in flight ran to its end (counted), and none started after: the one thread is held either at
            // the exit of that step (before its "done" line) or at the entry of the next.
            assertTrue(stoppedAt == lastDone || stoppedAt == lastDone + 1,
                    "stopped at " + stoppedAt + ", last step done " + lastDone);
        }
    }

    @Test
    void helpVersionAndUsageErrors() throws Exception {
        Result help = pauser("--help");
        assertEquals(0, help.exit(), help.toString());
        for (String s : List.of("Usage: pauser", "list", "status", "pause", "resume", "stop", "attach", "Exit codes")) {
            assertTrue(help.out().contains(s), "--help lacks " + s + ":\n" + help.out());
        }
        Result pauseHelp = pauser("pause", "--help");
        assertEquals(0, pauseHelp.exit(), pauseHelp.toString());
        assertTrue(pauseHelp.out().contains("--wait"), pauseHelp.out());
        assertTrue(pauseHelp.out().contains("  4   --wait timed out"), pauseHelp.out());
        // each command lists its own exit codes only
        Result statusHelp = pauser("status", "--help");
        assertFalse(statusHelp.out().contains("  4   "), statusHelp.out());
        assertFalse(statusHelp.out().contains("  6   "), statusHelp.out());
        Result inspectHelp = pauser("inspect", "--help");
        assertTrue(inspectHelp.out().contains("  6   "), inspectHelp.out());
        assertFalse(inspectHelp.out().contains("  5   "), inspectHelp.out());
        // attach lists every agent option with its default
        Result attachHelp = pauser("attach", "--help");
        for (String option : List.of("dir=", "onSignal=", "graceSeconds=", "every=", "interval=", "keep=", "keepEvery=",
                "resume=", "onMismatch=", "async=", "checkpointOnPause=", "pauseAtStep=", "stopAtStep=", "log=",
                "step=", "state=", "config=")) {
            assertTrue(attachHelp.out().contains("\n  " + option), "attach --help lacks " + option + ":\n"
                    + attachHelp.out());
        }
        assertTrue(attachHelp.out().contains("default ./pauser"), attachHelp.out());

        Result version = pauser("--version");
        assertEquals(0, version.exit(), version.toString());
        assertTrue(version.out().startsWith("pauser "), version.out());

        // usage errors: exit 2 and one line pointing at the help
        Result none = pauser();
        assertEquals(2, none.exit(), none.toString());
        assertEquals("pauser: Missing required subcommand (see pauser --help)", none.oneErrorLine());
        Result badWait = pauser("pause", "1", "--wait=soon");
        assertEquals(2, badWait.exit(), badWait.toString());
        assertTrue(badWait.oneErrorLine().contains("'soon' is not a timeout"), badWait.toString());
        Result badPid = pauser("status", "abc");
        assertEquals(2, badPid.exit(), badPid.toString());
        assertTrue(badPid.oneErrorLine().endsWith("(see pauser status --help)"), badPid.toString());
        Result misspelt = pauser("pasue", "1");
        assertEquals(2, misspelt.exit(), misspelt.toString());
        assertTrue(misspelt.oneErrorLine().startsWith("pauser: unknown command 'pasue'; did you mean pause"),
                misspelt.toString());
    }

    /** A pid no process has now: counted down from Linux's largest possible pid (2^22 - 1), rarely handed out. */
    static long unusedPid() {
        for (long pid = (1 << 22) - 1; pid > 1; pid--) {
            if (ProcessHandle.of(pid).isEmpty()) {
                return pid;
            }
        }
        throw new IllegalStateException("no free pid");
    }
}
