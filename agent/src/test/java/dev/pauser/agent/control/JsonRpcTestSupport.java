package dev.pauser.agent.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** Parses a response line in tests. */
final class JsonRpcTestSupport {
    private JsonRpcTestSupport() {
    }

    static JsonNode parse(String line) throws IOException {
        return MBeanCalls.mapper().readTree(line);
    }
}
