package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.tools.attach.VirtualMachine;
import dev.pauser.agent.control.ControlDirectory;
import dev.pauser.fixture.ControlProbe;
import dev.pauser.fixture.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the command line reaches a JVM: over the agent's owner-only Unix-domain socket, so the JVM never listens on a TCP
 * port; other users can't use it; a killed JVM's socket does no harm; garbage on it gets an error and the run goes on.
 */
class ControlSocketIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A uid with no account here: a user that is neither the JVM's nor root. */
    private static final String STRANGER_UID = "12345";

    @TempDir
    Path dir;

    /**
     * The first JVM refuses attach ({@code -XX:+DisableAttachMechanism}): the command line reaches it through its
     * socket alone, and no other tool on this machine can start a JMX agent in it meanwhile, so a listener would be the
     * command line's doing. The second gets the agent through {@code pauser attach}.
     */
    @Test
    void noCommandLeavesTheJvmListeningOnATcpPort() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir).jvmArg("-XX:+DisableAttachMechanism")
                .main(Trainer.class, "--steps", "6000", "--delay-ms", "10", "--log").start()) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            assertNoTcpListener(child, "before any command");
            for (String[] command : new String[][] {{"list"}, {"status", pid}, {"pause", pid, "--wait=60s"},
                {"status", pid, "--json"}, {"resume", pid}, {"checkpoint", pid, "--wait=60s"}}) {
                CliIT.Result r = CliIT.pauser(command);
                assertEquals(0, r.exit(), r.toString());
                assertNoTcpListener(child, "after pauser " + String.join(" ", command));
            }
            CliIT.Result list = CliIT.pauser("list");
            assertTrue(java.util.regex.Pattern.compile("(?m)^" + pid + "\\s+RUNNING\\s+\\d+\\s+"
                    + Trainer.class.getName() + " --steps 6000").matcher(list.out()).find(),
                    "list does not show the run that refuses attach:\n" + list);
            List<Path> sockets = ControlDirectory.published(child.pid());
            assertEquals(1, sockets.size(), "the socket in its default place: " + sockets);
            CliIT.Result stop = CliIT.pauser("stop", pid, "--wait=60s");
            assertEquals(0, stop.exit(), stop.toString());
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
            assertFalse(Files.exists(sockets.get(0), LinkOption.NOFOLLOW_LINKS), "the JVM exited leaving its socket");
        }
        try (ChildJvm child = ChildJvm.builder().noAgent()
                .main(Trainer.class, "--steps", "6000", "--delay-ms", "10", "--log").start()) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            CliIT.Result attached = CliIT.pauser("attach", pid, "dir=" + dir.resolve("attached"));
            assertEquals(0, attached.exit(), attached.toString());
            assertNoTcpListener(child, "after pauser attach");
            CliIT.Result status = CliIT.pauser("status", pid);
            assertEquals(0, status.exit(), status.toString());
            assertNoTcpListener(child, "after pauser status of the attached agent");
        }
    }

    @Test
    void garbageOnTheSocketGetsAnErrorAndTheRunGoesOn() throws Exception {
        try (ChildJvm child = CliIT.trainerWithAgent(dir, "10")) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            Path socket = socketOf(child);
            try (SocketChannel ch = connect(socket)) {
                write(ch, "\u0001\u00ff{{{ not json\n");
                JsonNode error = JSON.readTree(readLine(ch));
                assertEquals(-32700, error.get("error").get("code").asInt(), error.toString());
                write(ch, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"invoke\",\"params\":{\"operation\":\"pauseAndWait\","
                        + "\"arguments\":[\"soon\"],\"signature\":[\"long\"]}}\n");
                JsonNode badParams = JSON.readTree(readLine(ch));
                assertEquals(-32602, badParams.get("error").get("code").asInt(), badParams.toString());
                assertEquals(7, badParams.get("id").asInt());
                write(ch, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"getAttribute\",\"params\":{\"attribute\":\"State\"}}\n");
                assertEquals("RUNNING", JSON.readTree(readLine(ch)).get("result").asText());
            }
            try (SocketChannel ch = connect(socket)) {
                byte[] blob = new byte[1 << 20];
                java.util.Arrays.fill(blob, (byte) '[');
                try {
                    write(ch, new String(blob, StandardCharsets.US_ASCII));
                } catch (IOException closed) {
                    // the agent stops reading at its limit and closes: expected
                }
                JsonNode tooLong = JSON.readTree(readLine(ch));
                assertEquals(-32600, tooLong.get("error").get("code").asInt(), tooLong.toString());
            }
            long step = statusStep(child);
            Steps.await("the run goes on past step " + step, 60_000, () -> statusStep(child) > step);
            assertTrue(child.process().isAlive());
        }
    }

    @Test
    void aKilledJvmsSocketIsRemovedByTheNextAgentAndCommandsFindNoJvm() throws Exception {
        Path stale;
        long killedPid;
        try (ChildJvm first = CliIT.trainerWithAgent(dir.resolve("a"), "10")) {
            first.awaitLine("done step=3", Duration.ofSeconds(60));
            stale = socketOf(first);
            killedPid = first.pid();
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(60));
        }
        assertTrue(Files.exists(stale, LinkOption.NOFOLLOW_LINKS), "kill -9 runs no clean-up: " + stale + " should stay");
        CliIT.Result gone = CliIT.pauser("status", Long.toString(killedPid));
        assertEquals(3, gone.exit(), gone.toString());
        assertEquals("pauser: no JVM with pid " + killedPid, gone.oneErrorLine());
        try (ChildJvm next = CliIT.trainerWithAgent(dir.resolve("b"), "10")) {
            next.awaitLine("done step=3", Duration.ofSeconds(60));
            Steps.await("the stale socket " + stale + " removed", 60_000,
                    () -> !Files.exists(stale, LinkOption.NOFOLLOW_LINKS));
            CliIT.Result status = CliIT.pauser("status", Long.toString(next.pid()));
            assertEquals(0, status.exit(), status.toString());
        }
    }

    /**
     * The socket's directory keeps other users out; the agent's check of the peer's credentials refuses them even where
     * the directory lets them through (opened here on purpose for the test).
     */
    @Test
    void anotherUserCanNotUseTheSocket() throws Exception {
        assumeRootWithSetpriv();
        try (ChildJvm child = CliIT.trainerWithAgent(dir, "10")) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            Path socket = socketOf(child);
            String request = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"invoke\",\"params\":{\"operation\":\"stop\","
                    + "\"arguments\":[],\"signature\":[]}}";
            CliIT.Result blocked = asUser("65534", ChildJvm.javaExecutable().toString(), "-cp",
                    ChildJvm.fixtureClassPath(), ControlProbe.class.getName(), socket.toString(), request);
            assertTrue(blocked.out().startsWith("connect failed: "), blocked.toString());

            Path socketDir = socket.getParent();
            Set<PosixFilePermission> dirMode = Files.getPosixFilePermissions(socketDir);
            Set<PosixFilePermission> socketMode = Files.getPosixFilePermissions(socket);
            try {
                Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwx--x--x"));
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
                CliIT.Result refused = asUser(STRANGER_UID, ChildJvm.javaExecutable().toString(), "-cp",
                        ChildJvm.fixtureClassPath(), ControlProbe.class.getName(), socket.toString(), request);
                assertTrue(refused.out().startsWith("response: "), refused.toString());
                JsonNode response = JSON.readTree(refused.out().substring("response: ".length()));
                assertEquals(-32001, response.get("error").get("code").asInt(), response.toString());
                assertTrue(response.get("error").get("message").asText().startsWith("user " + STRANGER_UID
                        + " may not control this JVM"), response.toString());
            } finally {
                Files.setPosixFilePermissions(socket, socketMode);
                Files.setPosixFilePermissions(socketDir, dirMode);
            }
            child.awaitLine("refused a control connection from user " + STRANGER_UID, Duration.ofSeconds(60));
            assertTrue(child.process().isAlive(), "the refused stop request was carried out");
            CliIT.Result status = CliIT.pauser("status", Long.toString(child.pid()), "--json");
            assertEquals("RUNNING", JSON.readTree(status.out()).get("state").asText(), status.toString());
        }
    }

    /** As another user the command line names the JVM's owner, exit 5; root may control any user's JVM. */
    @Test
    void aJvmOfAnotherUserIsExitFiveNamingItsOwner() throws Exception {
        assumeRootWithSetpriv();
        try (ChildJvm child = CliIT.trainerWithAgent(dir, "10")) {
            child.awaitLine("done step=3", Duration.ofSeconds(60));
            String pid = Long.toString(child.pid());
            for (String command : List.of("status", "pause", "attach")) {
                List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaExecutable().toString(), "-jar",
                        ChildJvm.agentJar().toString(), command, pid));
                CliIT.Result r = asUser("65534", cmd.toArray(new String[0]));
                assertEquals(5, r.exit(), r.toString());
                assertEquals("pauser: JVM " + pid + " belongs to user root; run pauser as root", r.oneErrorLine());
            }
        }
        Path nobodysDir = Files.createDirectory(dir.resolve("nobody"));
        Files.setOwner(nobodysDir, nobodysDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (ChildJvm nobodys = ChildJvm.builder().launcher("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
                .workDir(nobodysDir).agent("dir=" + nobodysDir.resolve("ckpt"))
                .main(Trainer.class, "--steps", "6000", "--delay-ms", "10", "--log").start()) {
            nobodys.awaitLine("done step=3", Duration.ofSeconds(60));
            CliIT.Result status = CliIT.pauser("status", Long.toString(nobodys.pid()), "--json");
            assertEquals(0, status.exit(), status.toString());
            assertEquals(nobodys.pid(), JSON.readTree(status.out()).get("pid").asLong());
        }
    }

    private static void assumeRootWithSetpriv() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run commands as others");
        Assumptions.assumeTrue(Files.isExecutable(Paths.get("/usr/bin/setpriv")), "needs setpriv (util-linux)");
    }

    /** Runs a command as another uid (and the same gid), no supplementary groups. */
    private static CliIT.Result asUser(String uid, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
        cmd.addAll(List.of(command));
        return CliIT.run(cmd, Duration.ofSeconds(120));
    }

    /** The step `pauser status` reports. */
    private static long statusStep(ChildJvm child) {
        try {
            CliIT.Result r = CliIT.pauser("status", Long.toString(child.pid()), "--json");
            assertEquals(0, r.exit(), r.toString());
            return JSON.readTree(r.out()).get("step").asLong();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The control socket the agent in {@code child} announces, read as the command line does (Attach API): once the
     * agent has announced itself, which it does beside the program's main ({@code pauser.agent.starting} until then).
     */
    static Path socketOf(ChildJvm child) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(child.pid()));
        try {
            child.awaitCondition("the agent announces itself", () -> {
                try {
                    return vm.getSystemProperties().getProperty("pauser.agent.starting") == null;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, Duration.ofSeconds(60));
            String path = vm.getSystemProperties().getProperty("pauser.agent.control");
            assertTrue(path != null, "the agent announces no control socket");
            return Paths.get(path);
        } finally {
            vm.detach();
        }
    }

    /**
     * Fails if the process has a listening TCP socket: the LISTEN rows (state 0A) of /proc/pid/net/tcp and tcp6 whose
     * inode is one of the process's file descriptors; and, where ss is installed, its listening sockets of that pid.
     */
    static void assertNoTcpListener(ChildJvm child, String when) throws Exception {
        long pid = child.pid();
        Set<String> listening = new HashSet<>();
        for (String table : List.of("tcp", "tcp6")) {
            Path file = Paths.get("/proc", Long.toString(pid), "net", table);
            if (!Files.exists(file)) {
                continue;
            }
            for (String row : Files.readAllLines(file).subList(1, Files.readAllLines(file).size())) {
                String[] f = row.trim().split("\\s+");
                if (f.length > 9 && f[3].equals("0A")) {
                    listening.add(f[9]);
                }
            }
        }
        List<String> mine = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Paths.get("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && listening.contains(target.substring(8, target.length() - 1))) {
                        mine.add(fd + " -> " + target);
                    }
                } catch (IOException closedMeanwhile) {
                    // a descriptor closed while we looked
                }
            }
        }
        assertTrue(mine.isEmpty(), "JVM " + pid + " listens on TCP " + when + ": " + mine);
        if (Files.isExecutable(Paths.get("/usr/bin/ss")) || Files.isExecutable(Paths.get("/usr/sbin/ss"))) {
            CliIT.Result ss = CliIT.run(List.of("ss", "-ltnp"), Duration.ofSeconds(60));
            assertEquals(0, ss.exit(), ss.toString());
            assertFalse(ss.out().contains("pid=" + pid + ","), "ss -ltnp shows JVM " + pid + " listening " + when
                    + ":\n" + ss.out());
        }
        assertTrue(child.process().isAlive(), "the JVM ended " + when + ":\n" + child.output());
    }

    private static SocketChannel connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private static void write(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static String readLine(SocketChannel ch) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) {
                fail("the connection closed after: " + line.toString(StandardCharsets.UTF_8));
            }
            if (one.get(0) == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(one.get(0));
        }
    }
}
