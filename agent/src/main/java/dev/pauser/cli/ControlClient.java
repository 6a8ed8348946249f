package dev.pauser.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.agent.contract.JsonRpc;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private static final Map<Class<?>, Class<?>> BOXES = Map.of(boolean.class, Boolean.class, byte.class, Byte.class,
            short.class, Short.class, int.class, Integer.class, long.class, Long.class, float.class, Float.class,
            double.class, Double.class, char.class, Character.class);

    private final String pid;
    private final SocketChannel channel;
    private final InputStream in;
    private long nextId = 1;

    private ControlClient(String pid, SocketChannel channel) {
        this.pid = pid;
        this.channel = channel;
        this.in = new BufferedInputStream(Channels.newInputStream(channel));
    }

    /**
     * Connects to a socket found under JVM {@code pid}'s name in its user's control directory; null when nobody serves
     * it any more (the JVM that made it was killed).
     */
    static ControlClient connectIfServed(String pid, Path socket) {
        try {
            return connect(pid, socket);
        } catch (CliException e) {
            return null;
        }
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
        Map<String, Object> params = new LinkedHashMap<>();
        String rpc;
        if (arity == 0 && returns != void.class && (name.startsWith("get") && name.length() > 3
                || name.startsWith("is") && name.length() > 2 && returns == boolean.class)) {
            rpc = JsonRpc.GET_ATTRIBUTE;
            params.put("attribute", name.substring(name.startsWith("get") ? 3 : 2));
        } else if (arity == 1 && returns == void.class && name.startsWith("set") && name.length() > 3) {
            rpc = JsonRpc.SET_ATTRIBUTE;
            params.put("attribute", name.substring(3));
            params.put("value", args[0]);
        } else {
            rpc = JsonRpc.INVOKE;
            List<String> signature = new ArrayList<>();
            for (Class<?> p : method.getParameterTypes()) {
                signature.add(p.getName());
            }
            params.put("operation", name);
            params.put("arguments", args == null ? List.of() : Arrays.asList(args));
            params.put("signature", signature);
        }
        Object result = call(rpc, params, name);
        if (returns == void.class) {
            return null;
        }
        return convert(result, method);
    }

    /** Sends one request and returns its result; a JSON-RPC error is thrown as a {@link CliException}. */
    private Object call(String method, Map<String, Object> params, String what) throws IOException {
        long id = nextId++;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (JsonGenerator g = Json.FACTORY.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("jsonrpc", JsonRpc.VERSION);
            g.writeNumberField("id", id);
            g.writeStringField("method", method);
            g.writeFieldName("params");
            Json.write(g, params);
            g.writeEndObject();
        }
        bytes.write('\n');
        ByteBuffer request = ByteBuffer.wrap(bytes.toByteArray());
        while (request.hasRemaining()) {
            channel.write(request);
        }
        Object parsed = Json.parse(readLine());
        if (!(parsed instanceof Map)) {
            throw new IOException("JVM " + pid + " sent a response that is not a JSON object");
        }
        Map<?, ?> response = (Map<?, ?>) parsed;
        if (response.get("error") instanceof Map) {
            Map<?, ?> error = (Map<?, ?>) response.get("error");
            String message = String.valueOf(error.get("message"));
            Object code = error.get("code");
            if (code instanceof Number && ((Number) code).intValue() == JsonRpc.NOT_ALLOWED) {
                throw new CliException(ExitCodes.CANNOT_ATTACH, "JVM " + pid + " refused the connection: " + message);
            }
            throw new CliException(ExitCodes.FAILED, "JVM " + pid + ": " + what + " failed: " + message);
        }
        Object answered = response.get("id");
        if (!(answered instanceof Number) || ((Number) answered).longValue() != id || !response.containsKey("result")) {
            throw new IOException("JVM " + pid + " sent a response that does not answer request " + id);
        }
        return response.get("result");
    }

    /**
     * A result as the method's return type: simple types, enums and records of them directly (the contract's typed
     * results, such as a checkpoint's outcome, are records: Jackson's object mapper would cost this command more start-up
     * than the rest of it); anything else (arrays, beans) through the object mapper, loaded only then.
     */
    private Object convert(Object v, Method method) throws IOException {
        Class<?> r = method.getReturnType();
        if (v == null) {
            if (r.isPrimitive()) {
                throw new IOException("JVM " + pid + " answered " + method.getName() + " with no value");
            }
            return null;
        }
        Object direct = direct(v, r, method.getName());
        if (direct != null) {
            return direct;
        }
        try {
            ObjectMapper mapper = new ObjectMapper();
            return mapper.convertValue(v, mapper.constructType(method.getGenericReturnType()));
        } catch (IllegalArgumentException e) {
            throw new IOException("JVM " + pid + " answered " + method.getName() + " with a value that is not a "
                    + method.getGenericReturnType().getTypeName() + ": " + Jvms.oneLine(e));
        }
    }

    /** {@code v} (not null) as {@code type} where that is a simple type, an enum or a record; null for other types. */
    private Object direct(Object v, Class<?> type, String what) throws IOException {
        Class<?> boxed = type.isPrimitive() ? BOXES.get(type) : type;
        if (boxed == String.class && v instanceof String || boxed == Boolean.class && v instanceof Boolean) {
            return v;
        }
        if (v instanceof Number && Number.class.isAssignableFrom(boxed)) {
            Number n = (Number) v;
            if (boxed == Long.class) {
                return n.longValue();
            } else if (boxed == Integer.class) {
                return n.intValue();
            } else if (boxed == Double.class) {
                return n.doubleValue();
            } else if (boxed == Float.class) {
                return n.floatValue();
            } else if (boxed == Short.class) {
                return n.shortValue();
            } else if (boxed == Byte.class) {
                return n.byteValue();
            }
        }
        if (boxed == Character.class && v instanceof String && ((String) v).length() == 1) {
            return ((String) v).charAt(0);
        }
        if (type.isEnum() && v instanceof String) {
            for (Object constant : type.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(v)) {
                    return constant;
                }
            }
            throw new IOException("JVM " + pid + " answered " + what + " with " + type.getSimpleName() + " '" + v
                    + "', which this pauser does not know (is the agent newer?)");
        }
        if (type.isRecord() && v instanceof Map) {
            return record((Map<?, ?>) v, type, what);
        }
        return null;
    }

    /** A JSON object (an MXBean's composite data) as the record {@code type}, each component by its name. */
    private Object record(Map<?, ?> fields, Class<?> type, String what) throws IOException {
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            String name = components[i].getName();
            types[i] = components[i].getType();
            Object field = fields.get(name);
            values[i] = field == null ? null : direct(field, types[i], what + "." + name);
            if (values[i] == null && (types[i].isPrimitive() || field != null)) {
                throw new IOException("JVM " + pid + " answered " + what + " without a " + types[i].getSimpleName()
                        + " " + name + " (got " + field + ")");
            }
        }
        try {
            return type.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IOException("cannot make a " + type.getSimpleName() + " of what JVM " + pid + " answered to "
                    + what + ": " + Jvms.oneLine(e), e);
        }
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
