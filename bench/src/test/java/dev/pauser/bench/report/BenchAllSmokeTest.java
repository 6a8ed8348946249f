package dev.pauser.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every harness runs end to end at its smallest (the built agent, real child JVMs, real files) and records figures that
 * land on the results page. Proves the harnesses work, not how fast anything is: no figure's value is asserted.
 */
class BenchAllSmokeTest {

    @Test
    void everyHarnessRecordsFiguresOnThePage(@TempDir Path dir) throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(root.resolve("agent/target/pauser.jar")), "build the agent first");
        Path out = dir.resolve("RESULTS.md");

        BenchAll.Outcome outcome = BenchAll.run(root, out, Set.of(), true);

        assertEquals(java.util.List.of(), outcome.failed(), "harnesses that failed");
        assertFalse(BenchAll.HARNESSES.isEmpty());
        for (Harness h : BenchAll.HARNESSES) {
            assertTrue(outcome.figuresByHarness().getOrDefault(h.name(), 0) > 0, h.name() + " recorded no figure");
        }
        String page = Files.readString(out);
        assertTrue(page.contains("| figure | what | Pauser |"), page);
        for (Figure f : outcome.figures()) {
            assertTrue(page.contains("| " + f.figure() + " | " + f.row() + " | "), f.figure() + " / " + f.row() + " not on the page");
        }
    }
}
