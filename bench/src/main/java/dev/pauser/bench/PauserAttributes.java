package dev.pauser.bench;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;

/**
 * Prints attributes of the Pauser MXBean of a local JVM, one {@code Name=value} line each, for scripts
 * ({@code scripts/gpu-check.sh} reads the device figures the {@code pauser} command line does not show).
 * Usage: {@code java -cp ... dev.pauser.bench.PauserAttributes <pid> <attribute>...}; exit status 1 with one line when
 * the JVM or an attribute can't be read.
 */
public final class PauserAttributes {
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !args[0].matches("\\d+")) {
            System.err.println("PauserAttributes: usage: PauserAttributes <pid> <attribute>... (e.g. 1234 DeviceStaging)");
            System.exit(2);
        }
        try (JMXConnector c = LocalJmx.connect(Long.parseLong(args[0]))) {
            MBeanServerConnection jmx = c.getMBeanServerConnection();
            ObjectName pauser = new ObjectName("dev.pauser:type=Pauser");
            for (int i = 1; i < args.length; i++) {
                System.out.println(args[i] + "=" + jmx.getAttribute(pauser, args[i]));
            }
        } catch (Exception e) {
            System.err.println("PauserAttributes: cannot read " + String.join(", ", java.util.Arrays.asList(args).subList(1,
                    args.length)) + " of JVM " + args[0] + ": " + e);
            System.exit(1);
        }
    }
}
