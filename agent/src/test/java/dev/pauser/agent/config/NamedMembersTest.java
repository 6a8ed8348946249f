package dev.pauser.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamedMembersTest {
    @TempDir
    Path dir;

    @Test
    void entriesJoinedByPlusGroupByClassInTheOrderGiven() {
        Config c = Config.load("step=org.lib.Trainer#fit+org.lib.Trainer#fitBatch+a.Outer$Inner#run,"
                + "state=org.lib.Trainer#model", new Properties(), Map.of());
        assertEquals(Map.of("org.lib.Trainer", Set.of("fit", "fitBatch"), "a.Outer$Inner", Set.of("run")), c.steps());
        assertEquals(List.of("org.lib.Trainer", "a.Outer$Inner"), List.copyOf(c.steps().keySet()));
        assertEquals(Map.of("org.lib.Trainer", Set.of("model")), c.states());
    }

    @Test
    void noneByDefault() {
        Config c = Config.load(null, new Properties(), Map.of());
        assertEquals(Map.of(), c.steps());
        assertEquals(Map.of(), c.states());
    }

    @Test
    void fromEachSourceLikeEveryOption() {
        Properties p = new Properties();
        p.setProperty("pauser.state", "a.B#x");
        assertEquals(Map.of("a.B", Set.of("x")), Config.load(null, p, Map.of()).states());
        assertEquals(Map.of("a.B", Set.of("m")), Config.load(null, new Properties(), Map.of("PAUSER_STEP", "a.B#m"))
                .steps());
    }

    @Test
    void aConfigFileAddsItsLinesToTheOptions() throws Exception {
        Path file = dir.resolve("names");
        Files.writeString(file, "# steps of the library\nstep=org.lib.Trainer#fit\n\n   # its state\n"
                + "state=org.lib.Trainer#model+org.lib.Trainer#updater\n  state = org.lib.Rng#SEED  \n");
        Config c = Config.load("step=a.B#m,config=" + file, new Properties(), Map.of());
        assertEquals(Map.of("a.B", Set.of("m"), "org.lib.Trainer", Set.of("fit")), c.steps());
        assertEquals(Map.of("org.lib.Trainer", Set.of("model", "updater"), "org.lib.Rng", Set.of("SEED")),
                c.states());
    }

    @Test
    void aMalformedEntryNamesItAndTheForm() {
        for (String bad : List.of("org.lib.Trainer", "org.lib.Trainer#", "#fit", "a.B#m+", "a.B#m(int)", "a..B#m",
                "a.B#m#n", "1a.B#m")) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> Config.load("step=" + bad, new Properties(), Map.of()), bad);
            assertTrue(e.getMessage().startsWith("pauser: bad value '" + bad + "' for option step (agent argument):"
                    + " expected <class>#<method> entries joined by + (empty: none) ('"), e.getMessage());
            assertTrue(e.getMessage().endsWith("' is not <class>#<member>, e.g. org.lib.Trainer#fit)"), e.getMessage());
        }
    }

    @Test
    void aBadConfigFileLineNamesFileAndLine() throws Exception {
        Path file = dir.resolve("names");
        Files.writeString(file, "# fine\nstep=a.B#m\nsteps=a.B#n\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.load("config=" + file, new Properties(), Map.of()));
        assertTrue(e.getMessage().endsWith("(" + file + " line 3: 'steps=a.B#n' is neither step=<class>#<method> nor"
                + " state=<class>#<field> (comments start with #))"), e.getMessage());
        Files.writeString(file, "state=a.B\n");
        e = assertThrows(ConfigException.class, () -> Config.load("config=" + file, new Properties(), Map.of()));
        assertTrue(e.getMessage().endsWith("(" + file + " line 1: 'a.B' is not <class>#<member>, e.g."
                + " org.lib.Trainer#fit)"), e.getMessage());
        Path missing = dir.resolve("nope");
        e = assertThrows(ConfigException.class, () -> Config.load("config=" + missing, new Properties(), Map.of()));
        assertTrue(e.getMessage().contains("for option config (agent argument): expected a readable file")
                && e.getMessage().contains("(can't read " + missing), e.getMessage());
    }
}
