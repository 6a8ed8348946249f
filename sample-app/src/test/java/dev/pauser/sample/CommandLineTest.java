package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandLineTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--bogus|sample-app: unknown option '--bogus'",
        "--steps|sample-app: option --steps needs a value",
        "--steps,ten|sample-app: bad value 'ten' for --steps: expected a whole number",
        "--batch,0|sample-app: bad value '0' for --batch: expected 1 or more",
        "--lr,-1|sample-app: bad value '-1' for --lr: expected a positive number",
        "--device,tpu|sample-app: bad value 'tpu' for --device: expected cpu or cuda",
    })
    void aBadOptionExitsWithTwoAndOneLineThenTheUsage(String args, String expectedError) throws Exception {
        Child c = runChild(args.split(","));
        assertEquals(2, c.exit, c.toString());
        assertEquals("", c.stdout, c.toString());
        String[] err = c.stderr.split("\n");
        assertEquals(expectedError, err[0], c.toString());
        assertTrue(err[1].startsWith("usage: "), c.toString());
        assertTrue(c.stderr.contains("--step-delay-ms"), c.toString());
    }

    @Test
    void theChildProcessPrintsTheTwoResultLinesLast() throws Exception {
        Child c = runChild("--steps", "20", "--hidden", "8", "--train-rows", "300", "--test-rows", "100",
                "--log-every", "10", "--device", "cpu");
        assertEquals(0, c.exit, c.toString());
        String[] out = c.stdout.split("\n");
        assertTrue(out[out.length - 2].matches("accuracy=[01]\\.\\d{6}"), c.toString());
        assertTrue(out[out.length - 1].matches("final-weights-sha256=[0-9a-f]{64}"), c.toString());
        assertTrue(out[out.length - 3].startsWith("step 20/20 "), c.toString());
    }

    @Test
    void optionsParse() throws Exception {
        Options o = Options.parse("--steps=7", "--batch", "4", "--lr", "0.5", "--layers", "0");
        assertEquals(7, o.steps());
        assertEquals(4, o.batch());
        assertEquals(0.5f, o.lr());
        assertEquals(0, o.layers());
        assertThrows(Options.UsageException.class, () -> Options.parse("--batch", "20000"));
        assertThrows(Options.UsageException.class, () -> Options.parse("--hidden", "1000000", "--layers", "3"));
        assertThrows(Options.HelpRequested.class, () -> Options.parse("--help"));
    }

    record Child(int exit, String stdout, String stderr) {
    }

    static Child runChild(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SampleTrainer.class.getName());
        cmd.addAll(List.of(args));
        Path errFile = Files.createTempFile("sample-app-stderr", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(errFile.toFile()).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(errFile));
        } finally {
            Files.deleteIfExists(errFile);
        }
    }
}
