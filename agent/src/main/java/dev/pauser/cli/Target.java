package dev.pauser.cli;

import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.pauser.agent.contract.AgentProperties;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.control.ControlDirectory;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;

/**
 * The Pauser agent of one local JVM, reached without any network port, over the agent's owner-only Unix-domain control
 * socket. The socket's path is where the agent puts it by default, or else what the JVM announces in its system
 * properties, read through the Attach API (the JDK's own owner-only socket, as jcmd uses): there the agent also says
 * whether it is loaded at all. Close it to close the connection.
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

    /**
     * The agent of JVM {@code pid}. Its socket is first looked for where the agent puts it by default (its user's
     * control directory, under the pid's name), which spares the Attach API's start-up and the JVM an attach; where
     * none answers, the JVM is asked through the Attach API.
     */
    static Target connect(long pid) {
        Target published = published(pid);
        return published != null ? published : connect(Jvms.attach(pid));
    }

    static Target connect(VirtualMachineDescriptor d) {
        Target published = published(Long.parseLong(d.id()));
        return published != null ? published : connect(Jvms.attach(d));
    }

    /** The agent of {@code pid} through a socket in its default place, or null where none answers. */
    private static Target published(long pid) {
        String id = Long.toString(pid);
        for (Path socket : ControlDirectory.published(pid)) {
            ControlClient client = ControlClient.connectIfServed(id, socket);
            if (client != null) {
                return new Target(id, client);
            }
        }
        return null;
    }

    /** Takes over {@code vm}: detaches from it in every case. */
    private static Target connect(VirtualMachine vm) {
        String pid = vm.id();
        String socket;
        try {
            Properties props = Jvms.systemPropertiesOnceStarted(vm);
            if (Jvms.agentVersion(props) == null) {
                throw Jvms.notLoaded(pid);
            }
            socket = props.getProperty(AgentProperties.CONTROL);
        } finally {
            Jvms.detach(vm);
        }
        if (socket == null) {
            // the agent started but could not open its socket (it logged why), or it predates the socket
            throw new CliException(ExitCodes.FAILED, "JVM " + pid + " runs the Pauser agent but has no control socket"
                    + " (system property " + AgentProperties.CONTROL + "); see that JVM's log, or use JConsole");
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
