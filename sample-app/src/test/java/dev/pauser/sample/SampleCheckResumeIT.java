package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.testkit.ChildJvmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pauser check-resume} on the sample app (CPU mode) as a user runs it: {@code java -jar pauser.jar check-resume
 * -- java -jar sample-app.jar ...}. The sample's weights, Adam moments, shuffle generator and data cursor are all
 * {@code @TrainState}, so its resume is exact.
 */
class SampleCheckResumeIT {
    @TempDir
    Path dir;

    @Test
    void theSampleAppResumesExactly() throws Exception {
        String java = ChildJvmProcess.javaExecutable().toString();
        Path work = dir.resolve("work");
        ToolRun r = ToolRun.run(dir, java, "-jar", ChildJvmProcess.agentJar().toString(), "check-resume",
                "--at", "150", "--then", "150", "--work", work.toString(), "--",
                java, "-jar", ChildJvmProcess.builtFile("pauser.test.appJar", "target/sample-app.jar").toString(),
                "--steps", "1000", "--log-every", "0");
        assertNotNull(r, "java could not be started");
        assertEquals(0, r.exit(), r.text());
        assertTrue(r.text().contains("run 3 of 3: resumed from step 150 to step 300"), r.text());
        assertTrue(r.text().strip().endsWith("fields of step 300 are identical"), r.text());
        assertTrue(r.text().contains("resume is exact: the "), r.text());
        // the resumed run really resumed, from the checkpoint of the run stopped at step 150
        String resumed = Files.readString(work.resolve("resumed.log"));
        assertTrue(resumed.contains("pauser: resuming from " + work.resolve("resumed/ckpt-000000000150")), resumed);
        assertTrue(Files.isDirectory(work.resolve("straight/ckpt-000000000300")), r.text());
    }
}
