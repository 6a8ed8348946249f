package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A build tool (nvcc, g++, a script) run to its end by a test: its exit status and output. */
record ToolRun(int exit, String text) {

    /**
     * Runs {@code command} in the current directory, its output (standard output and error together) kept in {@code
     * dir}; null where it can't be started (not installed).
     */
    static ToolRun run(Path dir, String... command) throws Exception {
        Path log = Files.createTempFile(dir, "tool", ".log");
        Process p;
        try {
            p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            return null;
        }
        p.getOutputStream().close();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " still running after 5 minutes");
        return new ToolRun(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
