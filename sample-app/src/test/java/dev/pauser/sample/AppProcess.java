package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.fail;

import com.sun.tools.attach.VirtualMachine;
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
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMX;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The sample app in a child JVM, started as a user starts it: {@code java [-javaagent:pauser.jar=options] -jar
 * sample-app.jar args}, with the java of the JVM running the tests. Collects standard output and standard error as
 * lines (apart, so the result lines never mix with the agent's log), sends signals with {@code kill}, and reaches the
 * agent's MXBean as JConsole does (Attach API, then the local management agent).
 */
final class AppProcess implements AutoCloseable {

    /**
     * The few operations of the agent's {@code dev.pauser.agent.jmx.PauserMXBean} this test uses: an MXBean speaks open
     * types only, so an interface with the same names is all a client needs (the agent's classes are not on this
     * module's class path).
     */
    public interface PauserMXBean {
        String getState();

        long getStep();

        long getLastCheckpointStep();

        String pauseAndWait(long timeoutMillis);

        void resume();
    }

    private final Process process;
    private final List<String> command;
    private final List<String> stdout = new ArrayList<>();
    /** Both streams in arrival order, standard error prefixed with {@code "err| "}: for waits and failure messages. */
    private final List<String> all = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    /** The threads reading standard output and standard error; each ends at its stream's end. */
    private final List<Thread> pumps = new ArrayList<>();
    private JMXConnector connector;

    private AppProcess(Process process, List<String> command) {
        this.process = process;
        this.command = command;
        pump(process.getInputStream(), "", true);
        pump(process.getErrorStream(), "err| ", false);
    }

    /** {@code agentOptions == null}: no agent. */
    static AppProcess start(String agentOptions, List<String> appArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        if (agentOptions != null) {
            cmd.add("-javaagent:" + existing("pauser.test.agentJar", "../agent/target/pauser.jar")
                    + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        cmd.add("-jar");
        cmd.add(existing("pauser.test.appJar", "target/sample-app.jar").toString());
        cmd.addAll(appArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("PAUSER_")); // no options from the caller's environment
        return new AppProcess(pb.start(), cmd);
    }

    private static Path existing(String property, String fallback) {
        Path p = Paths.get(System.getProperty(property, fallback)).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            fail(p + " is not built (system property " + property + "); run the tests with mvn verify");
        }
        return p;
    }

    private void pump(InputStream in, String prefix, boolean isStdout) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (all) {
                        if (isStdout) {
                            stdout.add(line);
                        }
                        all.add(prefix + line);
                        all.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "app-output-" + process.pid() + (isStdout ? "-out" : "-err"));
        t.setDaemon(true);
        pumps.add(t);
        t.start();
    }

    long pid() {
        return process.pid();
    }

    List<String> command() {
        return command;
    }

    /** Standard output so far. */
    List<String> stdout() {
        synchronized (all) {
            return new ArrayList<>(stdout);
        }
    }

    /** Both streams so far, standard error prefixed with {@code "err| "}. */
    String output() {
        synchronized (all) {
            return String.join("\n", all);
        }
    }

    /** The command line and everything printed: for failure messages. */
    String describe() {
        return String.join(" ", command) + "\n" + output();
    }

    /** Waits for a line (of either stream) in which {@code regex} is found; returns the match. */
    Matcher awaitLine(String regex, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        synchronized (all) {
            while (true) {
                for (; seen < all.size(); seen++) {
                    Matcher m = p.matcher(all.get(seen));
                    if (m.find()) {
                        return m;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("no line matching /" + regex + "/ within " + timeout + " (alive=" + process.isAlive() + "): "
                            + describe());
                }
                all.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** Polls {@code condition} every 5 ms until it holds; fails the test after {@code timeout} or if the child exits. */
    void awaitCondition(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
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

    /** Waits for the exit and returns the status; fails (and kills the child) on timeout. */
    int awaitExit(Duration timeout) throws InterruptedException {
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
    long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Sends a signal as a user does: {@code kill -NAME pid}. */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            fail("kill -" + name + " " + pid() + " failed");
        }
    }

    /** The agent's MXBean in the child. */
    PauserMXBean pauser() throws Exception {
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
        return JMX.newMXBeanProxy(connector.getMBeanServerConnection(), new ObjectName("dev.pauser:type=Pauser"),
                PauserMXBean.class);
    }

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
