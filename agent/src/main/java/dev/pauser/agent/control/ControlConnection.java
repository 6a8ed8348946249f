package dev.pauser.agent.control;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.contract.JsonRpc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.RejectedExecutionException;

/**
 * One client connection of the {@link ControlServer}: reads a request line, hands it to a call thread, writes the
 * response. Touched by the selector thread ({@code pauser-control}) only, but for {@link #call} on a call thread.
 */
final class ControlConnection {
    private final ControlServer server;
    final SocketChannel ch;
    SelectionKey key;
    /** The request bytes read so far; grows up to the request limit. */
    ByteBuffer in = ByteBuffer.allocate(1024);
    ByteBuffer out;
    /** When this connection is closed unless it progresses; 0 while a call runs. */
    long deadline;
    boolean closeAfterWrite;
    /** Set by the call thread, read by the selector thread after {@link ControlServer#answered} handed it over. */
    volatile byte[] response;
    boolean open = true;

    ControlConnection(ControlServer server, SocketChannel ch) {
        this.server = server;
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
            server.execute(() -> call(line));
        } catch (RejectedExecutionException e) {
            // closing down (or, against the connection limit, no thread free): answer rather than stop serving
            closeAfterWrite = true;
            send(MBeanCalls.line(MBeanCalls.error(null, JsonRpc.INTERNAL_ERROR, "busy: " + e.getMessage(), null)));
        }
    }

    /** On a call thread. */
    private void call(byte[] line) {
        byte[] r;
        try {
            JsonNode answer = line.length == 0 || isBlank(line) ? null : server.calls().answer(line, line.length);
            r = answer == null ? null : MBeanCalls.line(answer);
        } catch (RuntimeException | Error e) {
            r = MBeanCalls.line(MBeanCalls.error(null, JsonRpc.INTERNAL_ERROR, String.valueOf(e), null));
        }
        response = r;
        server.answered(this);
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

    void send(byte[] bytes) {
        out = ByteBuffer.wrap(bytes);
        deadline = System.currentTimeMillis() + server.idleMillis();
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
        deadline = System.currentTimeMillis() + server.idleMillis();
        key.interestOps(SelectionKey.OP_READ);
    }

    void close() {
        if (!open) {
            return;
        }
        open = false;
        server.connectionClosed();
        key.cancel();
        try {
            ch.close();
        } catch (IOException e) {
            // already gone
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
