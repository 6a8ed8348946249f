package dev.pauser.agent.control;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.contract.JsonRpc;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The agent's control channel: an owner-only Unix-domain socket serving {@link JsonRpc} requests against Pauser's MBean
 * (what the {@code pauser} command line uses instead of JMX, so the JVM never listens on a TCP port).
 *
 * <p>Threads: {@code pauser-control} (daemon) accepts, reads and writes for every connection with non-blocking I/O; it
 * blocks in {@link Selector#select} while nothing happens. A complete request runs on a {@code pauser-control-call}
 * thread (daemon; they end after {@link #CALL_THREAD_IDLE_SECONDS} idle), because an operation may wait for minutes
 * ({@code pauseAndWait}, {@code checkpointAndWait}) and must not hold up other clients. Limits keep a slow or hostile
 * local client from costing more than a bounded amount: {@link #MAX_CONNECTIONS} at once, requests of at most
 * {@link JsonRpc#MAX_REQUEST_BYTES} (refused before more is buffered), {@link #IDLE_MILLIS} to send each complete
 * request and to take each response.
 */
public final class ControlServer {
    static final int MAX_CONNECTIONS = 16;
    static final long IDLE_MILLIS = 30_000;
    static final int CALL_THREAD_IDLE_SECONDS = 10;

    private final ServerSocketChannel channel;
    private final ControlDirectory.Socket socket;
    private final Selector selector;
    private final MBeanCalls calls;
    private final UserPrincipal me;
    private final Consumer<String> log;
    /** {@link #IDLE_MILLIS}, shorter in tests. */
    private final long idleMillis;
    private final ExecutorService callThreads;
    /** Connections whose call has finished, handed back by call threads to the selector thread. */
    private final Queue<Connection> answered = new ConcurrentLinkedQueue<>();
    private int connections;
    private volatile boolean closed;

    private ControlServer(ServerSocketChannel channel, ControlDirectory.Socket socket, MBeanCalls calls,
            UserPrincipal me, Consumer<String> log, long idleMillis) throws IOException {
        this.idleMillis = idleMillis;
        this.channel = channel;
        this.socket = socket;
        this.calls = calls;
        this.me = me;
        this.log = log;
        this.selector = Selector.open();
        this.callThreads = new ThreadPoolExecutor(0, MAX_CONNECTIONS, CALL_THREAD_IDLE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "pauser-control-call");
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Binds the socket (so its path can be published as soon as this returns) and starts the thread serving it.
     * {@code log} receives the rare lines worth telling the user (a refused peer, an unexpected failure).
     */
    static ControlServer start(MBeanCalls calls, Consumer<String> log, long idleMillis) throws IOException {
        UserPrincipal me = ControlDirectory.currentUser();
        ControlDirectory.Socket socket = ControlDirectory.newSocket(me, log);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(socket.path()));
            channel.configureBlocking(false);
            ControlServer server = new ControlServer(channel, socket, calls, me, log, idleMillis);
            Thread t = new Thread(server::serve, "pauser-control");
            t.setDaemon(true);
            t.start();
            return server;
        } catch (IOException | RuntimeException e) {
            channel.close();
            socket.delete();
            throw e;
        }
    }

    /** Serves the MBean registered as {@code name} on {@code server}. */
    public static ControlServer start(javax.management.MBeanServer server, javax.management.ObjectName name,
            Consumer<String> log) throws IOException {
        return start(new MBeanCalls(server, name), log, IDLE_MILLIS);
    }

    /** The socket's path, for the command line to find. */
    public Path path() {
        return socket.path();
    }

    /** Stops serving and removes the socket file (and its directory, where it was private to this JVM). */
    public void close() {
        closed = true;
        try {
            selector.close();
        } catch (IOException e) {
            // nothing more to release
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to release
        }
        callThreads.shutdownNow();
        socket.delete();
    }

    private void serve() {
        try {
            channel.register(selector, SelectionKey.OP_ACCEPT);
            // Sockets of JVMs that were killed stay behind; the first moments of a new server clear them away.
            ControlDirectory.removeStale(socket);
            while (!closed) {
                selector.select(nextDeadline());
                Connection done;
                while ((done = answered.poll()) != null) {
                    done.respond();
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        accept();
                    } else {
                        ((Connection) key.attachment()).ready(key);
                    }
                }
                expire();
            }
        } catch (ClosedSelectorException e) {
            // closed while waiting: the JVM is exiting
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                log.accept("the control socket " + socket.path() + " stopped serving: " + e
                        + "; the pauser command line can't reach this JVM any more (JMX still can)");
            }
        }
    }

    /** Milliseconds to the earliest connection deadline; 0 (wait for ever) with none pending. */
    private long nextDeadline() {
        long now = System.currentTimeMillis();
        long next = Long.MAX_VALUE;
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof Connection) {
                Connection c = (Connection) k.attachment();
                if (c.deadline > 0) {
                    next = Math.min(next, c.deadline);
                }
            }
        }
        return next == Long.MAX_VALUE ? 0 : Math.max(1, next - now);
    }

    private void expire() {
        long now = System.currentTimeMillis();
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof Connection) {
                Connection c = (Connection) k.attachment();
                if (c.deadline > 0 && now >= c.deadline) {
                    c.close(); // too slow to send its request or to take its response
                }
            }
        }
    }

    private void accept() throws IOException {
        SocketChannel ch = channel.accept();
        if (ch == null) {
            return;
        }
        if (connections >= MAX_CONNECTIONS) {
            ch.close();
            return;
        }
        UserPrincipal peer;
        try {
            peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED).user();
        } catch (IOException | RuntimeException e) {
            ch.close();
            return;
        }
        ch.configureBlocking(false);
        connections++;
        Connection c = new Connection(ch);
        c.key = ch.register(selector, 0, c);
        if (!allowed(peer)) {
            // one answer saying why, then the connection ends; the request (if any) is never read
            log.accept("refused a control connection from user " + peer.getName() + " (this JVM serves "
                    + me.getName() + " and root only)");
            c.closeAfterWrite = true;
            c.send(MBeanCalls.line(MBeanCalls.error(null, JsonRpc.NOT_ALLOWED, "user " + peer.getName()
                    + " may not control this JVM; it belongs to user " + me.getName(), null)));
        } else {
            c.deadline = System.currentTimeMillis() + idleMillis;
            c.key.interestOps(SelectionKey.OP_READ);
        }
    }

    /**
     * The JVM's own user, and root: root can read and change the JVM's memory and attach to it through the JDK's own
     * attach socket anyway (HotSpot's attach listener accepts root for the same reason), so refusing it would protect
     * nothing and only break {@code sudo pauser}.
     */
    private boolean allowed(UserPrincipal peer) {
        return peer.equals(me) || ControlDirectory.isRoot(peer);
    }

    /** One client connection; touched by the selector thread only, but for {@link #call} on a call thread. */
    private final class Connection {
        final SocketChannel ch;
        SelectionKey key;
        /** The request bytes read so far; grows up to the request limit. */
        ByteBuffer in = ByteBuffer.allocate(1024);
        ByteBuffer out;
        /** When this connection is closed unless it progresses; 0 while a call runs. */
        long deadline;
        boolean closeAfterWrite;
        /** Set by the call thread, read by the selector thread after {@link #answered} handed it over. */
        volatile byte[] response;
        boolean open = true;

        Connection(SocketChannel ch) {
            this.ch = ch;
        }

        void ready(SelectionKey k) {
            try {
                if (k.isReadable()) {
                    read();
                } else if (k.isWritable()) {
                    write();
                }
            } catch (IOException e) {
                close(); // the client went away
            }
        }

        private void read() throws IOException {
            if (!in.hasRemaining()) {
                if (in.capacity() >= JsonRpc.MAX_REQUEST_BYTES) {
                    tooLong();
                    return;
                }
                ByteBuffer bigger = ByteBuffer.allocate(Math.min(in.capacity() * 4, JsonRpc.MAX_REQUEST_BYTES));
                in.flip();
                bigger.put(in);
                in = bigger;
            }
            int n = ch.read(in);
            if (n < 0) {
                close();
                return;
            }
            int end = lineEnd();
            if (end >= 0) {
                dispatch(end);
            } else if (!in.hasRemaining() && in.capacity() >= JsonRpc.MAX_REQUEST_BYTES) {
                tooLong();
            }
        }

        /** The index of the first newline in the bytes read, or -1. */
        private int lineEnd() {
            byte[] a = in.array();
            for (int i = 0; i < in.position(); i++) {
                if (a[i] == '\n') {
                    return i;
                }
            }
            return -1;
        }

        private void tooLong() {
            closeAfterWrite = true; // the rest of the line can't be told from a next request
            send(MBeanCalls.line(MBeanCalls.error(null, JsonRpc.INVALID_REQUEST, "request longer than "
                    + JsonRpc.MAX_REQUEST_BYTES + " bytes", null)));
        }

        /** Hands the request line to a call thread; reading stops until its response is written. */
        private void dispatch(int end) {
            byte[] line = new byte[end];
            System.arraycopy(in.array(), 0, line, 0, end);
            // keep what follows the newline: a client may send its next request before reading this response
            in.flip();
            in.position(end + 1);
            in.compact();
            key.interestOps(0);
            deadline = 0;
            try {
                callThreads.execute(() -> call(line));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing down (or, against the connection limit, no thread free): answer rather than stop serving
                closeAfterWrite = true;
                send(MBeanCalls.line(MBeanCalls.error(null, JsonRpc.INTERNAL_ERROR, "busy: " + e.getMessage(), null)));
            }
        }

        /** On a call thread. */
        private void call(byte[] line) {
            byte[] r;
            try {
                JsonNode answer = line.length == 0 || isBlank(line) ? null : calls.answer(line, line.length);
                r = answer == null ? null : MBeanCalls.line(answer);
            } catch (RuntimeException | Error e) {
                r = MBeanCalls.line(MBeanCalls.error(null, JsonRpc.INTERNAL_ERROR, String.valueOf(e), null));
            }
            response = r;
            answered.add(this);
            selector.wakeup();
        }

        /** On the selector thread, once the call has finished. */
        void respond() {
            if (!open) {
                return;
            }
            byte[] r = response;
            response = null;
            if (r == null) {
                awaitNext(); // a notification: nothing to send
                return;
            }
            send(r);
        }

        private void send(byte[] bytes) {
            out = ByteBuffer.wrap(bytes);
            deadline = System.currentTimeMillis() + idleMillis;
            try {
                write();
            } catch (IOException e) {
                close();
            }
        }

        private void write() throws IOException {
            ch.write(out);
            if (out.hasRemaining()) {
                key.interestOps(SelectionKey.OP_WRITE);
                return;
            }
            out = null;
            if (closeAfterWrite) {
                close();
                return;
            }
            awaitNext();
        }

        /** Ready for the next request on this connection (one may already be buffered). */
        private void awaitNext() {
            int end = lineEnd();
            if (end >= 0) {
                dispatch(end);
                return;
            }
            deadline = System.currentTimeMillis() + idleMillis;
            key.interestOps(SelectionKey.OP_READ);
        }

        void close() {
            if (!open) {
                return;
            }
            open = false;
            connections--;
            key.cancel();
            try {
                ch.close();
            } catch (IOException e) {
                // already gone
            }
        }
    }

    private static boolean isBlank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }
}
