package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/REFERENCE.md "Remote JMX, safely", run as written on this machine's loopback: the commands are read out of that
 * page, with its host name replaced by {@code localhost} and its port by a free one. Its shell block makes the key
 * store, the password, access and SSL files (run by {@code sh} with HOME a temporary directory); a child JVM starts
 * with the agent and exactly the documented server flags; separate client JVMs, started with exactly the documented client properties,
 * connect as JConsole does and as the page's client program does, pause and resume as controlRole, are refused as
 * monitorRole, and fail without the trust store or its password.
 */
class RemoteJmxIT {
    private static final String DOC_HOST = "trainer.example.com";
    private static final String DOC_PORT = "9010";
    /** The name the certificate gets and the clients connect to; loopback, so the JMX port listens there only. */
    private static final String HOST = "localhost";
    private static final Duration LONG = Duration.ofMinutes(2);

    @TempDir
    Path home;

    @Test
    void tlsAndPasswordsAsDocumented() throws Exception {
        Path jmxDir = runSetupBlock();
        Map<String, String> passwords = passwords(jmxDir);
        int port = freePort();

        List<String> serverFlags = serverFlags(block("registry.ssl=true"), port);
        try (ChildJvm child = startServer(serverFlags)) {
            PauserMXBean local = child.pauser();

            String clientBlock = block("jconsole -J");
            for (String keytool : commands(clientBlock, "keytool")) {
                assertEquals(0, run(List.of("sh", "-euc", keytool), jmxDir, Map.of()).exit, keytool);  // next to server.crt
            }
            List<String> jconsole = tokens(commands(clientBlock, "jconsole").get(0));
            List<String> trustProps = clientProperties(jconsole);
            assertTrue(trustProps.stream().anyMatch(p -> p.startsWith("-Djavax.net.ssl.trustStore=")),
                    "jconsole is given no trust store: " + jconsole);
            assertEquals(DOC_HOST + ":" + DOC_PORT, jconsole.get(jconsole.size() - 1), "jconsole's target");

            Result pause = client(jmxDir, trustProps, "jconsole", HOST, port, "controlRole", passwords, "pause");
            assertEquals(0, pause.exit, "controlRole pause through JConsole's connection: " + pause);
            Steps.await("PAUSED after a remote pause", LONG.toMillis(), local::isPaused);

            Result refused = client(jmxDir, trustProps, "jconsole", HOST, port, "monitorRole", passwords, "resume");
            assertEquals(3, refused.exit, "monitorRole resume: " + refused);
            assertTrue(refused.out.contains("Access denied"), refused.toString());
            assertTrue(local.isPaused(), "a refused resume resumed");

            Result resume = client(jmxDir, trustProps, "program", HOST, port, "controlRole", passwords, "resume");
            assertEquals(0, resume.exit, "controlRole resume from the page's client program: " + resume);
            Steps.await("RUNNING after a remote resume", LONG.toMillis(), () -> !local.isPaused());

            // what fails as the page says: no trust store; a trust store without its password
            Result noTrust = client(jmxDir, List.of(), "jconsole", HOST, port, "controlRole", passwords, "pause");
            assertEquals(1, noTrust.exit, "connected without the trust store: " + noTrust);
            assertTrue(noTrust.out.contains("non-JRMP server at remote endpoint"), noTrust.toString());
            List<String> storeOnly = trustProps.stream().filter(p -> !p.contains("trustStorePassword=")).toList();
            Result noPassword = client(jmxDir, storeOnly, "program", HOST, port, "controlRole", passwords, "pause");
            assertEquals(1, noPassword.exit, "connected without the trust store's password: " + noPassword);
            assertTrue(noPassword.out.contains("the trustAnchors parameter must be non-empty"), noPassword.toString());
            assertTrue(!local.isPaused(), "a failed connection paused the run");

            assertOnlyLoopbackReaches(port);
        }
    }

    @Test
    void sshTunnelFlagsListenOnLoopbackWithPasswords() throws Exception {
        Path jmxDir = runSetupBlock();
        Map<String, String> passwords = passwords(jmxDir);
        int port = freePort();

        String tunnelBlock = block("ssh -N -L");
        List<String> serverFlags = serverFlags(block("jmxremote.ssl=false"), port);
        assertTrue(serverFlags.contains("-Dcom.sun.management.jmxremote.host=127.0.0.1"), serverFlags.toString());
        List<String> ssh = tokens(commands(tunnelBlock, "ssh").get(0));
        assertEquals(DOC_PORT + ":127.0.0.1:" + DOC_PORT, ssh.get(ssh.indexOf("-L") + 1), "the tunnel keeps the port");
        List<String> jconsole = tokens(commands(tunnelBlock, "jconsole").get(0));
        String[] target = jconsole.get(jconsole.size() - 1).split(":");
        assertEquals(DOC_PORT, target[1], "jconsole's target port");

        try (ChildJvm child = startServer(serverFlags)) {
            PauserMXBean local = child.pauser();
            Result pause = client(jmxDir, clientProperties(jconsole), "jconsole", target[0], port, "controlRole",
                    passwords, "pause");
            assertEquals(0, pause.exit, "controlRole pause at the tunnel's end: " + pause);
            Steps.await("PAUSED after a pause through the loopback port", LONG.toMillis(), local::isPaused);

            Result wrong = client(jmxDir, List.of(), "jconsole", target[0], port, "controlRole",
                    Map.of("controlRole", "not-the-password"), "resume");
            assertEquals(1, wrong.exit, "a wrong password connected: " + wrong);
            assertTrue(local.isPaused());

            assertOnlyLoopbackReaches(port);
        }
    }

    // --- the page

    private static String remoteJmxSection() throws IOException {
        Path reference = Paths.get(System.getProperty("pauser.test.reference", "../docs/REFERENCE.md"));
        String doc = Files.readString(reference, StandardCharsets.UTF_8);
        int start = doc.indexOf("\n## Remote JMX, safely\n");
        assertTrue(start >= 0, reference + " has no section 'Remote JMX, safely'");
        int end = doc.indexOf("\n## ", start + 1);
        return doc.substring(start, end < 0 ? doc.length() : end);
    }

    /** The fenced block of the section that contains {@code marker}. */
    private static String block(String marker) throws IOException {
        Matcher m = Pattern.compile("```\\w*\\n(.*?)\\n```", Pattern.DOTALL).matcher(remoteJmxSection());
        while (m.find()) {
            if (m.group(1).contains(marker)) {
                return m.group(1);
            }
        }
        return fail("no block with '" + marker + "' in REFERENCE.md's 'Remote JMX, safely'");
    }

    /** The block's commands (continuation lines joined) that start with {@code program}. */
    private static List<String> commands(String block, String program) {
        List<String> found = new ArrayList<>();
        for (String line : block.replace("\\\n", " ").split("\n")) {
            if (line.strip().startsWith(program + " ")) {
                found.add(line.strip());
            }
        }
        assertTrue(!found.isEmpty(), "no '" + program + "' command in:\n" + block);
        return found;
    }

    private static List<String> tokens(String command) {
        return List.of(command.trim().split("\\s+"));
    }

    /** The {@code -D} flags of the block's java command, for this machine: HOME, host and port replaced. */
    private List<String> serverFlags(String block, int port) {
        List<String> java = tokens(commands(block, "java").get(0));
        assertTrue(java.contains("-javaagent:pauser.jar"), "the server command loads the agent: " + java);
        List<String> flags = new ArrayList<>();
        for (String token : java) {
            if (token.startsWith("-D")) {
                flags.add(token.replace("$HOME", home.toString()).replace(DOC_HOST, HOST)
                        .replace("=" + DOC_PORT, "=" + port));
            }
        }
        return flags;
    }

    /** jconsole's {@code -J-Dkey=value} flags as the client JVM's {@code -Dkey=value}. */
    private static List<String> clientProperties(List<String> jconsole) {
        return jconsole.stream().filter(t -> t.startsWith("-J-D")).map(t -> t.substring(2)).toList();
    }

    /** Runs the page's first block, which makes the files, with HOME this test's directory; returns their directory. */
    private Path runSetupBlock() throws Exception {
        String setup = block("keytool -genkeypair").replace(DOC_HOST, HOST);
        Result r = run(List.of("sh", "-euc", setup), home, Map.of("HOME", home.toString()));
        assertEquals(0, r.exit, "the setup commands: " + r);
        Path dir = home.resolve(".pauser-jmx");
        assertTrue(Files.isRegularFile(dir.resolve("server.p12")) && Files.isRegularFile(dir.resolve("server.crt")),
                "no key store or certificate in " + dir);
        return dir;
    }

    /** role -> password, read before the server's first login replaces them with hashes. */
    private static Map<String, String> passwords(Path jmxDir) throws IOException {
        Map<String, String> passwords = new HashMap<>();
        for (String line : Files.readAllLines(jmxDir.resolve("jmxremote.password"))) {
            String[] words = line.trim().split("\\s+");
            if (words.length == 2) {
                passwords.put(words[0], words[1]);
            }
        }
        assertTrue(passwords.containsKey("controlRole") && passwords.containsKey("monitorRole"), passwords.toString());
        return passwords;
    }

    // --- the server and the clients

    private ChildJvm startServer(List<String> flags) throws Exception {
        ChildJvm.Builder b = ChildJvm.builder().agent(null).workDir(Files.createDirectories(home.resolve("run")));
        flags.forEach(b::jvmArg);
        ChildJvm child = b.main(Trainer.class, "--steps", "100000", "--delay-ms", "20").start();
        // the JVM's JMX agent listens before main runs
        child.awaitLine("^ready$", LONG);
        return child;
    }

    record Result(int exit, String out) {
    }

    /** A client JVM: the JDK under test, the given system properties, {@link RemoteJmxClient}. */
    private static Result client(Path workDir, List<String> properties, String mode, String host, int port,
            String user, Map<String, String> passwords, String operation) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaExecutable().toString(), "-Djava.awt.headless=true",
                "--add-exports", "jdk.jconsole/sun.tools.jconsole=ALL-UNNAMED",
                "--add-opens", "jdk.jconsole/sun.tools.jconsole=ALL-UNNAMED"));
        cmd.addAll(properties);
        cmd.addAll(List.of("-cp", ChildJvm.codeSource(RemoteJmxClient.class), RemoteJmxClient.class.getName(), mode,
                host, Integer.toString(port), user, passwords.get(user), operation));
        return run(cmd, workDir, Map.of());
    }

    private static Result run(List<String> cmd, Path workDir, Map<String, String> env) throws Exception {
        Path out = Files.createTempFile("pauser-remote-jmx-", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", cmd) + " did not end within " + LONG + ":\n" + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The port answers on 127.0.0.1 and on none of this machine's other addresses. */
    private static void assertOnlyLoopbackReaches(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        }
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address.isLoopbackAddress() || address.isLinkLocalAddress()) {
                    continue;
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(address, port), 10_000);
                    fail("the JMX port " + port + " answers on " + address + ", not only on loopback");
                } catch (ConnectException expected) {
                    // refused: nothing listens there
                }
            }
        }
    }
}
