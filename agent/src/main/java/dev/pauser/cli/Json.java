package dev.pauser.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.pauser.agent.contract.JsonRpc;
import java.io.IOException;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON for the command line with Jackson's streaming core only: plain Java values (maps, lists, arrays, strings,
 * numbers, booleans, null) written and read directly. Jackson's object mapper costs a few hundred milliseconds of class
 * loading, more than a whole command should take, and the command line never needs to bind classes.
 */
final class Json {
    /** Bounded: a response comes from another process. */
    static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(JsonRpc.MAX_DEPTH)
                    .maxNumberLength(1000)
                    .maxStringLength(JsonRpc.MAX_RESPONSE_BYTES)
                    .maxNameLength(JsonRpc.MAX_RESPONSE_BYTES)
                    .build())
            .build();

    private Json() {
    }

    /** Writes a plain value; anything else is written as its {@code toString()}. */
    static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String || v instanceof Character) {
            g.writeString(v.toString());
        } else if (v instanceof Boolean) {
            g.writeBoolean((Boolean) v);
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            g.writeNumber(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            g.writeNumber(((Number) v).doubleValue());
        } else if (v instanceof java.math.BigInteger) {
            g.writeNumber((java.math.BigInteger) v);
        } else if (v instanceof java.math.BigDecimal) {
            g.writeNumber((java.math.BigDecimal) v);
        } else if (v instanceof Map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Iterable) {
            g.writeStartArray();
            for (Object o : (Iterable<?>) v) {
                write(g, o);
            }
            g.writeEndArray();
        } else if (v.getClass().isArray()) {
            g.writeStartArray();
            for (int i = 0; i < Array.getLength(v); i++) {
                write(g, Array.get(v, i));
            }
            g.writeEndArray();
        } else {
            g.writeString(v.toString());
        }
    }

    /** Reads the value at the parser's next token: maps, lists, String, Integer/Long/BigInteger, Double, Boolean, null. */
    static Object read(JsonParser p) throws IOException {
        JsonToken t = p.currentToken() == null ? p.nextToken() : p.currentToken();
        if (t == null) {
            throw new IOException("no JSON value");
        }
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    m.put(name, read(p));
                }
                return m;
            }
            case START_ARRAY: {
                List<Object> l = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    l.add(read(p));
                }
                return l;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return p.getNumberValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new IOException("unexpected JSON token " + t);
        }
    }

    /** Parses one whole document (trailing content is an error). */
    static Object parse(byte[] json) throws IOException {
        try (JsonParser p = FACTORY.createParser(json)) {
            Object v = read(p);
            if (p.nextToken() != null) {
                throw new IOException("more than one JSON value");
            }
            return v;
        }
    }
}
