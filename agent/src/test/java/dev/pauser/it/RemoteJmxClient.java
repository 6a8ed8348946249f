package dev.pauser.it;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.rmi.ssl.SslRMIClientSocketFactory;

/**
 * A remote JMX client, run as its own JVM by {@link RemoteJmxIT} with the client flags of docs/REFERENCE.md:
 * {@code <jconsole|program> <host> <port> <user> <password> <operation>}. {@code jconsole} connects through the
 * code JConsole runs for {@code jconsole host:port} (its {@code ProxyClient}, headless; needs {@code --add-exports
 * jdk.jconsole/sun.tools.jconsole=ALL-UNNAMED --add-opens jdk.jconsole/sun.tools.jconsole=ALL-UNNAMED});
 * {@code program} connects as the reference's client program does. Then it invokes the operation on
 * {@code dev.pauser:type=Pauser} and prints {@code State <state>}.
 *
 * <p>Exit status: 0 done; 3 the server refused the operation (a {@link SecurityException}); 1 the connection failed
 * (the causes are printed).
 */
public final class RemoteJmxClient {
    private RemoteJmxClient() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        String user = args[3];
        String password = args[4];
        String operation = args[5];
        MBeanServerConnection server;
        try {
            server = "jconsole".equals(mode) ? viaJConsole(host, port, user, password) : viaProgram(host, port, user, password);
        } catch (Exception e) {
            System.out.println("connection failed: " + causes(e));
            System.exit(1);
            return;
        }
        ObjectName pauser = new ObjectName("dev.pauser:type=Pauser");
        try {
            server.invoke(pauser, operation, null, null);
        } catch (SecurityException e) {
            System.out.println("refused: " + e.getMessage());
            System.exit(3);
        }
        System.out.println("State " + server.getAttribute(pauser, "State"));
        System.exit(0);
    }

    /** What {@code jconsole host:port} does after the login dialog: ProxyClient, which finds a TLS registry itself. */
    private static MBeanServerConnection viaJConsole(String host, int port, String user, String password)
            throws Exception {
        Class<?> proxyClient = Class.forName("sun.tools.jconsole.ProxyClient");
        Object client = proxyClient.getMethod("getProxyClient", String.class, int.class, String.class, String.class)
                .invoke(null, host, port, user, password);
        // connect(boolean) swallows the failure to show a dialog; tryConnect, which it calls, throws it
        Method tryConnect = proxyClient.getDeclaredMethod("tryConnect", boolean.class);
        tryConnect.setAccessible(true);
        try {
            tryConnect.invoke(client, false);
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
        return (MBeanServerConnection) proxyClient.getMethod("getMBeanServerConnection").invoke(client);
    }

    /** The client program of the reference: the registry's TLS is named in the connection environment. */
    private static MBeanServerConnection viaProgram(String host, int port, String user, String password)
            throws Exception {
        Map<String, Object> env = Map.of(
                JMXConnector.CREDENTIALS, new String[] {user, password},
                "com.sun.jndi.rmi.factory.socket", new SslRMIClientSocketFactory());
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + host + ":" + port + "/jmxrmi");
        return JMXConnectorFactory.connect(url, env).getMBeanServerConnection();
    }

    private static String causes(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (; t != null; t = t.getCause()) {
            s.append(s.length() == 0 ? "" : " <- ").append(t.getClass().getName()).append(": ").append(t.getMessage());
        }
        return s.toString();
    }
}
