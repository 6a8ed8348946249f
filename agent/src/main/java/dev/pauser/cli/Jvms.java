package dev.pauser.cli;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.pauser.agent.contract.AgentProperties;
import dev.pauser.agent.control.ControlDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.UserPrincipal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/** Finding and attaching to local JVMs through the Attach API, as jcmd and JConsole do. */
final class Jvms {
    /** Where every HotSpot JVM keeps its performance-data file, whatever java.io.tmpdir says (Linux). */
    private static final String PERF_DATA_ROOT = "/tmp";

    private Jvms() {
    }

    /** The JVMs this user can see, without this command's own. */
    static List<VirtualMachineDescriptor> list() {
        String self = Long.toString(ProcessHandle.current().pid());
        return VirtualMachine.list().stream().filter(d -> !d.id().equals(self)).toList();
    }

    /**
     * Attaches to {@code pid}. Only to a JVM: on Linux, attaching means sending SIGQUIT, which would kill a process that
     * is not a JVM, so a pid is never attached to blindly. A JVM announces itself with its performance-data file
     * ({@code /tmp/hsperfdata_<user>/<pid>}), which is what the Attach API's list reads too; looking for that one file
     * rather than listing every JVM saves most of a command's start-up.
     */
    static VirtualMachine attach(long pid) {
        if (pid == ProcessHandle.current().pid()) {
            throw new CliException(ExitCodes.NOT_FOUND, "pid " + pid + " is this pauser command itself");
        }
        String id = Long.toString(pid);
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "no JVM with pid " + pid);
        }
        UserPrincipal owner = ControlClient.processOwner(id);
        boolean jvm = owner != null && Files.exists(Paths.get(PERF_DATA_ROOT, "hsperfdata_" + owner.getName(), id));
        UserPrincipal me = ControlClient.processOwner("self");
        if (owner != null && me != null && !owner.equals(me) && !ControlDirectory.isRoot(me)) {
            // The JDK's attach socket and Pauser's control socket serve their own user only (and root).
            throw new CliException(jvm ? ExitCodes.CANNOT_ATTACH : ExitCodes.NOT_FOUND, jvm
                    ? "JVM " + pid + " belongs to user " + owner.getName() + "; run pauser as " + owner.getName()
                    : "no JVM with pid " + pid + " (process " + pid + " belongs to user " + owner.getName()
                            + " and is not a Java VM pauser can see)");
        }
        if (jvm) {
            try {
                return VirtualMachine.attach(id);
            } catch (AttachNotSupportedException | IOException e) {
                throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot attach to JVM " + id + ": " + oneLine(e));
            }
        }
        VirtualMachineDescriptor found = null;
        for (VirtualMachineDescriptor d : VirtualMachine.list()) {
            if (d.id().equals(id)) {
                found = d;
            }
        }
        if (found == null) {
            boolean alive = process.get().isAlive();
            throw new CliException(ExitCodes.NOT_FOUND, "no JVM with pid " + pid
                    + (alive ? " (process " + pid + " is not a Java VM this user can attach to)" : ""));
        }
        return attach(found);
    }

    static VirtualMachine attach(VirtualMachineDescriptor d) {
        try {
            return VirtualMachine.attach(d);
        } catch (AttachNotSupportedException | IOException e) {
            throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot attach to JVM " + d.id() + ": " + oneLine(e));
        }
    }

    /** The JVM's system properties; the agent announces itself there (no JMX needed to find out). */
    static Properties systemProperties(VirtualMachine vm) {
        try {
            return vm.getSystemProperties();
        } catch (IOException e) {
            throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot read the system properties of JVM " + vm.id()
                    + ": " + oneLine(e));
        }
    }

    /** How long a command waits for an agent that is still setting up its JMX MBean and control socket. */
    private static final long STARTING_WAIT_MILLIS = 30_000;

    /**
     * The JVM's system properties, once an agent that is still starting ({@link AgentProperties#STARTING}, set from
     * its premain until it announces itself) is up, or after {@value #STARTING_WAIT_MILLIS} ms of waiting for it.
     */
    static Properties systemPropertiesOnceStarted(VirtualMachine vm) {
        long deadline = System.nanoTime() + STARTING_WAIT_MILLIS * 1_000_000;
        Properties props = systemProperties(vm);
        while (props.getProperty(AgentProperties.STARTING) != null && agentVersion(props) == null
                && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            props = systemProperties(vm);
        }
        return props;
    }

    /** The version of the Pauser agent loaded in the JVM, or null when none is. */
    static String agentVersion(Properties props) {
        return props.getProperty(AgentProperties.VERSION);
    }

    static CliException notLoaded(String pid) {
        return new CliException(ExitCodes.NOT_FOUND, "JVM " + pid
                + " does not run the Pauser agent; load it with: pauser attach " + pid);
    }

    static void detach(VirtualMachine vm) {
        try {
            vm.detach();
        } catch (IOException e) {
            // nothing is left to clean up on our side; the target drops the connection itself
        }
    }

    /**
     * The PAUSER_* variables of a JVM's environment, as it saw them at start (what {@code System.getenv} returns
     * there), read from /proc on Linux; empty where that cannot be read.
     */
    static Map<String, String> pauserEnvironment(long pid) {
        Map<String, String> env = new HashMap<>();
        try {
            byte[] raw = Files.readAllBytes(Paths.get("/proc", Long.toString(pid), "environ"));
            for (String entry : new String(raw, StandardCharsets.UTF_8).split("\0")) {
                int eq = entry.indexOf('=');
                if (entry.startsWith("PAUSER_") && eq > 0) {
                    env.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: the agent still checks its environment itself
        }
        return env;
    }

    /**
     * What the Attach API shows as a JVM's display name (its main class or jar, then the program's arguments), read
     * from {@code /proc/<pid>/cmdline} for a JVM the Attach API does not list; empty where that can't be read.
     */
    static String displayName(long pid) {
        List<String> args;
        try {
            byte[] raw = Files.readAllBytes(Paths.get("/proc", Long.toString(pid), "cmdline"));
            args = List.of(new String(raw, StandardCharsets.UTF_8).split("\0"));
        } catch (IOException | RuntimeException e) {
            return "";
        }
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            if (OPTIONS_WITH_VALUE.contains(a)) {
                i++; // its value is not the main class
            } else if (a.equals("-jar") || a.equals("-m") || a.equals("--module")) {
                return String.join(" ", args.subList(Math.min(i + 1, args.size()), args.size()));
            } else if (!a.startsWith("-")) {
                return String.join(" ", args.subList(i, args.size()));
            }
        }
        return "";
    }

    /** The java launcher's options that take their value as the next word. */
    private static final java.util.Set<String> OPTIONS_WITH_VALUE = java.util.Set.of("-cp", "-classpath",
            "--class-path", "-p", "--module-path", "--upgrade-module-path", "--add-modules", "--limit-modules",
            "--add-reads", "--add-exports", "--add-opens", "--patch-module", "--enable-native-access");

    /** pauser.jar: the jar this class was loaded from, which is also the agent. */
    static Path ownJar() {
        Path p;
        try {
            p = Paths.get(Jvms.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new CliException(ExitCodes.FAILED, "cannot locate pauser.jar: " + e);
        }
        if (!Files.isRegularFile(p)) {
            throw new CliException(ExitCodes.FAILED, "attach needs pauser.jar, but this command runs from " + p);
        }
        return p;
    }

    /** An exception as one line: its message (or its class when it has none), newlines folded. */
    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
