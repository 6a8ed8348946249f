package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.agent.contract.PauserMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JMX client not written here, jmxterm, drives the agent's MBean by name alone (open types: it needs none of our
 * classes): pause, read State, resume.
 */
class JmxtermIT {
    private static final String MBEAN = "-b dev.pauser:type=Pauser";

    @TempDir
    Path dir;

    @Test
    void jmxtermPausesAndResumesTheRun() throws Exception {
        try (ChildJvm child = CliIT.trainerWithAgent(dir, "10")) {
            child.awaitLine("done step=5", Duration.ofSeconds(60));
            long pid = child.pid();
            Path java = jmxtermJava(pid);
            System.out.println("jmxterm runs on " + java + ", the child on " + ChildJvm.javaExecutable());

            // pause returns at once, so State is read after pauseAndWait: the script cannot sleep
            CliIT.Result paused = jmxterm(java, "open " + pid, "run " + MBEAN + " pause",
                    "run " + MBEAN + " pauseAndWait 60000", "get " + MBEAN + " State");
            assertTrue(paused.out().contains("State = PAUSED;"), paused.toString());
            PauserMXBean mbean = child.pauser();
            long step = CliIT.assertStepStill(mbean);

            CliIT.Result resumed = jmxterm(java, "open " + pid, "run " + MBEAN + " resume");
            assertTrue(resumed.err().contains("#calling operation resume"), resumed.toString());
            CliIT.assertStepsContinue(mbean, step);
            assertEquals("RUNNING", mbean.getState());
        }
    }

    /**
     * The java to run jmxterm with: the JDK under test, else (if jmxterm cannot open the pid from there) the JDK running
     * the tests. jmxterm finds a local JVM through JConsole's internals, hence the --add-exports the GUIDE names.
     */
    private Path jmxtermJava(long pid) throws Exception {
        Path underTest = ChildJvm.javaExecutable();
        Path testing = Paths.get(System.getProperty("java.home"), "bin", "java");
        CliIT.Result probe = jmxterm(underTest, "open " + pid);
        if (opened(probe)) {
            return underTest;
        }
        if (!underTest.equals(testing)) {
            CliIT.Result second = jmxterm(testing, "open " + pid);
            Assumptions.assumeTrue(opened(second), "jmxterm cannot open pid " + pid + " from " + underTest + " ("
                    + probe.err().strip() + ") nor from " + testing + " (" + second.err().strip() + ")");
            return testing;
        }
        fail("jmxterm cannot open pid " + pid + ": " + probe);
        return null;
    }

    private static boolean opened(CliIT.Result r) {
        return r.exit() == 0 && r.err().contains("#Connection to");
    }

    private CliIT.Result jmxterm(Path java, String... script) throws Exception {
        String jar = System.getProperty("pauser.test.jmxterm");
        if (jar == null || jar.isBlank() || !Files.isRegularFile(Paths.get(jar))) {
            fail("jmxterm jar not found (system property pauser.test.jmxterm = " + jar + "); run with mvn verify");
        }
        Path file = Files.createTempFile(dir, "jmxterm-", ".txt");
        Files.write(file, List.of(script), StandardCharsets.UTF_8);
        return CliIT.run(List.of(java.toString(), "--add-exports", "jdk.jconsole/sun.tools.jconsole=ALL-UNNAMED",
                "-jar", jar, "-n", "-i", file.toString()), Duration.ofSeconds(120));
    }
}
