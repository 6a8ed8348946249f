package dev.pauser.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.config.Config;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line's usage and errors, run in this JVM. */
class PauserCliTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = PauserCli.commandLine(args);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** The codes listed under "Exit codes:" in a usage text. */
    private static String exitCodes(String usage) {
        String section = usage.substring(usage.indexOf("Exit codes:"));
        StringBuilder codes = new StringBuilder();
        Matcher m = Pattern.compile("(?m)^  (\\d)   ").matcher(section);
        while (m.find()) {
            codes.append(m.group(1));
        }
        return codes.toString();
    }

    @Test
    void eachCommandsHelpListsOnlyTheExitCodesItCanReturn() {
        Map<String, String> expected = Map.of("list", "02", "status", "01235", "resume", "01235", "pause", "012345",
                "checkpoint", "012345", "stop", "012345", "attach", "01235", "inspect", "0236", "verify", "0236",
                "check-resume", "01278");
        expected.forEach((command, codes) -> {
            Run help = run(command, "--help");
            assertEquals(0, help.exit(), help.toString());
            assertEquals(codes, exitCodes(help.out()), command + " --help:\n" + help.out());
        });
        assertEquals("012345678", exitCodes(run("--help").out()));
    }

    @Test
    void attachHelpListsEveryAgentOptionWithItsDefault() {
        String help = run("attach", "--help").out();
        Config.defaults().forEach((key, value) -> {
            Matcher m = Pattern.compile("(?m)^  " + key + "=\\s+(.*)$").matcher(help);
            assertTrue(m.find(), "attach --help lacks " + key + ":\n" + help);
            String rest = help.substring(m.start());
            String expected = "default " + (value.isEmpty() ? "none" : value);
            assertTrue(rest.replaceAll("\\s+", " ").contains(expected), key + ": no '" + expected + "' in:\n" + rest);
        });
    }

    @Test
    void aMisspeltCommandIsOneLineWithSuggestions() {
        Run r = run("stauts", "12");
        assertEquals(2, r.exit());
        assertEquals("", r.out());
        assertEquals("pauser: unknown command 'stauts'; did you mean status, stop or pause? (see pauser --help)",
                r.err().strip());
        Run none = run("zzzz");
        assertEquals(1, none.err().strip().lines().count(), none.err());
        assertTrue(none.err().startsWith("pauser: unknown command 'zzzz'; commands: list, status,"), none.err());
        Run option = run("status", "--wiat", "1");
        assertEquals("pauser: unknown option '--wiat' (see pauser status --help)", option.err().strip());
    }

    @Test
    void aWaitOfZeroIsAUsageErrorRatherThanAWaitForNothing() {
        for (String command : new String[] {"pause", "checkpoint", "stop"}) {
            Run r = run(command, "12", "--wait=0");
            assertEquals(2, r.exit(), command);
            assertTrue(r.err().contains("'0' would not wait; leave out --wait"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
        assertEquals(2, run("pause", "12", "--wait=0ms").exit());
    }

    @Test
    void aPathThatIsNoCheckpointSaysOnceWhatItIs() throws Exception {
        Path missing = dir.resolve("nothing-here");
        Run r = run("inspect", missing.toString());
        assertEquals(3, r.exit());
        assertEquals("pauser: " + missing + ": no such file or directory", r.err().strip());
        Path file = Files.writeString(dir.resolve("notes.txt"), "hello");
        r = run("verify", file.toString());
        assertEquals(3, r.exit());
        assertEquals("pauser: " + file + ": is a file; give a checkpoint (a ckpt-<step> directory) or the directory "
                + "holding them", r.err().strip());
        r = run("inspect", dir.resolve("ckpt-000000000012").toString());
        assertEquals(3, r.exit(), "a checkpoint name that does not exist is not a corrupt checkpoint: " + r);
        Files.delete(file);
        r = run("inspect", dir.toString());
        assertEquals(6, r.exit());
        assertEquals("pauser: " + dir + ": holds no checkpoint (ckpt-<step> directories)", r.err().strip());
    }

    @Test
    void theCommandTableMatchesTheCommandsNames() {
        CommandLine all = PauserCli.commandLine();
        for (Map.Entry<String, CommandLine> e : all.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            Class<?> type = e.getValue().getCommand().getClass();
            assertEquals(e.getKey(), type.getAnnotation(Command.class).name());
            CommandLine one = PauserCli.commandLine(e.getKey(), "--help");
            assertEquals(1, one.getSubcommands().size(), e.getKey());
            assertTrue(one.getSubcommands().containsKey(e.getKey()), e.getKey());
        }
        assertFalse(all.getSubcommands().isEmpty());
    }
}
