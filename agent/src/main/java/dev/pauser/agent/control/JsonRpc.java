package dev.pauser.agent.control;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * The message shapes of the control channel: JSON-RPC 2.0 (https://www.jsonrpc.org/specification), one JSON object per
 * line, UTF-8. The methods are the three calls of an MBean server on Pauser's MBean:
 *
 * <pre>
 * {"jsonrpc":"2.0","id":1,"method":"getAttribute","params":{"attribute":"State"}}
 * {"jsonrpc":"2.0","id":2,"method":"setAttribute","params":{"attribute":"PauseAtStep","value":120}}
 * {"jsonrpc":"2.0","id":3,"method":"invoke","params":{"operation":"pauseAndWait","arguments":[60000],"signature":["long"]}}
 * </pre>
 *
 * A result is the attribute's or operation's value as JSON ({@code null} for void); an exception thrown by the MBean is
 * the error {@link #MBEAN_THREW} with its message, and {@code data.exception} naming its class. Shared by the agent's
 * server and the command line's client, so both sides agree on names and limits.
 */
public final class JsonRpc {
    public static final String VERSION = "2.0";

    public static final String GET_ATTRIBUTE = "getAttribute";
    public static final String SET_ATTRIBUTE = "setAttribute";
    public static final String INVOKE = "invoke";

    /** The spec's codes. */
    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    /** From the spec's range for implementation-defined server errors: the MBean threw an exception. */
    public static final int MBEAN_THREW = -32000;
    /** From the same range: the connecting process runs as a user this JVM does not serve. */
    public static final int NOT_ALLOWED = -32001;

    /**
     * The longest request line the server reads (bytes, with its newline). A request names an attribute or operation
     * and a few simple arguments: a few hundred bytes. The server refuses a longer one before buffering more.
     */
    public static final int MAX_REQUEST_BYTES = 64 * 1024;
    /** The longest response line the client reads: results are attribute values, far below this. */
    public static final int MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

    /** Jackson bounded to what fits one request: both sides parse input they do not control. */
    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxNumberLength(1000)
                    .maxStringLength(MAX_RESPONSE_BYTES)
                    .maxNameLength(1024)
                    .build())
            .build());

    private JsonRpc() {
    }

    public static ObjectNode request(long id, String method, ObjectNode params) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("jsonrpc", VERSION);
        r.put("id", id);
        r.put("method", method);
        r.set("params", params);
        return r;
    }

    public static ObjectNode result(JsonNode id, JsonNode result) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("jsonrpc", VERSION);
        r.set("id", id == null ? JsonNodeFactory.instance.nullNode() : id);
        r.set("result", result == null ? JsonNodeFactory.instance.nullNode() : result);
        return r;
    }

    /** An error response; {@code exception} (may be null) goes into {@code data.exception}. */
    public static ObjectNode error(JsonNode id, int code, String message, String exception) {
        ObjectNode e = JsonNodeFactory.instance.objectNode();
        e.put("code", code);
        e.put("message", message);
        if (exception != null) {
            e.putObject("data").put("exception", exception);
        }
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("jsonrpc", VERSION);
        r.set("id", id == null ? JsonNodeFactory.instance.nullNode() : id);
        r.set("error", e);
        return r;
    }

    /** One message as the bytes of one line. */
    public static byte[] line(JsonNode message) {
        try {
            byte[] json = MAPPER.writeValueAsBytes(message);
            byte[] line = new byte[json.length + 1];
            System.arraycopy(json, 0, line, 0, json.length);
            line[json.length] = '\n';
            return line;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // a tree of plain nodes always serializes; this would be a bug here
            throw new IllegalStateException("cannot write a JSON-RPC message: " + e.getMessage(), e);
        }
    }

    /** For messages in exceptions: a peer's text, cut short and on one line. */
    public static String excerpt(byte[] bytes, int length) {
        String s = new String(bytes, 0, Math.min(length, 200), StandardCharsets.UTF_8);
        return s.replaceAll("\\p{Cntrl}", " ").strip();
    }
}
