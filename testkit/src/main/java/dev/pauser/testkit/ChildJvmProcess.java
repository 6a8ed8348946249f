package dev.pauser.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import com.sun.tools.attach.VirtualMachine;
import java.io.BufferedReader;
import java.io.File;
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
import java.util.function.BooleanSupplier;
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
 * A child JVM of an end-to-end test, started from a {@link ChildJvmCommand} as a user would start it. Collects its
 * output as lines, waits for a line or a condition with a deadline, waits for its exit, sends it signals with
 * {@code kill}, and reaches its MBeans as JConsole does (the Attach API, then the local management agent). A failed
 * wait fails the calling test with the command line and everything the child printed.
 *
 * <p>Threads: one daemon thread per output stream reads the child's output until the stream ends; every other method
 * runs on the caller's thread. A subclass adds what its tests need (a typed proxy of an MBean, a start method).
 */
public class ChildJvmProcess implements AutoCloseable {
    /** Put before each line of standard error where the command reads it apart from standard output. */
    public static final String STANDARD_ERROR_PREFIX = "err| ";

    private final Process process;
    private final List<String> command;
    /** Every line in arrival order (standard error prefixed where read apart), guarded by itself. */
    private final List<String> lines = new ArrayList<>();
    /** The lines of standard output, guarded by {@link #lines}. */
    private final List<String> stdout = new ArrayList<>();
    /** The threads reading the output; each ends at its stream's end. */
    private final List<Thread> pumps = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private JMXConnector connector;

    /** Starts the child that {@code command} describes. */
    protected ChildJvmProcess(ChildJvmCommand<?> command) throws IOException {
        this.command = List.copyOf(command.commandLine());
        this.process = command.start(this.command);
        pump(process.getInputStream(), "", true, "out");
        if (command.keepsStandardErrorApart()) {
            pump(process.getErrorStream(), STANDARD_ERROR_PREFIX, false, "err");
        }
    }

    /**
     * The java launcher of the JDK under test: {@code $pauser.test.javaHome/bin/java}, else the one running the tests.
     * Skips the test (by assumption) where {@code pauser.test.javaHome} names a JDK that is not installed here.
     */
    public static Path javaExecutable() {
        String home = System.getProperty("pauser.test.javaHome");
        if (home == null || home.isBlank()) {
            return Paths.get(System.getProperty("java.home"), "bin", "java");
        }
        Path java = Paths.get(home, "bin", "java");
        Assumptions.assumeTrue(Files.isExecutable(java), "JDK under test not installed here: " + java);
        return java;
    }

    /**
     * The built agent jar: system property {@code pauser.test.agentJar}, else {@code ../agent/target/pauser.jar}
     * (which is {@code agent/target/pauser.jar} seen from the agent's module and from a sibling module alike).
     */
    public static Path agentJar() {
        return builtFile("pauser.test.agentJar", "../agent/target/pauser.jar");
    }

    /**
     * A file the build makes, named by a system property the pom passes to the tests ({@code fallback} where the
     * property is not set: a test run from an IDE), as an absolute path. Fails the test where it is not built.
     */
    public static Path builtFile(String property, String fallback) {
        Path p = Paths.get(System.getProperty(property, fallback)).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            fail(p + " is not built (system property " + property + "); run the tests with mvn verify");
        }
        return p;
    }

    /** The class-path entry (directory or jar) that {@code c} was loaded from. */
    public static String codeSource(Class<?> c) {
        try {
            return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot tell where " + c.getName() + " was loaded from", e);
        }
    }

    /** The class-path entries of {@code classes}, joined with the platform's separator. */
    public static String classPathOf(Class<?>... classes) {
        List<String> entries = new ArrayList<>();
        for (Class<?> c : classes) {
            entries.add(codeSource(c));
        }
        return String.join(File.pathSeparator, entries);
    }

    private void pump(InputStream in, String prefix, boolean isStdout, String streamName) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        if (isStdout) {
                            stdout.add(line);
                        }
                        lines.add(prefix + line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "child-" + process.pid() + "-" + streamName);
        t.setDaemon(true);
        pumps.add(t);
        t.start();
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** The command line the child was started with. */
    public List<String> command() {
        return command;
    }

    /**
     * Everything the child printed so far, one line after another; standard error lines are prefixed with
     * {@link #STANDARD_ERROR_PREFIX} where the command reads them apart.
     */
    public String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /**
     * The lines of standard output so far; they include standard error unless the command
     * {@linkplain ChildJvmCommand#standardErrorApart() reads it apart}.
     */
    public List<String> stdout() {
        synchronized (lines) {
            return new ArrayList<>(stdout);
        }
    }

    /** The command line and everything printed: for failure messages. */
    public String describe() {
        return String.join(" ", command) + "\n" + output();
    }

    /**
     * Waits for a line (of any stream) in which {@code regex} is found (searched, not matched whole), looking at every
     * line from the first; returns its match. Fails the test after {@code timeout}.
     */
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
                    fail("no line matching /" + regex + "/ within " + timeout + " (alive=" + process.isAlive() + "): "
                            + describe());
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /**
     * Polls {@code condition} every 5 ms until it holds; fails the test after {@code timeout} or if the child exits
     * first. {@code what} names the condition in the failure message.
     */
    public void awaitCondition(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (!process.isAlive()) {
                fail("the child exited (status " + process.exitValue() + ") before " + what + ": " + describe());
            }
            if (System.nanoTime() > deadline) {
                fail("not within " + timeout + ": " + what + ": " + describe());
            }
            Thread.sleep(5);
        }
    }

    /**
     * Waits for the exit and returns the status, with every line the child printed collected. Fails the test (and
     * kills the child) after {@code timeout}.
     */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("the child did not exit within " + timeout + ": " + describe());
        }
        // the last lines may still be in the pipes: read to their ends (a loaded machine may be slow to run the pumps)
        for (Thread pump : pumps) {
            pump.join(TimeUnit.SECONDS.toMillis(60));
        }
        return process.exitValue();
    }

    /** Milliseconds since the start. */
    public long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Sends a signal by name (TERM, INT, KILL, ...) as a user does: {@code kill -NAME pid}. */
    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            fail("kill -" + name + " " + pid() + " failed");
        }
    }

    /**
     * The MBean server of the child, reached as JConsole does: the Attach API starts the child's local management
     * agent, then a JMX connection to it (made once, closed by {@link #close()}).
     */
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

    /**
     * A typed proxy of the MXBean {@code objectName} in the child, also a notification emitter. An MXBean speaks open
     * types only, so an interface with the operations a test calls is all it needs; none of the child's classes.
     */
    public <T> T mxBean(String objectName, Class<T> type) throws Exception {
        return JMX.newMXBeanProxy(jmx(), new ObjectName(objectName), type, true);
    }

    /** Closes the JMX connection and kills the child if it still runs. */
    @Override
    public void close() {
        if (connector != null) {
            try {
                connector.close();
            } catch (IOException e) {
                // the child may be gone
            }
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
