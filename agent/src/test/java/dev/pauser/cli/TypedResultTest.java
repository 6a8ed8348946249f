package dev.pauser.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.CheckpointOutcome;
import dev.pauser.agent.contract.CheckpointOutcome.Status;
import dev.pauser.agent.control.ControlServer;
import java.io.IOException;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A typed result of the contract crosses the real control socket intact: the MBean's open data becomes a JSON object
 * on the agent's side and the same record again on the command line's, status included, for every status.
 */
class TypedResultTest {
    /** An MXBean answering with whatever outcome the test sets. */
    public interface OutcomesMXBean {
        CheckpointOutcome next(long timeoutMillis);
    }

    /** The same operation as a newer agent might answer it: a status this command line does not know. */
    public interface NewerOutcomesMXBean {
        NewerOutcome next(long timeoutMillis);
    }

    public record NewerOutcome(String status, long step, String path, long bytes, long millis, String error,
            String message) {
    }

    private volatile CheckpointOutcome answer;
    private final MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
    private final ObjectName name = new ObjectName("dev.pauser.test:type=Outcomes");
    private final List<String> logged = new ArrayList<>();
    private final ControlServer server;
    private final ControlClient client;

    TypedResultTest() throws Exception {
        OutcomesMXBean impl = timeoutMillis -> answer;
        mbeans.registerMBean(new StandardMBean(impl, OutcomesMXBean.class, true), name);
        server = ControlServer.start(mbeans, name, logged::add);
        client = ControlClient.connect(Long.toString(ProcessHandle.current().pid()), server.path());
    }

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    @Test
    void aStatusThisCommandLineDoesNotKnowIsAnErrorNamingIt() throws Exception {
        MBeanServer newer = MBeanServerFactory.newMBeanServer();
        NewerOutcomesMXBean impl = timeoutMillis -> new NewerOutcome("SHELVED", 1, "", 0, 0, "", "shelved");
        newer.registerMBean(new StandardMBean(impl, NewerOutcomesMXBean.class, true), name);
        ControlServer newerServer = ControlServer.start(newer, name, logged::add);
        try (ControlClient newerClient = ControlClient.connect(Long.toString(ProcessHandle.current().pid()),
                newerServer.path())) {
            OutcomesMXBean proxy = newerClient.proxy(OutcomesMXBean.class);
            UndeclaredThrowableException e = assertThrows(UndeclaredThrowableException.class, () -> proxy.next(1));
            assertInstanceOf(IOException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("next.status with Status 'SHELVED'"),
                    e.getCause().getMessage());
        } finally {
            newerServer.close();
        }
    }

    @Test
    void everyOutcomeArrivesAsTheRecordTheAgentReturned() {
        OutcomesMXBean proxy = client.proxy(OutcomesMXBean.class);
        for (Status s : Status.values()) {
            answer = new CheckpointOutcome(s, 42, s == Status.DURABLE ? "/c/ckpt-000000000042" : "",
                    s == Status.DURABLE ? 4096 : 0, 12, s == Status.FAILED ? "disk \"full\"\nreally" : "",
                    "line for " + s);
            assertEquals(answer, proxy.next(60_000), s.name());
        }
    }
}
