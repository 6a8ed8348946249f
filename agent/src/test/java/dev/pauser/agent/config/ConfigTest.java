package dev.pauser.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.log.LogLevel;
import java.nio.file.Paths;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ConfigTest {
    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void defaults() {
        Config c = Config.load(null, props(), Map.of());
        assertEquals(Paths.get("./pauser"), c.dir());
        assertEquals(Config.OnSignal.STOP, c.onSignal());
        assertEquals(25, c.graceSeconds());
        assertEquals(-1, c.pauseAtStep());
        assertEquals(-1, c.stopAtStep());
        assertEquals(LogLevel.INFO, c.log());
        assertFalse(c.releaseGpuOnPause());
        assertTrue(c.given().isEmpty());
    }

    @Test
    void releaseGpuOnPauseFromEachSource() {
        assertTrue(Config.load(null, props(), Map.of("PAUSER_RELEASE_GPU_ON_PAUSE", "true")).releaseGpuOnPause());
        assertTrue(Config.load(null, props("pauser.releaseGpuOnPause", "true"), Map.of()).releaseGpuOnPause());
        assertTrue(Config.load("releaseGpuOnPause=true", props(), Map.of()).releaseGpuOnPause());
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.load("releaseGpuOnPause=sometimes", props(), Map.of()));
        assertTrue(e.getMessage().contains("releaseGpuOnPause"), e.getMessage());
    }

    @Test
    void clusterKeepsTheCommasOfItsConnectStringInTheAgentArguments() {
        Config c = Config.load("cluster=zk1:2181,zk2:2181,zk3/pauser/jobs/mnist,rank=2,worldSize=3,every=100", props(),
                Map.of());
        assertEquals(new JobAddress("zk1:2181,zk2:2181,zk3", "/pauser/jobs/mnist"), c.cluster());
        assertEquals(2, c.rank());
        assertEquals(3, c.worldSize());
        assertEquals(100, c.every());
        assertEquals(java.time.Duration.ofSeconds(30), c.jobTimeout());
        Config env = Config.load(null, props(), Map.of("PAUSER_CLUSTER", "h:1/j", "PAUSER_RANK", "0",
                "PAUSER_WORLD_SIZE", "1"));
        assertEquals("h:1/j", env.cluster().toString());
        assertEquals(null, Config.load(null, props(), Map.of()).cluster());
        // a piece without '=' after any other option is still an error
        assertThrows(ConfigException.class, () -> Config.load("dir=/x,zk2:2181", props(), Map.of()));
    }

    @Test
    void clusterNeedsARankBelowTheWorldSize() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.load("cluster=zk:2181/job,worldSize=3", props(), Map.of()));
        assertTrue(e.getMessage().contains("needs rank and worldSize"), e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> Config.load("cluster=zk:2181/job,rank=3,worldSize=3", props(), Map.of()));
        assertTrue(e.getMessage().contains("rank=3") && e.getMessage().contains("worldSize=3"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Config.load("cluster=zk:2181", props(), Map.of()));
        assertTrue(e.getMessage().contains("option cluster"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Config.load("cluster=zk:2181/a//b,rank=0,worldSize=1", props(),
                Map.of()));
        assertTrue(e.getMessage().contains("option cluster"), e.getMessage());
    }

    @Test
    void agentArgumentsBeatSystemPropertiesBeatEnvironment() {
        Map<String, String> env = Map.of("PAUSER_GRACE_SECONDS", "1", "PAUSER_PAUSE_AT_STEP", "9", "PAUSER_DIR", "/env");
        Properties p = props("pauser.graceSeconds", "2", "pauser.dir", "/prop");
        Config c = Config.load("graceSeconds=3", p, env);
        assertEquals(3, c.graceSeconds());
        assertEquals(Paths.get("/prop"), c.dir());
        assertEquals(9, c.pauseAtStep());
    }

    @Test
    void environmentNamesAreUpperSnakeCase() {
        assertEquals("PAUSER_PAUSE_AT_STEP", Config.envNameOf("pauseAtStep"));
        assertEquals("PAUSER_ON_SIGNAL", Config.envNameOf("onSignal"));
        assertEquals("PAUSER_DIR", Config.envNameOf("dir"));
        assertEquals(Config.OnSignal.EXIT, Config.load(null, props(), Map.of("PAUSER_ON_SIGNAL", "exit")).onSignal());
    }

    @Test
    void unknownKeyNamesTheKeyItsSourceAndTheKnownKeys() {
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load("bogus=1", props(), Map.of()));
        assertEquals("pauser: unknown option 'bogus' (agent argument); known options: dir, onSignal, graceSeconds, "
                + "pauseAtStep, stopAtStep, log, every, interval, keep, keepEvery, resume, onMismatch, async, checkpointOnPause, "
                + "releaseGpuOnPause, step, state, config, cluster, rank, worldSize, jobTimeout, zkAuthFile", e.getMessage());
        e = assertThrows(ConfigException.class, () -> Config.load(null, props("pauser.pauseAt", "3"), Map.of()));
        assertTrue(e.getMessage().contains("'pauseAt' (system property -Dpauser.pauseAt)"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Config.load(null, props(), Map.of("PAUSER_GRACE", "3")));
        assertTrue(e.getMessage().contains("environment variable PAUSER_GRACE"), e.getMessage());
    }

    @Test
    void badValueNamesKeyValueAndWhatIsAllowed() {
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load("onSignal=maybe", props(), Map.of()));
        assertEquals("pauser: bad value 'maybe' for option onSignal (agent argument): expected stop or exit",
                e.getMessage());
        assertThrows(ConfigException.class, () -> Config.load("graceSeconds=-1", props(), Map.of()));
        assertThrows(ConfigException.class, () -> Config.load("pauseAtStep=0", props(), Map.of()));
        assertThrows(ConfigException.class, () -> Config.load("stopAtStep=0", props(), Map.of()));
        assertEquals(12, Config.load(null, props(), Map.of("PAUSER_STOP_AT_STEP", "12")).stopAtStep());
        assertThrows(ConfigException.class, () -> Config.load("log=loud", props(), Map.of()));
        e = assertThrows(ConfigException.class, () -> Config.load("dir", props(), Map.of()));
        assertTrue(e.getMessage().contains("'dir' is not key=value"), e.getMessage());
    }

    @Test
    void anEmptyDirIsRefusedFromEverySource() {
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load("dir=", props(), Map.of()));
        assertEquals("pauser: bad value '' for option dir (agent argument): expected a directory path (not empty)",
                e.getMessage());
        assertThrows(ConfigException.class, () -> Config.load(null, props("pauser.dir", " "), Map.of()));
        assertThrows(ConfigException.class, () -> Config.load(null, props(), Map.of("PAUSER_DIR", "")));
    }

    @Test
    void agentPropertiesOfTheAgentItselfAreNotOptions() {
        // the agent announces itself with pauser.agent.* properties; a second load must not take them as options
        Config.load(null, props("pauser.agent.version", "1", "pauser.agent.dir", "/x"), Map.of());
    }
}
