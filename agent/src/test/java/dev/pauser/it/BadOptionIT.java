package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.Trainer;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BadOptionIT {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bogus=1|-|pauser: unknown option 'bogus' (agent argument); known options: dir, onSignal, graceSeconds, pauseAtStep, stopAtStep, log, every, interval, keep, keepEvery, resume, onMismatch, async, checkpointOnPause, releaseGpuOnPause, step, state, config, cluster, rank, worldSize, jobTimeout, zkAuthFile",
        "graceSeconds=soon|-|pauser: bad value 'soon' for option graceSeconds (agent argument): expected a whole number of seconds, 0 or more",
        "-|-Dpauser.onSignal=maybe|pauser: bad value 'maybe' for option onSignal (system property -Dpauser.onSignal): expected stop or exit",
    })
    void aBadOptionStopsTheJvmBeforeMainWithOneLine(String agentArgs, String jvmArg, String expected) throws Exception {
        ChildJvm.Builder b = ChildJvm.builder().agent("-".equals(agentArgs) ? null : agentArgs);
        if (!"-".equals(jvmArg)) {
            b.jvmArg(jvmArg);
        }
        try (ChildJvm child = b.main(Trainer.class, "--steps", "1").start()) {
            assertEquals(2, child.awaitExit(Duration.ofSeconds(60)));
            String out = child.output();
            List<String> ours = out.lines().filter(l -> l.startsWith("pauser")).collect(Collectors.toList());
            assertEquals(List.of(expected), ours, out);
            assertFalse(out.contains("ready"), "main ran:\n" + out);
            assertFalse(out.contains("Exception") || out.contains("\tat "), "a stack trace:\n" + out);
            // The only other line allowed is the JVM's own CDS notice about the appended bootstrap path.
            assertTrue(out.lines().allMatch(l -> l.startsWith("pauser") || l.contains("Sharing is only supported")), out);
        }
    }
}
