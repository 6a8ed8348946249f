package dev.pauser.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.RuntimeMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The kit driving real child JVMs (without the agent: the kit knows nothing of it) that run {@link ScriptedChild}. */
class ChildJvmProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(120);

    /** The command of the kit's tests: {@code java -cp test-classes ScriptedChild steps}. */
    private static final class Command extends ChildJvmCommand<Command> {
        @Override
        protected Command self() {
            return this;
        }

        Command script(String... steps) {
            return noAgent().main(ChildJvmProcess.codeSource(ScriptedChild.class), ScriptedChild.class.getName(), steps);
        }

        ChildJvmProcess start() throws IOException {
            return new ChildJvmProcess(this);
        }
    }

    @Test
    void standardErrorReadApartIsPrefixedInTheOutputAndLeftOutOfStandardOutput() throws Exception {
        try (ChildJvmProcess child = new Command().standardErrorApart()
                .script("out:first", "err:complaint", "out:second", "exit:3").start()) {
            assertEquals(3, child.awaitExit(WAIT), child.describe());
            assertEquals(List.of("first", "second"), child.stdout(), child.describe());
            assertTrue(child.output().contains(ChildJvmProcess.STANDARD_ERROR_PREFIX + "complaint"), child.describe());
            assertEquals("complaint", child.awaitLine("^err\\| (\\w+)$", WAIT).group(1));
        }
    }

    @Test
    void standardErrorIsMergedIntoStandardOutputByDefault() throws Exception {
        try (ChildJvmProcess child = new Command().script("out:first", "err:complaint", "exit:0").start()) {
            assertEquals(0, child.awaitExit(WAIT), child.describe());
            assertTrue(child.stdout().containsAll(List.of("first", "complaint")), child.describe());
            assertTrue(!child.output().contains(ChildJvmProcess.STANDARD_ERROR_PREFIX), child.describe());
        }
    }

    @Test
    void aSignalEndsTheChildWithTheShellsStatusForIt() throws Exception {
        try (ChildJvmProcess child = new Command().script("out:ready", "wait").start()) {
            child.awaitLine("^ready$", WAIT);
            child.signal("TERM");
            assertEquals(143, child.awaitExit(WAIT), child.describe());
        }
    }

    @Test
    void aLineThatNeverComesFailsTheWaitWithTheCommandAndTheOutput() throws Exception {
        try (ChildJvmProcess child = new Command().script("out:ready", "wait").start()) {
            child.awaitLine("^ready$", WAIT);
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> child.awaitLine("^never$", Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("/^never$/"), e.getMessage());
            assertTrue(e.getMessage().contains(ScriptedChild.class.getName()), e.getMessage());
            assertTrue(e.getMessage().contains("\nready"), e.getMessage());
        }
    }

    @Test
    void aConditionFailsAsSoonAsTheChildHasExited() throws Exception {
        try (ChildJvmProcess child = new Command().script("exit:7").start()) {
            assertEquals(7, child.awaitExit(WAIT), child.describe());
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> child.awaitCondition("something that never holds", () -> false, WAIT));
            assertTrue(e.getMessage().contains("exited (status 7) before something that never holds"), e.getMessage());
        }
    }

    @Test
    void theMBeansOfTheChildAreReachedThroughTheAttachApi() throws Exception {
        try (ChildJvmProcess child = new Command().script("out:ready", "wait").start()) {
            child.awaitLine("^ready$", WAIT);
            RuntimeMXBean runtime = child.mxBean("java.lang:type=Runtime", RuntimeMXBean.class);
            assertEquals(child.pid(), runtime.getPid());
        }
    }

    @Test
    void aLauncherExecsTheJvmInTheGivenDirectoryAndEnvironmentWithoutPauserVariables(@TempDir Path dir)
            throws Exception {
        // the pom gives this test's JVM PAUSER_KIT_PROBE, standing for an option in the shell that runs the build
        assertEquals("from-the-build", System.getenv("PAUSER_KIT_PROBE"), "surefire's environmentVariables");
        try (ChildJvmProcess child = new Command().launcher("env").workDir(dir).env("KIT_PROBE", "set")
                .script("pid", "cwd", "env:KIT_PROBE", "env:PAUSER_KIT_PROBE", "exit:0").start()) {
            assertEquals(0, child.awaitExit(WAIT), child.describe());
            assertEquals("env", child.command().get(0));
            assertEquals(Long.toString(child.pid()), child.awaitLine("^pid=(\\d+)$", WAIT).group(1), child.describe());
            assertTrue(Files.isSameFile(dir, Path.of(child.awaitLine("^cwd=(.+)$", WAIT).group(1))), child.describe());
            assertTrue(child.stdout().contains("KIT_PROBE=set"), child.describe());
            assertTrue(child.stdout().contains("PAUSER_KIT_PROBE unset"), child.describe());
        }
    }

    @Test
    void aBuiltFileThatIsMissingFailsWithThePropertyToSet(@TempDir Path dir) {
        String property = "pauser.testkit.probe";
        Path missing = dir.resolve("absent.jar");
        System.setProperty(property, missing.toString());
        try {
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> ChildJvmProcess.builtFile(property, "unused"));
            assertTrue(e.getMessage().contains(missing + " is not built (system property " + property + ")"),
                    e.getMessage());
            assertTrue(Files.notExists(missing));
        } finally {
            System.clearProperty(property);
        }
    }
}
