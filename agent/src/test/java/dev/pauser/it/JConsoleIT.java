package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real JConsole, on a virtual X display (Xvfb), connected by pid to a training JVM: the buttons of the MBeans tab are
 * clicked and the run's state is read back through the command line. The clicking is done inside JConsole by
 * {@link dev.pauser.it.jconsole.ClickingPlugin}, loaded with {@code -pluginpath}: it finds the Pauser MBean's operation
 * buttons in JConsole's Swing tree and clicks them, so each call goes through JConsole's own GUI and connection, as a
 * user's click does (screen coordinates, as xdotool would need, depend on fonts and window placement).
 * Skipped where no Xvfb binary is installed ({@code .ci/run} installs the Debian package {@code xvfb}).
 */
class JConsoleIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PLUGIN_PACKAGE = "dev/pauser/it/jconsole/";
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void pauseAndResumeClickedInTheMBeansTabReachTheRunAndARefusedWriteShowsItsReason(TestInfo test)
            throws Exception {
        Path jconsole = ChildJvm.javaExecutable().resolveSibling("jconsole");
        Assumptions.assumeTrue(Files.isExecutable(jconsole), "this JDK has no jconsole: " + jconsole);
        Path xvfb = onPath("Xvfb");
        Assumptions.assumeTrue(xvfb != null, "no Xvfb binary, so no display server for JConsole: install the Debian "
                + "package xvfb (.ci/run does)");
        Path plugin = pluginJar(dir.resolve("clicking-plugin.jar"));
        Path script = Files.createDirectory(dir.resolve("script"));
        Path guiLog = dir.resolve("jconsole.log");

        try (Display display = Display.start(xvfb, dir.resolve("xvfb.log"));
                ChildJvm child = ChildJvm.builder().agent("dir=" + dir.resolve("pauser"))
                        .main(Trainer.class, "--steps", "1000000", "--delay-ms", "5", "--log").start()) {
            child.awaitLine("done step=2", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            // timeout: a JConsole that cannot reach its display hangs instead of failing
            ProcessBuilder pb = new ProcessBuilder("timeout", Long.toString(WAIT.toSeconds() + 30), jconsole.toString(),
                    "-J-Dpauser.jconsole.dir=" + script, "-pluginpath", plugin.toString(), pid)
                    .redirectErrorStream(true).redirectOutput(guiLog.toFile());
            pb.environment().put("DISPLAY", display.name());
            Process gui = pb.start();
            try {
                assertEquals("Method successfully invoked", awaitFile(script, "pause.clicked", gui, guiLog));
                JsonNode paused = awaitCliState(pid, "PAUSED");
                PauserMXBean pauser = child.pauser();
                Steps.assertStepHeld(pauser, 300);
                assertEquals(paused.get("step").asLong(), pauser.getStep());

                Files.createFile(script.resolve("resume.go"));
                assertEquals("Method successfully invoked", awaitFile(script, "resume.clicked", gui, guiLog));
                awaitCliState(pid, "RUNNING");
                Steps.awaitStepAfter(pauser, paused.get("step").asLong());

                // PauseAtStep=0 typed into the Attributes page: JConsole's error dialog says why, nothing changes
                assertEquals("PauseAtStep must be a step number of 1 or more, or -1 for none; got 0",
                        awaitFile(script, "PauseAtStep.written", gui, guiLog).strip());
                assertEquals(-1, pauser.getPauseAtStep());
                assertEquals("RUNNING", pauser.getState());
            } catch (Throwable e) {
                Path shot = display.screenshot(Paths.get("target", "jconsole-" + test.getTestMethod().get().getName()
                        + "-" + ChildJvm.javaExecutable().getParent().getParent().getFileName() + ".png"));
                fail(e.getMessage() + "\nscreenshot: " + shot + "\n" + diagnosis(script, guiLog) + "\nchild output:\n"
                        + child.output(), e);
            } finally {
                gui.destroyForcibly();
                gui.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** A virtual X display: Xvfb picks a free display number and writes it to its standard output. */
    private static final class Display implements AutoCloseable {
        private final Process server;
        private final String name;

        private Display(Process server, String name) {
            this.server = server;
            this.name = name;
        }

        static Display start(Path xvfb, Path log) throws Exception {
            Process p = new ProcessBuilder(xvfb.toString(), "-displayfd", "1", "-screen", "0", "1280x1024x24",
                    "-nolisten", "tcp").redirectError(log.toFile()).start();
            CompletableFuture<String> number = CompletableFuture.supplyAsync(() -> {
                try {
                    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                            .readLine();
                } catch (IOException e) {
                    return null;
                }
            });
            String n;
            try {
                n = number.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                n = null;
            }
            if (n == null || !n.strip().matches("\\d+")) {
                p.destroyForcibly();
                fail("Xvfb did not start (display " + n + "):\n" + Files.readString(log));
            }
            return new Display(p, ":" + n.strip());
        }

        String name() {
            return name;
        }

        /** A screenshot of the whole display, when ImageMagick's {@code import} is installed; returns where. */
        Path screenshot(Path file) {
            Path tool = onPath("import");
            if (tool == null) {
                return Paths.get("(none: ImageMagick's import is not installed)");
            }
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                Process p = new ProcessBuilder(tool.toString(), "-display", name, "-window", "root", file.toString())
                        .redirectErrorStream(true).start();
                p.getInputStream().transferTo(OutputStream.nullOutputStream());
                p.waitFor(60, TimeUnit.SECONDS);
                return file.toAbsolutePath();
            } catch (Exception e) {
                return Paths.get("(failed: " + e + ")");
            }
        }

        @Override
        public void close() throws InterruptedException {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** The plugin's classes from the test classes, with the service entry JConsole looks for. */
    private static Path pluginJar(Path jar) throws IOException {
        Path classes = Paths.get(ChildJvm.codeSource(ChildJvm.class));
        List<Path> files;
        try (Stream<Path> s = Files.list(classes.resolve(PLUGIN_PACKAGE))) {
            files = s.filter(p -> p.toString().endsWith(".class")).collect(Collectors.toList());
        }
        assertTrue(!files.isEmpty(), "no plugin classes under " + classes.resolve(PLUGIN_PACKAGE));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/services/com.sun.tools.jconsole.JConsolePlugin"));
            out.write("dev.pauser.it.jconsole.ClickingPlugin\n".getBytes(StandardCharsets.UTF_8));
            for (Path f : files) {
                out.putNextEntry(new JarEntry(PLUGIN_PACKAGE + f.getFileName()));
                out.write(Files.readAllBytes(f));
            }
        }
        return jar;
    }

    /** Waits for the plugin to write {@code name}; fails at once when it reports an error or JConsole ends. */
    private static String awaitFile(Path script, String name, Process gui, Path guiLog) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Path file = script.resolve(name);
        while (!Files.exists(file)) {
            if (Files.exists(script.resolve("error")) || !gui.isAlive() || System.nanoTime() > deadline) {
                fail("JConsole's script did not get to " + name + " (JConsole " + (gui.isAlive() ? "running"
                        : "ended with " + gui.exitValue()) + ")\n" + diagnosis(script, guiLog));
            }
            Thread.sleep(100);
        }
        return Files.readString(file);
    }

    /** Polls {@code pauser status <pid> --json} until the state is {@code state}; returns that status. */
    private static JsonNode awaitCliState(String pid, String state) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            CliIT.Result r = CliIT.pauser("status", pid, "--json");
            assertEquals(0, r.exit(), r.toString());
            JsonNode status = JSON.readTree(r.out());
            if (state.equals(status.get("state").asText())) {
                return status;
            }
            if (System.nanoTime() > deadline) {
                fail("state " + status.get("state") + " instead of " + state + " after " + WAIT + ": " + r.out());
            }
        }
    }

    private static String diagnosis(Path script, Path guiLog) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Path p : List.of(script.resolve("script.log"), script.resolve("error"), guiLog)) {
            sb.append("--- ").append(p.getFileName()).append(":\n")
                    .append(Files.exists(p) ? Files.readString(p) : "(none)\n");
        }
        return sb.toString();
    }

    private static Path onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Paths.get(d, command);
            if (!d.isEmpty() && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
