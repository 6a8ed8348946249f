package dev.pauser.agent.control;

import dev.pauser.agent.contract.JsonRpc;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
    private final Queue<ControlConnection> answered = new ConcurrentLinkedQueue<>();
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
                ControlConnection done;
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
                        ((ControlConnection) key.attachment()).ready(key);
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
            if (k.attachment() instanceof ControlConnection) {
                ControlConnection c = (ControlConnection) k.attachment();
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
            if (k.attachment() instanceof ControlConnection) {
                ControlConnection c = (ControlConnection) k.attachment();
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
        ControlConnection c = new ControlConnection(this, ch);
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

    /** On a call thread: hands a finished call back to the selector thread. */
    void answered(ControlConnection c) {
        answered.add(c);
        selector.wakeup();
    }

    /** Runs a request on a call thread; rejected while closing down or when none is free. */
    void execute(Runnable call) {
        callThreads.execute(call);
    }

    /** On the selector thread, when a connection ends. */
    void connectionClosed() {
        connections--;
    }

    MBeanCalls calls() {
        return calls;
    }

    long idleMillis() {
        return idleMillis;
    }
}
