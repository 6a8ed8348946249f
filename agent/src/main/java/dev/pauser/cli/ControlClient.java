package dev.pauser.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.agent.control.JsonRpc;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.UserPrincipal;
import jdk.net.ExtendedSocketOptions;

/**
 * A connection to the Pauser agent's control socket in one JVM, and a proxy of any management interface over it: each
 * method becomes one JSON-RPC request, by the MXBean naming rules ({@code getX()}/{@code isX()} read attribute X,
 * {@code setX(v)} writes it, anything else invokes the operation of that name and parameter types). So the commands use
 * {@code PauserMXBean} as they would over JMX, and a method added to it works here unchanged.
 *
 * <p>Errors: an exception thrown by the MBean arrives as a JSON-RPC error and is thrown here as a {@link CliException}
 * carrying its message (exit status 1); a connection that breaks is an {@link IOException}, which a proxy call throws
 * wrapped in an {@link java.lang.reflect.UndeclaredThrowableException}.
 */
final class ControlClient implements InvocationHandler, AutoCloseable {
    private final String pid;
    private final SocketChannel channel;
    private final InputStream in;
    private long nextId = 1;

    private ControlClient(String pid, SocketChannel channel) {
        this.pid = pid;
        this.channel = channel;
        this.in = new BufferedInputStream(Channels.newInputStream(channel));
    }

    /** Connects to the socket that JVM {@code pid} published; checks that the JVM's own user serves it. */
    static ControlClient connect(String pid, Path socket) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException | UnsupportedOperationException e) {
            throw new CliException(ExitCodes.FAILED, "cannot open a Unix-domain socket here: " + Jvms.oneLine(e));
        }
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            UserPrincipal server = ch.getOption(ExtendedSocketOptions.SO_PEERCRED).user();
            UserPrincipal owner = processOwner(pid);
            if (owner != null && !owner.equals(server)) {
                throw new CliException(ExitCodes.CANNOT_ATTACH, "the control socket " + socket + " of JVM " + pid
                        + " is served by user " + server.getName() + ", not by the JVM's user " + owner.getName());
            }
            return new ControlClient(pid, ch);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            if (e instanceof CliException) {
                throw (CliException) e;
            }
            throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot reach the Pauser agent of JVM " + pid
                    + " at its control socket " + socket + ": " + Jvms.oneLine(e));
        }
    }

    /** The owner of a process (Linux: of {@code /proc/<pid>}); null where that can't be read. */
    static UserPrincipal processOwner(String pid) {
        try {
            return Files.getOwner(Paths.get("/proc", pid));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** A proxy of {@code iface} whose every method is a request on this connection. */
    <T> T proxy(Class<T> iface) {
        return iface.cast(Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, this));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws IOException {
        if (method.getDeclaringClass() == Object.class) {
            switch (method.getName()) {
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                default:
                    return "control connection to JVM " + pid;
            }
        }
        String name = method.getName();
        int arity = method.getParameterCount();
        Class<?> returns = method.getReturnType();
        ObjectNode params = JsonNodeFactory.instance.objectNode();
        String rpc;
        if (arity == 0 && returns != void.class && (name.startsWith("get") && name.length() > 3
                || name.startsWith("is") && name.length() > 2 && returns == boolean.class)) {
            rpc = JsonRpc.GET_ATTRIBUTE;
            params.put("attribute", name.substring(name.startsWith("get") ? 3 : 2));
        } else if (arity == 1 && returns == void.class && name.startsWith("set") && name.length() > 3) {
            rpc = JsonRpc.SET_ATTRIBUTE;
            params.put("attribute", name.substring(3));
            params.set("value", JsonRpc.MAPPER.valueToTree(args[0]));
        } else {
            rpc = JsonRpc.INVOKE;
            params.put("operation", name);
            ArrayNode arguments = params.putArray("arguments");
            ArrayNode signature = params.putArray("signature");
            for (int i = 0; i < arity; i++) {
                arguments.add(JsonRpc.MAPPER.<JsonNode>valueToTree(args[i]));
                signature.add(method.getParameterTypes()[i].getName());
            }
        }
        JsonNode result = call(rpc, params, name);
        if (returns == void.class) {
            return null;
        }
        if (result.isNull() && returns.isPrimitive()) {
            throw new CliException(ExitCodes.FAILED, "JVM " + pid + " answered " + name + " with no value");
        }
        return JsonRpc.MAPPER.convertValue(result, JsonRpc.MAPPER.constructType(method.getGenericReturnType()));
    }

    /** Sends one request and returns its result; a JSON-RPC error is thrown as a {@link CliException}. */
    private JsonNode call(String method, ObjectNode params, String what) throws IOException {
        long id = nextId++;
        ByteBuffer request = ByteBuffer.wrap(JsonRpc.line(JsonRpc.request(id, method, params)));
        while (request.hasRemaining()) {
            channel.write(request);
        }
        JsonNode response = JsonRpc.MAPPER.readTree(readLine());
        JsonNode error = response.get("error");
        if (error != null && error.isObject()) {
            String message = error.path("message").asText("");
            int code = error.path("code").asInt();
            if (code == JsonRpc.NOT_ALLOWED) {
                throw new CliException(ExitCodes.CANNOT_ATTACH, "JVM " + pid + " refused the connection: " + message);
            }
            throw new CliException(ExitCodes.FAILED, "JVM " + pid + ": " + what + " failed: " + message);
        }
        if (!response.path("id").isIntegralNumber() || response.path("id").asLong() != id
                || !response.has("result")) {
            throw new IOException("JVM " + pid + " sent a response that does not answer request " + id);
        }
        return response.get("result");
    }

    /** One response line, bounded: a peer that never ends its line can't make this command hold unbounded memory. */
    private byte[] readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new EOFException("JVM " + pid + " closed the connection");
            }
            if (line.size() >= JsonRpc.MAX_RESPONSE_BYTES) {
                throw new IOException("JVM " + pid + " sent a response over " + JsonRpc.MAX_RESPONSE_BYTES + " bytes");
            }
            line.write(b);
        }
        return line.toByteArray();
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
