package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.fixture.ShuffleTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pauser check-resume -- java ...} end to end: the real command line ({@code java -jar pauser.jar}) runs the
 * fixture {@link ShuffleTrainer} three times under the agent and compares the checkpoints, as a user would run it.
 */
class CheckResumeIT {
    private static final Pattern LOG = Pattern.compile("\\(output: (.+)\\)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    /** {@code java -cp <fixtures> ShuffleTrainer args}, with the JDK under test. */
    private static List<String> trainer(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaExecutable().toString(), "-cp",
                ChildJvm.fixtureClassPath(), ShuffleTrainer.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static CliIT.Result checkResume(List<String> options, List<String> command) throws Exception {
        List<String> args = new ArrayList<>(List.of("check-resume"));
        args.addAll(options);
        args.add("--");
        args.addAll(command);
        return CliIT.pauser(args.toArray(new String[0]));
    }

    @Test
    void aProgramWhoseStateIsAllAnnotatedResumesExactlyAndItsScratchDirectoryIsRemoved() throws Exception {
        CliIT.Result r = checkResume(List.of("--at", "6", "--then", "9"), trainer("--steps", "100"));
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("run 1 of 3: straight through to step 15"), r.toString());
        assertTrue(r.out().contains("run 2 of 3: to step 6"), r.toString());
        assertTrue(r.out().contains("run 3 of 3: resumed from step 6 to step 15"), r.toString());
        assertTrue(r.out().strip().endsWith("resume is exact: the 3 fields of step 15 are identical"), r.toString());
        assertEquals("", r.err(), r.toString());
        Matcher m = LOG.matcher(r.out());
        assertTrue(m.find(), r.toString());
        Path work = Path.of(m.group(1)).getParent();
        assertFalse(Files.exists(work), "the scratch directory " + work + " is removed after an exact resume");
    }

    @Test
    void anUnannotatedStaticShuffleGeneratorIsCaughtAndNamedAsTheLikelyCause() throws Exception {
        Path work = dir.resolve("work");
        CliIT.Result r = checkResume(List.of("--at", "5", "--then", "10", "--work", work.toString()),
                trainer("--steps", "100", "--static-shuffle"));
        assertEquals(7, r.exit(), r.toString());
        String out = r.out();
        assertTrue(out.contains("resume is not exact: 1 of 3 fields differ at step 15:"), out);
        assertTrue(Pattern.compile("(?m)^  weights \\(float\\[\\]\\): \\d+ of 16 elements differ").matcher(out).find(),
                out);
        assertFalse(Pattern.compile("(?m)^  (shuffle|step) ").matcher(out).find(), "those agree: " + out);
        assertTrue(out.contains("while the random generators in the checkpoint agree"), out);
        assertTrue(out.contains("a static field or a random generator nobody annotated @TrainState"), out);
        // the checkpoints stay for a look, where it says
        assertTrue(Files.isDirectory(work.resolve("straight/ckpt-000000000015")), out);
        assertTrue(Files.isDirectory(work.resolve("resumed/ckpt-000000000015")), out);
        assertTrue(Files.isDirectory(work.resolve("resumed/ckpt-000000000005")), out);
        assertTrue(Files.readString(work.resolve("resumed.log")).contains("resuming from"),
                "the third run resumed: " + Files.readString(work.resolve("resumed.log")));
    }

    @Test
    void theJsonOutputListsTheDifferencesAndCauses() throws Exception {
        CliIT.Result r = checkResume(List.of("--json", "--at", "3", "--then", "4", "--work",
                dir.resolve("w").toString()), trainer("--static-shuffle"));
        assertEquals(7, r.exit(), r.toString());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertFalse(j.get("exact").asBoolean());
        assertEquals(7, j.get("step").asLong());
        assertEquals("weights", j.get("differences").get(0).get("key").asText());
        assertEquals(1, j.get("differences").size(), r.out());
        assertTrue(j.get("likelyCauses").get(0).asText().contains("static field"), r.out());
    }

    @Test
    void theUsersOwnAgentArgumentIsKeptWithItsOptionsAndOverriddenWhereTheCheckNeedsIt() throws Exception {
        Path userDir = dir.resolve("user-checkpoints");
        List<String> cmd = trainer("--steps", "50");
        cmd.add(1, "-javaagent:" + ChildJvm.agentJar() + "=dir=" + userDir + ",every=1,log=debug");
        Path work = dir.resolve("work");
        CliIT.Result r = checkResume(List.of("--at", "4", "--then", "4", "--work", work.toString()), cmd);
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().strip().endsWith("resume is exact: the 3 fields of step 8 are identical"), r.toString());
        assertFalse(Files.exists(userDir), "the user's directory is not used: " + r);
        String log = Files.readString(work.resolve("straight.log"));
        assertTrue(log.contains("pauser: DEBUG: "), "log=debug kept: " + log);
        try (Stream<Path> s = Files.list(work.resolve("straight"))) {
            assertEquals(List.of("ckpt-000000000008"), s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("ckpt-")).toList(), "every=1 overridden: " + log);
        }
        assertEquals(1, count(log, "pauser: agent "), "one agent: " + log);
    }

    @Test
    void aProgramThatEndsBeforeTheLastStepIsReportedWithItsStep() throws Exception {
        CliIT.Result r = checkResume(List.of("--at", "5", "--then", "10", "--work", dir.resolve("w").toString()),
                trainer("--steps", "9"));
        assertEquals(8, r.exit(), r.toString());
        String line = r.errLines().get(r.errLines().size() - 1);
        assertTrue(line.startsWith("pauser: run 1 (straight through to step 15) ended at step 10 without reaching "
                + "step 15"), line);
        assertTrue(line.contains("give it more steps, or smaller --at and --then"), line);
        assertTrue(r.out().contains("last lines of "), r.toString());
    }

    @Test
    void aWorkDirectoryThatIsNotEmptyIsAUsageErrorAndNothingRuns() throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "mine");
        CliIT.Result r = checkResume(List.of("--work", dir.toString()), trainer());
        assertEquals(2, r.exit(), r.toString());
        assertEquals("pauser: --work " + dir + " must be a new or empty directory", r.oneErrorLine());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("notes.txt"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aCommandThatIsNotJavaIsAUsageError() throws Exception {
        CliIT.Result r = checkResume(List.of(), List.of("./train.sh", "--fast"));
        assertEquals(2, r.exit(), r.toString());
        assertTrue(r.oneErrorLine().startsWith("pauser: check-resume runs a java command"), r.toString());
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
