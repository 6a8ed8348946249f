package dev.pauser.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.contract.JsonRpc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The control socket served for real, reached with plain socket channels as any client would. */
class ControlServerTest {
    private static final String GET_COUNT =
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAttribute\",\"params\":{\"attribute\":\"Count\"}}\n";

    private final Sample sample = new Sample();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private ControlServer server;

    ControlServerTest() throws Exception {
    }

    private ControlServer start(long idleMillis) throws IOException {
        server = ControlServer.start(new MBeanCalls(sample.server(), sample.name()), logged::add, idleMillis);
        return server;
    }

    @AfterEach
    void close() {
        sample.release();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theSocketLivesInAnOwnerOnlyDirectoryAndIsRemovedOnClose() throws Exception {
        Path socket = start(30_000).path();
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), socket.toString());
        Path dir = socket.getParent();
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)));
        assertEquals(Files.getOwner(Path.of("/proc/self")), Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS));
        assertTrue(socket.getFileName().toString().startsWith(ProcessHandle.current().pid() + "-"), socket.toString());
        assertTrue(socket.toString().getBytes(StandardCharsets.UTF_8).length <= ControlDirectory.MAX_PATH_BYTES);
        server.close();
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "socket left behind: " + socket);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
        start(30_000);
        try (SocketChannel ch = connect()) {
            write(ch, GET_COUNT + GET_COUNT.replace("\"id\":1", "\"id\":2").replace("Count", "Name"));
            JsonNode first = JsonRpcTestSupport.parse(readLine(ch));
            JsonNode second = JsonRpcTestSupport.parse(readLine(ch));
            assertEquals(7, first.get("result").asLong(), first.toString());
            assertEquals("sample", second.get("result").asText(), second.toString());
            assertEquals(2, second.get("id").asInt());
        }
    }

    @Test
    void garbageGetsAnErrorAndTheConnectionServesTheNextRequest() throws Exception {
        start(30_000);
        try (SocketChannel ch = connect()) {
            write(ch, "\u0000\u00ff not json at all\n");
            JsonNode error = JsonRpcTestSupport.parse(readLine(ch));
            assertEquals(JsonRpc.PARSE_ERROR, error.get("error").get("code").asInt(), error.toString());
            write(ch, GET_COUNT);
            assertEquals(7, JsonRpcTestSupport.parse(readLine(ch)).get("result").asLong());
        }
    }

    @Test
    void anOverlongRequestIsRefusedAndItsConnectionClosed() throws Exception {
        start(30_000);
        try (SocketChannel ch = connect()) {
            byte[] chunk = new byte[4096];
            java.util.Arrays.fill(chunk, (byte) 'x');
            // no newline ever comes; the server stops reading at its limit, answers and closes
            try {
                for (int sent = 0; sent < JsonRpc.MAX_REQUEST_BYTES * 4; sent += chunk.length) {
                    write(ch, new String(chunk, StandardCharsets.US_ASCII));
                }
            } catch (IOException closedMeanwhile) {
                // the server closed the connection while we were still sending: that is the point
            }
            JsonNode error = JsonRpcTestSupport.parse(readLine(ch));
            assertEquals(JsonRpc.INVALID_REQUEST, error.get("error").get("code").asInt(), error.toString());
            assertTrue(error.get("error").get("message").asText().contains("longer than"), error.toString());
            assertClosed(ch);
        }
        try (SocketChannel ch = connect()) {
            write(ch, GET_COUNT);
            assertEquals(7, JsonRpcTestSupport.parse(readLine(ch)).get("result").asLong());
        }
    }

    @Test
    void aCallThatWaitsHoldsUpNoOtherClient() throws Exception {
        start(30_000);
        try (SocketChannel waiting = connect(); SocketChannel other = connect()) {
            write(waiting, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"invoke\",\"params\":{\"operation\":\"block\","
                    + "\"arguments\":[],\"signature\":[]}}\n");
            CompletableFuture<String> blocked = CompletableFuture.supplyAsync(() -> {
                try {
                    return readLine(waiting);
                } catch (IOException e) {
                    return e.toString();
                }
            });
            write(other, GET_COUNT);
            assertEquals(7, JsonRpcTestSupport.parse(readLine(other)).get("result").asLong());
            assertFalse(blocked.isDone(), "the blocking call answered before it was released");
            sample.release();
            assertEquals("released", JsonRpcTestSupport.parse(blocked.get(60, TimeUnit.SECONDS)).get("result").asText());
        }
    }

    @Test
    void aClientThatNeverFinishesItsRequestIsCutOffWhileOthersAreServed() throws Exception {
        start(300);
        try (SocketChannel slow = connect()) {
            write(slow, "{\"jsonrpc\":\"2.0\",\"id\":1,");
            try (SocketChannel other = connect()) {
                write(other, GET_COUNT);
                assertEquals(7, JsonRpcTestSupport.parse(readLine(other)).get("result").asLong());
            }
            // blocks until the server gives up on the slow client (its deadline is short here)
            assertClosed(slow);
        }
    }

    @Test
    void socketsOfKilledJvmsAreRemovedAndLiveOnesKept() throws Exception {
        Path dir = start(30_000).path().getParent();
        server.close();
        Path stale = dir.resolve("999999-00c0ffee.sock");
        Path live = dir.resolve("999998-00c0ffee.sock");
        // a socket of a running JVM that refuses connections (one caught between its bind and its listen)
        Path starting = dir.resolve(ProcessHandle.current().pid() + "-0badf00d.sock");
        Files.deleteIfExists(stale);
        Files.deleteIfExists(live);
        Files.deleteIfExists(starting);
        try (java.nio.channels.ServerSocketChannel dead = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                java.nio.channels.ServerSocketChannel alive =
                        java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(stale));
            dead.close(); // closed without removing its file: what a killed JVM leaves
            try (java.nio.channels.ServerSocketChannel refusing =
                    java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                refusing.bind(UnixDomainSocketAddress.of(starting));
            }
            alive.bind(UnixDomainSocketAddress.of(live));
            assertTrue(Files.exists(stale, LinkOption.NOFOLLOW_LINKS));
            start(30_000);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Files.exists(stale, LinkOption.NOFOLLOW_LINKS)) {
                if (System.nanoTime() > deadline) {
                    fail("the stale socket " + stale + " is still there");
                }
                Thread.sleep(20);
            }
            assertTrue(Files.exists(live, LinkOption.NOFOLLOW_LINKS), "a served socket was removed");
            assertTrue(Files.exists(starting, LinkOption.NOFOLLOW_LINKS), "the socket of a running JVM was removed");
        } finally {
            Files.deleteIfExists(live);
            Files.deleteIfExists(starting);
        }
    }

    /**
     * Blocks until the server has closed the connection: end of stream, or a reset where the server closed it with
     * bytes of ours still unread.
     */
    private static void assertClosed(SocketChannel ch) {
        try {
            assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "the server sent more instead of closing");
        } catch (IOException reset) {
            assertTrue(String.valueOf(reset.getMessage()).contains("reset"), reset.toString());
        }
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(server.path()));
        return ch;
    }

    private static void write(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** One line, read a byte at a time so nothing of the next line is consumed. */
    static String readLine(SocketChannel ch) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) {
                throw new IOException("closed after " + line.size() + " bytes: " + line);
            }
            if (one.get(0) == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(one.get(0));
        }
    }
}
