package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignalIT {
    @TempDir
    Path dir;

    @Test
    void sigtermLetsTheInFlightStepFinishThenExits143() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", "1000", "--delay-ms", "400", "--log").start()) {
            child.awaitLine("^begin step=3$", Duration.ofSeconds(60));
            child.signal("TERM");
            assertEquals(143, child.awaitExit(Duration.ofSeconds(60)));
            String out = child.output();
            int lastBegin = lastNumber(out, "begin step=(\\d+)");
            assertEquals(lastBegin, lastNumber(out, "end step=(\\d+)"), "the step in flight was cut short:\n" + out);
            Matcher stopped = Pattern.compile("stopped at step (\\d+); exiting with status 143").matcher(out);
            assertTrue(stopped.find(), out);
            assertEquals(lastBegin, Integer.parseInt(stopped.group(1)), out);
            assertFalse(out.contains("result="), "training must not go on to the end");
        }
    }

    @Test
    void secondSigintExitsAtOnce() throws Exception {
        try (ChildJvm child = ChildJvm.builder().launcher(sigintDefault()).agent("dir=" + dir + ",graceSeconds=120")
                .main(Trainer.class, "--steps", "10", "--delay-ms", "60000", "--log").start()) {
            child.awaitLine("^begin step=1$", Duration.ofSeconds(60));
            child.signal("INT");
            child.awaitLine("SIGINT: finishing in-flight steps", Duration.ofSeconds(60));
            child.signal("INT");
            // at once: well before the 60 s step could end (its "end" line would show) or the 120 s grace time
            assertEquals(130, child.awaitExit(Duration.ofSeconds(45)));
            assertFalse(child.output().contains("end step=1"), child.output());
        }
    }

    @Test
    void graceTimeBoundsTheWaitForALongStep() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",graceSeconds=1")
                .main(Trainer.class, "--steps", "10", "--delay-ms", "60000", "--log").start()) {
            child.awaitLine("^begin step=1$", Duration.ofSeconds(60));
            child.signal("TERM");
            // well before the 60 s step could end
            assertEquals(143, child.awaitExit(Duration.ofSeconds(45)));
            assertTrue(child.output().contains("still running after the grace time of 1 s"), child.output());
            assertFalse(child.output().contains("end step=1"), child.output());
        }
    }

    @Test
    void onSignalExitLeavesTheSignalToTheJvm() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",onSignal=exit")
                .main(Trainer.class, "--steps", "10", "--delay-ms", "60000", "--log").start()) {
            child.awaitLine("^begin step=1$", Duration.ofSeconds(60));
            child.signal("TERM");
            assertEquals(143, child.awaitExit(Duration.ofSeconds(45)));
            assertFalse(child.output().contains("end step=1"), child.output());
            assertFalse(child.output().contains("finishing in-flight steps"), child.output());
        }
    }

    /**
     * A process started with SIGINT ignored (nohup, or a background job of a shell without job control) passes that on
     * to its children, and a JVM never sees a SIGINT it started with ignored. The child is then started through
     * coreutils' {@code env --default-signal=INT}, which gives it the default disposition, as a terminal would.
     */
    private static String[] sigintDefault() throws IOException, InterruptedException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return new String[0];
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                long ignored = Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
                if ((ignored & (1L << 1)) == 0) {
                    return new String[0];
                }
                Process probe = new ProcessBuilder("env", "--default-signal=INT", "true").redirectErrorStream(true)
                        .start();
                probe.getInputStream().readAllBytes();
                Assumptions.assumeTrue(probe.waitFor() == 0, "SIGINT is ignored by the test JVM and so by its children,"
                        + " and this env has no --default-signal: run the build in the foreground");
                return new String[] {"env", "--default-signal=INT"};
            }
        }
        return new String[0];
    }

    private static int lastNumber(String text, String regex) {
        Matcher m = Pattern.compile("(?m)^" + regex + "$").matcher(text);
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }
}
