package dev.pauser.agent.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.FileOutputStream;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which JVMs are expected to run a step: those running a program's main class, not the JDK's tools or pauser's. */
class StepReportTest {
    @TempDir
    Path tmp;

    @Test
    void aProgramsMainClassIsFoundFromTheLaunchersCommand() throws Exception {
        String agent = tmp.resolve("pauser.jar").toString();
        assertEquals("com.example.Train", StepReport.programMainClass("com.example.Train --steps 5", agent));
        assertEquals("com.example.Train", StepReport.programMainClass("my.module/com.example.Train", agent));
        assertEquals("com.example.Main", StepReport.programMainClass(jar("app.jar", "com.example.Main") + " a b", agent));
    }

    @Test
    void toolsAndEmbeddedJvmsExpectNoStep() throws Exception {
        String agent = jar("pauser.jar", "dev.pauser.cli.PauserCli");
        assertNull(StepReport.programMainClass(null, agent));
        assertNull(StepReport.programMainClass("  ", agent));
        assertNull(StepReport.programMainClass("jdk.jcmd/sun.tools.jps.Jps", agent));
        assertNull(StepReport.programMainClass("com.sun.tools.javac.launcher.Main Train.java", agent));
        assertNull(StepReport.programMainClass("jdk.internal.jshell.tool.JShellToolProvider", agent));
        assertNull(StepReport.programMainClass(agent + " list", agent));
        assertNull(StepReport.programMainClass(jar("copy-of-pauser.jar", "dev.pauser.cli.PauserCli") + " list", agent));
        assertNull(StepReport.programMainClass(tmp.resolve("missing.jar") + " x", agent));
    }

    @Test
    void toolJvmsAreToldFromProgramsSoTheAgentStaysOutOfTheirWay() throws Exception {
        String agent = jar("pauser.jar", "dev.pauser.launch.Launcher");
        assertTrue(StepReport.isTool("jdk.jcmd/sun.tools.jps.Jps", agent));
        assertTrue(StepReport.isTool("sun.tools.jcmd.JCmd 123 VM.version", agent));
        assertTrue(StepReport.isTool("jdk.internal.jshell.tool.JShellToolProvider", agent));
        assertTrue(StepReport.isTool(agent + " status 123", agent));
        assertTrue(StepReport.isTool(jar("copy-of-pauser.jar", "dev.pauser.launch.Launcher") + " list", agent));
        // programs, the single-file source launcher among them, and JVMs whose main is unknown
        assertFalse(StepReport.isTool("com.sun.tools.javac.launcher.Main Train.java", agent));
        assertFalse(StepReport.isTool("com.sun.tools.javac.launcher.SourceLauncher Train.java", agent));
        assertFalse(StepReport.isTool("com.example.Train --steps 5", agent));
        assertFalse(StepReport.isTool(jar("app.jar", "com.example.Main") + " a", agent));
        assertFalse(StepReport.isTool(null, agent));
        assertFalse(StepReport.isTool(tmp.resolve("missing.jar") + " x", agent));
    }

    private String jar(String name, String mainClass) throws Exception {
        File f = tmp.resolve(name).toFile();
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        try (JarOutputStream out = new JarOutputStream(new FileOutputStream(f), m)) {
            out.flush();
        }
        return f.getPath();
    }
}
