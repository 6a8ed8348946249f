package dev.pauser.cli;

import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.pauser.agent.AgentStarter;
import dev.pauser.agent.jmx.PauserMXBean;
import java.nio.file.Paths;
import java.util.Properties;

/**
 * The Pauser agent of one local JVM, reached without any network port: attach (the JDK's own owner-only socket) to read
 * the system properties where the agent announces its version and the path of its control socket, detach, then
 * connect to that Unix-domain socket. Close it to close the connection.
 */
final class Target implements AutoCloseable {
    private final String pid;
    private final ControlClient client;
    private final PauserMXBean pauser;

    private Target(String pid, ControlClient client) {
        this.pid = pid;
        this.client = client;
        this.pauser = client.proxy(PauserMXBean.class);
    }

    static Target connect(long pid) {
        return connect(Jvms.attach(pid));
    }

    static Target connect(VirtualMachineDescriptor d) {
        return connect(Jvms.attach(d));
    }

    /** Takes over {@code vm}: detaches from it in every case. */
    private static Target connect(VirtualMachine vm) {
        String pid = vm.id();
        String socket;
        try {
            Properties props = Jvms.systemProperties(vm);
            if (Jvms.agentVersion(props) == null) {
                throw Jvms.notLoaded(pid);
            }
            socket = props.getProperty(AgentStarter.CONTROL_PROPERTY);
        } finally {
            Jvms.detach(vm);
        }
        if (socket == null) {
            // the agent started but could not open its socket (it logged why), or it predates the socket
            throw new CliException(ExitCodes.FAILED, "JVM " + pid + " runs the Pauser agent but has no control socket"
                    + " (system property " + AgentStarter.CONTROL_PROPERTY + "); see that JVM's log, or use JConsole");
        }
        return new Target(pid, ControlClient.connect(pid, Paths.get(socket)));
    }

    String pid() {
        return pid;
    }

    /**
     * The agent's MXBean, reached over the control socket. A call throws {@link CliException} when the MBean refuses it,
     * and UndeclaredThrowableException(IOException) when the JVM goes away.
     */
    PauserMXBean pauser() {
        return pauser;
    }

    @Override
    public void close() {
        client.close();
    }
}
