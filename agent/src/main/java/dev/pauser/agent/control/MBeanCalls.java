package dev.pauser.agent.control;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pauser.agent.contract.JsonRpc;
import java.lang.reflect.Array;
import java.util.Map;
import javax.management.Attribute;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import javax.management.RuntimeErrorException;
import javax.management.RuntimeMBeanException;
import javax.management.RuntimeOperationsException;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

/**
 * Executes JSON-RPC requests against one MBean of an MBean server: the control channel adds no operations of its own,
 * so whatever the MBean's interface offers (today and after it grows) is reachable, and nothing else is. Arguments and
 * attribute values are JSON scalars or arrays of them (the simple open types); results may also be composite or
 * tabular data, which come back as JSON objects and arrays of row objects.
 */
final class MBeanCalls {
    /** Simple open types by the names MBean signatures use. */
    private static final Map<String, Class<?>> SIMPLE = Map.ofEntries(
            Map.entry("boolean", boolean.class), Map.entry("java.lang.Boolean", Boolean.class),
            Map.entry("byte", byte.class), Map.entry("java.lang.Byte", Byte.class),
            Map.entry("short", short.class), Map.entry("java.lang.Short", Short.class),
            Map.entry("int", int.class), Map.entry("java.lang.Integer", Integer.class),
            Map.entry("long", long.class), Map.entry("java.lang.Long", Long.class),
            Map.entry("float", float.class), Map.entry("java.lang.Float", Float.class),
            Map.entry("double", double.class), Map.entry("java.lang.Double", Double.class),
            Map.entry("char", char.class), Map.entry("java.lang.Character", Character.class),
            Map.entry("java.lang.String", String.class),
            Map.entry("java.math.BigInteger", java.math.BigInteger.class),
            Map.entry("java.math.BigDecimal", java.math.BigDecimal.class));

    /**
     * Jackson bounded to what fits one request: requests are input this JVM does not control. Made at the first
     * request (its few hundred classes cost start-up time in every JVM, and most never see a command).
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(JsonRpc.MAX_DEPTH)
                        .maxNumberLength(1000)
                        .maxStringLength(JsonRpc.MAX_REQUEST_BYTES)
                        .maxNameLength(JsonRpc.MAX_REQUEST_BYTES)
                        .build())
                .build());
    }

    /** The object mapper requests are read and answers written with. */
    static ObjectMapper mapper() {
        return Json.MAPPER;
    }

    private final MBeanServer server;
    private final ObjectName name;

    MBeanCalls(MBeanServer server, ObjectName name) {
        this.server = server;
        this.name = name;
    }

    /**
     * Answers one request line: a response, an array of responses for a batch, or null where nothing is to be sent
     * (notifications only).
     */
    JsonNode answer(byte[] line, int length) {
        JsonNode message;
        try {
            message = Json.MAPPER.readTree(line, 0, length);
        } catch (java.io.IOException e) {
            return error(null, JsonRpc.PARSE_ERROR, "not JSON: " + oneLine(e.getMessage()), null);
        }
        if (message == null || message.isMissingNode()) {
            return error(null, JsonRpc.INVALID_REQUEST, "empty request", null);
        }
        if (!message.isArray()) {
            return answer(message);
        }
        if (message.isEmpty()) {
            return error(null, JsonRpc.INVALID_REQUEST, "empty batch", null);
        }
        ArrayNode responses = JsonNodeFactory.instance.arrayNode();
        for (JsonNode request : message) {
            JsonNode response = answer(request);
            if (response != null) {
                responses.add(response);
            }
        }
        return responses.isEmpty() ? null : responses;
    }

    /** One request object; null for a notification (a request without an id), which gets no response. */
    private JsonNode answer(JsonNode request) {
        if (!request.isObject()) {
            return error(null, JsonRpc.INVALID_REQUEST, "a request is a JSON object", null);
        }
        JsonNode id = request.get("id");
        boolean notification = id == null;
        if (id != null && !(id.isTextual() || id.isIntegralNumber() || id.isNull())) {
            return error(null, JsonRpc.INVALID_REQUEST, "id must be a string, an integer or null", null);
        }
        JsonNode response = execute(request, id);
        return notification ? null : response;
    }

    private JsonNode execute(JsonNode request, JsonNode id) {
        if (!JsonRpc.VERSION.equals(text(request.get("jsonrpc")))) {
            return error(id, JsonRpc.INVALID_REQUEST, "jsonrpc must be \"2.0\"", null);
        }
        String method = text(request.get("method"));
        if (method == null) {
            return error(id, JsonRpc.INVALID_REQUEST, "method must be a string", null);
        }
        JsonNode params = request.get("params");
        if (params != null && !params.isObject()) {
            return error(id, JsonRpc.INVALID_PARAMS, "params must be an object", null);
        }
        try {
            switch (method) {
                case JsonRpc.GET_ATTRIBUTE:
                    return result(id, toJson(server.getAttribute(name, required(params, "attribute"))));
                case JsonRpc.SET_ATTRIBUTE:
                    return result(id, setAttribute(params));
                case JsonRpc.INVOKE:
                    return result(id, invoke(params));
                default:
                    return error(id, JsonRpc.METHOD_NOT_FOUND, "no method '" + method + "'; methods: "
                            + JsonRpc.GET_ATTRIBUTE + ", " + JsonRpc.SET_ATTRIBUTE + ", " + JsonRpc.INVOKE, null);
            }
        } catch (BadParams e) {
            return error(id, JsonRpc.INVALID_PARAMS, e.getMessage(), null);
        } catch (JMException | RuntimeException e) {
            Throwable thrown = thrownByMBean(e);
            if (thrown == null) {
                // the MBean server's own complaint: no such attribute or operation, a wrong type
                return error(id, JsonRpc.INVALID_PARAMS, oneLine(describe(e)), e.getClass().getName());
            }
            return error(id, JsonRpc.MBEAN_THREW, oneLine(describe(thrown)), thrown.getClass().getName());
        }
    }

    private JsonNode setAttribute(JsonNode params) throws JMException {
        String attribute = required(params, "attribute");
        JsonNode value = params.get("value");
        if (value == null) {
            throw new BadParams("setAttribute needs params.value");
        }
        String type = null;
        for (MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
            if (a.getName().equals(attribute) && a.isWritable()) {
                type = a.getType();
            }
        }
        if (type == null) {
            throw new BadParams("no writable attribute '" + attribute + "'");
        }
        server.setAttribute(name, new Attribute(attribute, fromJson(value, type)));
        return null;
    }

    private JsonNode invoke(JsonNode params) throws JMException {
        String operation = required(params, "operation");
        JsonNode arguments = params.get("arguments");
        JsonNode signature = params.get("signature");
        int n = arguments == null ? 0 : arguments.size();
        if (arguments != null && !arguments.isArray() || signature != null && !signature.isArray()
                || (signature == null ? 0 : signature.size()) != n) {
            throw new BadParams("invoke needs params.arguments and params.signature: two arrays of the same length");
        }
        Object[] args = new Object[n];
        String[] types = new String[n];
        for (int i = 0; i < n; i++) {
            types[i] = text(signature.get(i));
            if (types[i] == null) {
                throw new BadParams("params.signature holds type names");
            }
            args[i] = fromJson(arguments.get(i), types[i]);
        }
        return toJson(server.invoke(name, operation, args, types));
    }

    /** A JSON argument as the simple open type (or array of them) that {@code type} names. */
    private static Object fromJson(JsonNode value, String type) {
        Class<?> c = classOf(type);
        if (c == null) {
            throw new BadParams("type " + type + " can't be passed over the control channel (simple types and arrays "
                    + "of them only)");
        }
        if (value.isNull() && !c.isPrimitive()) {
            return null;
        }
        try {
            return Json.MAPPER.treeToValue(value, c);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new BadParams("'" + value + "' is not a " + type);
        }
    }

    private static Class<?> classOf(String type) {
        Class<?> c = SIMPLE.get(type);
        if (c != null || !type.startsWith("[")) {
            return c;
        }
        try {
            Class<?> array = Class.forName(type, false, null);
            Class<?> element = array;
            while (element.isArray()) {
                element = element.getComponentType();
            }
            return SIMPLE.containsValue(element) ? array : null;
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    /** An open-type value as JSON: scalars, arrays, composite data as objects, tabular data as arrays of rows. */
    static JsonNode toJson(Object value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null) {
            return f.nullNode();
        }
        if (value instanceof CompositeData) {
            CompositeData c = (CompositeData) value;
            ObjectNode o = f.objectNode();
            for (String key : c.getCompositeType().keySet()) {
                o.set(key, toJson(c.get(key)));
            }
            return o;
        }
        if (value instanceof TabularData) {
            ArrayNode rows = f.arrayNode();
            for (Object row : ((TabularData) value).values()) {
                rows.add(toJson(row));
            }
            return rows;
        }
        if (value.getClass().isArray()) {
            ArrayNode a = f.arrayNode();
            for (int i = 0; i < Array.getLength(value); i++) {
                a.add(toJson(Array.get(value, i)));
            }
            return a;
        }
        if (value instanceof ObjectName || value instanceof Character) {
            return f.textNode(value.toString());
        }
        if (value instanceof java.util.Date) {
            return f.numberNode(((java.util.Date) value).getTime());
        }
        return Json.MAPPER.valueToTree(value);
    }

    static ObjectNode result(JsonNode id, JsonNode result) {
        ObjectNode r = response(id);
        r.set("result", result == null ? JsonNodeFactory.instance.nullNode() : result);
        return r;
    }

    /** An error response; {@code exception} (may be null) goes into {@code data.exception}. */
    static ObjectNode error(JsonNode id, int code, String message, String exception) {
        ObjectNode r = response(id);
        ObjectNode e = r.putObject("error");
        e.put("code", code);
        e.put("message", message);
        if (exception != null) {
            e.putObject("data").put("exception", exception);
        }
        return r;
    }

    private static ObjectNode response(JsonNode id) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("jsonrpc", JsonRpc.VERSION);
        r.set("id", id == null ? JsonNodeFactory.instance.nullNode() : id);
        return r;
    }

    /** One message as the bytes of one line. */
    static byte[] line(JsonNode message) {
        try {
            byte[] json = Json.MAPPER.writeValueAsBytes(message);
            byte[] line = java.util.Arrays.copyOf(json, json.length + 1);
            line[json.length] = '\n';
            return line;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // a tree of plain nodes always serializes; this would be a bug here
            throw new IllegalStateException("cannot write a JSON-RPC message: " + e.getMessage(), e);
        }
    }

    /** What the MBean itself threw, unwrapped from the MBean server's envelopes; null if the server complained. */
    private static Throwable thrownByMBean(Exception e) {
        if (e instanceof RuntimeMBeanException) {
            return ((RuntimeMBeanException) e).getTargetException();
        }
        if (e instanceof RuntimeErrorException) {
            return ((RuntimeErrorException) e).getTargetError();
        }
        if (e instanceof MBeanException) {
            return ((MBeanException) e).getTargetException();
        }
        if (e instanceof ReflectionException || e instanceof RuntimeOperationsException || e instanceof JMException) {
            return null;
        }
        return e;
    }

    private static String describe(Throwable e) {
        if (e instanceof ReflectionException && e.getCause() instanceof NoSuchMethodException) {
            return "no operation " + e.getCause().getMessage();
        }
        if (e instanceof RuntimeOperationsException && e.getCause() != null) {
            e = e.getCause();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private static String required(JsonNode params, String key) {
        String v = params == null ? null : text(params.get(key));
        if (v == null) {
            throw new BadParams("params." + key + " must be a string");
        }
        return v;
    }

    private static String text(JsonNode n) {
        return n != null && n.isTextual() ? n.asText() : null;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    /** Params that do not fit the method: the spec's "invalid params". */
    private static final class BadParams extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadParams(String message) {
            super(message, null, false, false);
        }
    }
}
