package dev.pauser.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentCommandLineTest {
    @TempDir
    Path dir;

    private Path jar(String name, String premainClass) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", premainClass);
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p); JarOutputStream j = new JarOutputStream(out, m)) {
            j.flush();
        }
        return p;
    }

    private static Map<String, String> options() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("dir", "/w/straight");
        m.put("stopAtStep", "40");
        return m;
    }

    @Test
    void withoutTheAgentInTheCommandThisJarIsAddedAfterTheLauncher() {
        AgentCommandLine c = AgentCommandLine.of(List.of("/jdk/bin/java", "-Xmx1g", "-jar", "app.jar", "--steps", "9"),
                Path.of("/opt/pauser.jar"));
        assertEquals(List.of("/jdk/bin/java", "-javaagent:/opt/pauser.jar=dir=/w/straight,stopAtStep=40", "-Xmx1g",
                "-jar", "app.jar", "--steps", "9"), c.with(options()));
    }

    @Test
    void theUsersPauserAgentIsKeptWithItsOptionsAndOursWin() throws IOException {
        Path theirs = jar("renamed.jar", AgentCommandLine.PREMAIN_CLASS);
        Path other = jar("other-agent.jar", "com.example.Agent");
        List<String> cmd = List.of("java", "-javaagent:" + other + "=x=1", "-javaagent:" + theirs
                + "=dir=/mine,every=5,log=debug", "-cp", "c", "Main");
        List<String> run = AgentCommandLine.of(cmd, Path.of("/opt/pauser.jar")).with(options());
        assertEquals(List.of("java", "-javaagent:" + other + "=x=1", "-javaagent:" + theirs
                + "=dir=/w/straight,every=5,log=debug,stopAtStep=40", "-cp", "c", "Main"), run);
    }

    @Test
    void aCommandThatIsNotJavaIsRefusedWithTheFix() {
        CliException e = assertThrows(CliException.class,
                () -> AgentCommandLine.of(List.of("./train.sh", "-x"), Path.of("/opt/pauser.jar")));
        assertEquals(ExitCodes.USAGE, e.exitCode());
        assertEquals("check-resume runs a java command: give it as '-- java [options] <main class or -jar app.jar> "
                + "[args]', not './train.sh ...'", e.getMessage());
    }
}
