package dev.pauser.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;

/**
 * A training program of this module run in a child JVM under the agent, as a user runs one: its output read line by line
 * on a thread of its own, its Pauser MXBean reachable over local JMX. Used by one harness thread at a time.
 */
final class AgentChild implements AutoCloseable {
    private static final String EOF = "\u0000eof";
    private static final ObjectName PAUSER = objectName("dev.pauser:type=Pauser");

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private JMXConnector jmx;

    private AgentChild(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the child is gone: EOF below
            }
            lines.add(EOF);
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code main} of this module under {@code agent} with the agent options given and a heap of {@code heapMb}
     * MiB (direct buffer memory gets the same limit).
     */
    static AgentChild start(Path agent, String agentOptions, long heapMb, Class<?> main, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heapMb + "m", "-javaagent:" + agent.toAbsolutePath() + "=" + agentOptions,
                "-cp", codeSource(main) + File.pathSeparator + codeSource(dev.pauser.TrainStep.class), main.getName()));
        cmd.addAll(List.of(args));
        return new AgentChild(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** Waits (up to ten minutes) for an output line that matches; fails with the output so far if the child ends. */
    String await(Predicate<String> wanted, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals(EOF)) {
                throw new IllegalStateException("the child ended or went silent before " + what + "; its output:\n"
                        + String.join("\n", seen));
            }
            seen.add(line);
            if (wanted.test(line)) {
                return line;
            }
        }
    }

    /** Asks for a checkpoint over JMX and waits until it is durable; fails when the agent reports a failure. */
    void checkpointAndWait() throws Exception {
        String result = (String) mbeans().invoke(PAUSER, "checkpointAndWait", new Object[] {600_000L},
                new String[] {"long"});
        if (result.startsWith("checkpoint failed")) {
            throw new IllegalStateException(result);
        }
    }

    long attribute(String name) throws Exception {
        return (Long) mbeans().getAttribute(PAUSER, name);
    }

    private MBeanServerConnection mbeans() throws Exception {
        if (jmx == null) {
            jmx = LocalJmx.connect(process.pid());
        }
        return jmx.getMBeanServerConnection();
    }

    @Override
    public void close() throws Exception {
        try {
            if (jmx != null) {
                jmx.close();
            }
        } catch (IOException ignored) {
            // the child is killed next anyway
        }
        process.destroyForcibly();
        process.waitFor();
    }

    private static String codeSource(Class<?> c) {
        try {
            return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectName objectName(String s) {
        try {
            return new ObjectName(s);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }
}
