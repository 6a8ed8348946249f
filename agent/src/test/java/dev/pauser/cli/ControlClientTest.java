package dev.pauser.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.control.ControlServer;
import dev.pauser.agent.control.Sample;
import dev.pauser.agent.control.SampleMXBean;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The command line's proxy over a real control socket, with an interface other than PauserMXBean: every method reaches
 * the MBean by the MXBean naming rules alone, so a method added to an interface needs no change here.
 */
class ControlClientTest {
    private final Sample sample = new Sample();
    private final List<String> logged = new ArrayList<>();
    private final ControlServer server = ControlServer.start(sample.server(), sample.name(), logged::add);
    private final String pid = Long.toString(ProcessHandle.current().pid());
    private final ControlClient client = ControlClient.connect(pid, server.path());
    private final SampleMXBean proxy = client.proxy(SampleMXBean.class);

    ControlClientTest() throws Exception {
    }

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    @Test
    void gettersSettersAndOperationsReachTheMBean() {
        assertEquals(7, proxy.getCount());
        proxy.setCount(11);
        assertEquals(11, sample.getCount());
        assertEquals(11, proxy.getCount());
        assertEquals("sample", proxy.getName());
        assertTrue(proxy.isReady());
        assertEquals(2.5, proxy.getRate());
        assertArrayEquals(new long[] {1, 2, 3}, proxy.getHistory());
        assertEquals("xyxy", proxy.echo("xy", 2));
    }

    @Test
    void anExceptionOfTheMBeanIsOneLineWithExitStatusOne() {
        CliException e = assertThrows(CliException.class, () -> proxy.setCount(-3));
        assertEquals(ExitCodes.FAILED, e.exitCode());
        assertEquals("JVM " + pid + ": setCount failed: count must be 0 or more, not -3", e.getMessage());
        e = assertThrows(CliException.class, () -> proxy.fail("disk on fire"));
        assertEquals("JVM " + pid + ": fail failed: disk on fire", e.getMessage());
        assertEquals(7, proxy.getCount(), "the connection goes on after an error");
    }
}
