package dev.pauser.cli;

import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.pauser.agent.jmx.PauserMXBean;
import java.io.IOException;
import java.util.Properties;
import javax.management.JMX;
import javax.management.MBeanServerConnection;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A JMX connection to the Pauser MBean of one local JVM: attach, check that the agent is loaded, start the JVM's local
 * management agent (what {@code jcmd <pid> ManagementAgent.start_local} does), detach, connect. Close it to close the
 * connection.
 */
final class Target implements AutoCloseable {
    private final String pid;
    private final JMXConnector connector;
    private final PauserMXBean pauser;

    private Target(String pid, JMXConnector connector, PauserMXBean pauser) {
        this.pid = pid;
        this.connector = connector;
        this.pauser = pauser;
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
        String url;
        try {
            Properties props = Jvms.systemProperties(vm);
            if (Jvms.agentVersion(props) == null) {
                throw Jvms.notLoaded(pid);
            }
            url = vm.startLocalManagementAgent();
        } catch (IOException e) {
            throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot start the JMX agent of JVM " + pid + ": "
                    + Jvms.oneLine(e));
        } finally {
            Jvms.detach(vm);
        }
        JMXConnector connector;
        try {
            connector = JMXConnectorFactory.connect(new JMXServiceURL(url));
        } catch (IOException e) {
            throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot connect to the JMX agent of JVM " + pid + " at "
                    + url + ": " + Jvms.oneLine(e));
        }
        try {
            ObjectName name = new ObjectName(PauserMXBean.OBJECT_NAME);
            MBeanServerConnection server = connector.getMBeanServerConnection();
            if (!server.isRegistered(name)) {
                // the agent started but could not register its MBean; it logged why in that JVM
                throw new CliException(ExitCodes.FAILED, "JVM " + pid + " runs the Pauser agent but has no MBean "
                        + PauserMXBean.OBJECT_NAME + "; see that JVM's log");
            }
            return new Target(pid, connector, JMX.newMXBeanProxy(server, name, PauserMXBean.class));
        } catch (IOException | MalformedObjectNameException | RuntimeException e) {
            closeQuietly(connector);
            if (e instanceof CliException) {
                throw (CliException) e;
            }
            throw new CliException(ExitCodes.FAILED, "JMX failed on JVM " + pid + ": " + Jvms.oneLine(e));
        }
    }

    String pid() {
        return pid;
    }

    /** The agent's MBean. A call may throw UndeclaredThrowableException(IOException) when the JVM goes away. */
    PauserMXBean pauser() {
        return pauser;
    }

    @Override
    public void close() {
        closeQuietly(connector);
    }

    private static void closeQuietly(JMXConnector c) {
        try {
            c.close();
        } catch (IOException e) {
            // the JVM may be gone (after stop); there is nothing left to close on our side
        }
    }
}
