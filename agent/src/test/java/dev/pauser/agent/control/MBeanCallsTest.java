package dev.pauser.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.contract.JsonRpc;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** JSON-RPC requests executed against an MBean: the shapes of the spec, the MBean's own errors, bad input. */
class MBeanCallsTest {
    private final Sample sample = new Sample();
    private final MBeanCalls calls = new MBeanCalls(sample.server(), sample.name());

    MBeanCallsTest() throws Exception {
    }

    private JsonNode answer(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        return calls.answer(bytes, bytes.length);
    }

    @Test
    void attributesAndOperationsAnswerWithTheirValues() {
        JsonNode r = answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAttribute\",\"params\":{\"attribute\":\"Count\"}}");
        assertEquals("2.0", r.get("jsonrpc").asText());
        assertEquals(1, r.get("id").asInt());
        assertEquals(7, r.get("result").asLong());
        assertEquals("[1,2,3]", answer("{\"jsonrpc\":\"2.0\",\"id\":\"h\",\"method\":\"getAttribute\","
                + "\"params\":{\"attribute\":\"History\"}}").get("result").toString());

        r = answer("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"setAttribute\",\"params\":{\"attribute\":\"Count\",\"value\":42}}");
        assertTrue(r.get("result").isNull(), r.toString());
        assertEquals(42, sample.getCount());

        r = answer("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"invoke\",\"params\":{\"operation\":\"echo\","
                + "\"arguments\":[\"ab\",3],\"signature\":[\"java.lang.String\",\"int\"]}}");
        assertEquals("ababab", r.get("result").asText(), r.toString());
    }

    @Test
    void anExceptionOfTheMBeanIsAnErrorWithItsMessageAndClass() {
        JsonNode r = answer("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"setAttribute\","
                + "\"params\":{\"attribute\":\"Count\",\"value\":-1}}");
        assertEquals(JsonRpc.MBEAN_THREW, r.get("error").get("code").asInt(), r.toString());
        assertEquals("count must be 0 or more, not -1", r.get("error").get("message").asText());
        assertEquals(IllegalArgumentException.class.getName(), r.get("error").get("data").get("exception").asText());
        assertEquals(4, r.get("id").asInt());
        assertEquals(7, sample.getCount());

        r = answer("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"invoke\",\"params\":{\"operation\":\"fail\","
                + "\"arguments\":[\"out of cheese\"],\"signature\":[\"java.lang.String\"]}}");
        assertEquals(JsonRpc.MBEAN_THREW, r.get("error").get("code").asInt(), r.toString());
        assertEquals("out of cheese", r.get("error").get("message").asText());
    }

    @Test
    void badInputGetsTheSpecsErrors() {
        assertEquals(JsonRpc.PARSE_ERROR, code(answer("this is not json")));
        assertTrue(answer("this is not json").get("id").isNull());
        assertEquals(JsonRpc.INVALID_REQUEST, code(answer("42")));
        assertEquals(JsonRpc.INVALID_REQUEST, code(answer("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"getAttribute\"}")));
        assertEquals(JsonRpc.INVALID_REQUEST, code(answer("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"invoke\"}")));
        assertEquals(JsonRpc.METHOD_NOT_FOUND, code(answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"unregisterMBean\"}")));
        assertEquals(JsonRpc.INVALID_PARAMS, code(answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAttribute\","
                + "\"params\":{\"attribute\":\"NoSuchThing\"}}")));
        assertEquals(JsonRpc.INVALID_PARAMS, code(answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"invoke\","
                + "\"params\":{\"operation\":\"echo\",\"arguments\":[\"a\",\"many\"],\"signature\":[\"java.lang.String\",\"int\"]}}")));
        assertEquals(JsonRpc.INVALID_PARAMS, code(answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"invoke\","
                + "\"params\":{\"operation\":\"echo\",\"arguments\":[{}],\"signature\":[\"javax.management.ObjectName\"]}}")));
        assertEquals(JsonRpc.INVALID_PARAMS, code(answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"invoke\","
                + "\"params\":{\"operation\":\"nothing\",\"arguments\":[],\"signature\":[]}}")));
        assertEquals(JsonRpc.INVALID_PARAMS, code(answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"setAttribute\","
                + "\"params\":{\"attribute\":\"Name\",\"value\":\"x\"}}")));
        assertEquals(JsonRpc.PARSE_ERROR, code(answer("[".repeat(100))));
    }

    @Test
    void aBatchGetsAnArrayOfResponsesAndANotificationNone() {
        assertNull(answer("{\"jsonrpc\":\"2.0\",\"method\":\"setAttribute\",\"params\":{\"attribute\":\"Count\",\"value\":9}}"));
        assertEquals(9, sample.getCount());
        JsonNode r = answer("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getAttribute\",\"params\":{\"attribute\":\"Name\"}},"
                + "{\"jsonrpc\":\"2.0\",\"method\":\"setAttribute\",\"params\":{\"attribute\":\"Count\",\"value\":10}},"
                + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getAttribute\",\"params\":{\"attribute\":\"Count\"}}]");
        assertEquals(2, r.size(), r.toString());
        assertEquals("sample", r.get(0).get("result").asText());
        assertEquals(10, r.get(1).get("result").asLong());
        assertEquals(JsonRpc.INVALID_REQUEST, code(answer("[]")));
    }

    private static int code(JsonNode response) {
        return response.get("error").get("code").asInt();
    }
}
