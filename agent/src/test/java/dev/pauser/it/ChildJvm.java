package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.fail;

import com.sun.tools.attach.VirtualMachine;
import dev.pauser.agent.jmx.PauserMXBean;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMX;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Assumptions;

/**
 * A child JVM for end-to-end tests, started as a user would start one: {@code java -javaagent:pauser.jar[=options] ...}.
 * Collects its output, reaches it over JMX through the Attach API, sends it signals.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final List<String> command;
    /** Reads the child's output; ends at the end of the stream. */
    private final Thread pump;
    private JMXConnector connector;

    private ChildJvm(Process process, List<String> command) {
        this.process = process;
        this.command = command;
        this.pump = pump(process.getInputStream());
    }

    /** The java launcher of the JDK under test: {@code pauser.test.javaHome}, else the one running the tests. */
    public static Path javaExecutable() {
        String home = System.getProperty("pauser.test.javaHome");
        if (home == null || home.isBlank()) {
            return Paths.get(System.getProperty("java.home"), "bin", "java");
        }
        Path java = Paths.get(home, "bin", "java");
        Assumptions.assumeTrue(Files.isExecutable(java), "JDK under test not installed here: " + java);
        return java;
    }

    /** The built agent jar. */
    public static Path agentJar() {
        Path jar = Paths.get(System.getProperty("pauser.test.agentJar", "target/pauser.jar"));
        if (!Files.isRegularFile(jar)) {
            fail("pauser.jar not built at " + jar.toAbsolutePath() + "; run the tests with mvn verify");
        }
        return jar.toAbsolutePath();
    }

    /**
     * The class path for fixture programs: the test classes and the pauser-runtime annotations, and nothing of the
     * agent (the agent reaches them through -javaagent only, as in a user's program).
     */
    public static String fixtureClassPath() {
        return String.join(java.io.File.pathSeparator, codeSource(ChildJvm.class), codeSource(dev.pauser.TrainStep.class));
    }

    static String codeSource(Class<?> c) {
        try {
            return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds the command line of a child JVM. */
    public static final class Builder {
        private String agentOptions;
        private boolean agent = true;
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> tail = new ArrayList<>();
        private final List<String> launcher = new ArrayList<>();
        private Path workDir;
        private final java.util.Map<String, String> env = new java.util.HashMap<>();

        /** Loads the agent with these options ({@code null}: none). */
        public Builder agent(String options) {
            this.agent = true;
            this.agentOptions = options;
            return this;
        }

        public Builder noAgent() {
            this.agent = false;
            return this;
        }

        public Builder jvmArg(String arg) {
            jvmArgs.add(arg);
            return this;
        }

        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /**
         * Starts the JVM through this command (which must exec its arguments, keeping the pid), e.g.
         * {@code env --default-signal=INT}.
         */
        public Builder launcher(String... command) {
            launcher.addAll(List.of(command));
            return this;
        }

        public Builder workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        /** Runs {@code mainClass} from the fixture class path. */
        public Builder main(Class<?> mainClass, String... args) {
            tail.add("-cp");
            tail.add(fixtureClassPath());
            tail.add(mainClass.getName());
            tail.addAll(List.of(args));
            return this;
        }

        /** Runs {@code java -jar jar args}. */
        public Builder jar(Path jar, String... args) {
            tail.add("-jar");
            tail.add(jar.toString());
            tail.addAll(List.of(args));
            return this;
        }

        public ChildJvm start() throws IOException {
            List<String> cmd = new ArrayList<>(launcher);
            cmd.add(javaExecutable().toString());
            if (agent) {
                cmd.add("-javaagent:" + agentJar() + (agentOptions == null ? "" : "=" + agentOptions));
            }
            cmd.addAll(jvmArgs);
            cmd.addAll(tail);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (workDir != null) {
                pb.directory(workDir.toFile());
            }
            pb.environment().keySet().removeIf(k -> k.startsWith("PAUSER_"));
            pb.environment().putAll(env);
            return new ChildJvm(pb.start(), cmd);
        }
    }

    private Thread pump(InputStream in) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "child-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Everything the child printed so far (stdout and stderr). */
    public String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /** Waits for a line matching {@code regex} (searched, not matched whole); returns its match. */
    public Matcher awaitLine(String regex, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        synchronized (lines) {
            while (true) {
                for (; seen < lines.size(); seen++) {
                    Matcher m = p.matcher(lines.get(seen));
                    if (m.find()) {
                        return m;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("no line matching /" + regex + "/ within " + timeout + " (alive=" + process.isAlive()
                            + "); output:\n" + String.join("\n", lines));
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** Waits for the exit; returns the status. Fails the test on timeout (the child is killed). */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("the child did not exit within " + timeout + "; output:\n" + output());
        }
        // the last lines may still be in the pipe: read to its end (a loaded machine may be slow to run the pump)
        pump.join(TimeUnit.SECONDS.toMillis(60));
        return process.exitValue();
    }

    /** Sends a signal by name (TERM, INT, KILL), as {@code kill -NAME pid} does. */
    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            fail("kill -" + name + " " + pid() + " failed");
        }
    }

    /** The MBean server of the child, reached as JConsole does: Attach API, then the local management agent. */
    public MBeanServerConnection jmx() throws Exception {
        if (connector == null) {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(pid()));
            String url;
            try {
                url = vm.startLocalManagementAgent();
            } finally {
                vm.detach();
            }
            connector = JMXConnectorFactory.connect(new JMXServiceURL(url));
        }
        return connector.getMBeanServerConnection();
    }

    /** A typed proxy of the Pauser MXBean in the child (open types: the interface is all the client needs). */
    public PauserMXBean pauser() throws Exception {
        return JMX.newMXBeanProxy(jmx(), new ObjectName(PauserMXBean.OBJECT_NAME), PauserMXBean.class, true);
    }

    public List<String> command() {
        return command;
    }

    @Override
    public void close() {
        try {
            if (connector != null) {
                connector.close();
            }
        } catch (IOException e) {
            // the child may be gone already
        }
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
