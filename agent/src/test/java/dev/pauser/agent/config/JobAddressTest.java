package dev.pauser.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JobAddressTest {
    @Test
    void splitsTheConnectStringFromTheJobPath() {
        JobAddress a = JobAddress.parse("zk1:2181,zk2:2181,zk3/pauser/jobs/mnist-2");
        assertEquals("zk1:2181,zk2:2181,zk3", a.connect());
        assertEquals("/pauser/jobs/mnist-2", a.path());
        assertEquals("zk1:2181,zk2:2181,zk3/pauser/jobs/mnist-2", a.toString());
        assertEquals("/job", JobAddress.parse("127.0.0.1:2181/job/").path());
    }

    @Test
    void refusesWhatIsNotAConnectStringAndAPath() {
        for (String bad : new String[] {"zk:2181", "/job", "zk:2181/", "zk:2181,/job", "zk:21x/job", "zk:2181/a//b",
            "zk:2181/a/../b", "zk 1:2181/job", "zk:2181/jo b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobAddress.parse(bad), bad);
            assertTrue(!e.getMessage().isBlank() && !e.getMessage().contains("\n"), bad + ": " + e.getMessage());
        }
    }
}
