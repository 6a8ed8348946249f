package dev.pauser.agent.contract;


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
 * server and the command line's client, so both sides agree on names and limits; each side encodes
 * with the Jackson it loads cheapest (the command line only Jackson's streaming core, to start fast).
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
    /** The deepest nesting of arrays and objects either side parses. */
    public static final int MAX_DEPTH = 64;

    private JsonRpc() {
    }
}
