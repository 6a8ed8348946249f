package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.TensorEntry;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Compares the types and shapes a checkpoint stored with the live code and objects, and says each difference: a class's
 * fields added, removed or retyped since the checkpoint, a primitive array's tensor missing or of another dtype or
 * length; and reads a stored array's length. Reads only; runs on the thread where the trainer is restored, while the
 * restore is planned.
 */
final class GraphShapes {
    /** One difference: its mismatch kind ({@code added}, {@code removed}, {@code retyped}...) and what differs. */
    record Difference(String kind, String message) {
    }

    private GraphShapes() {
    }

    /** The stored length of an array node. */
    static int length(JsonNode node) {
        return node.has("length") ? node.get("length").asInt() : node.path("elements").size();
    }

    /**
     * How the fields of {@code c} in the code differ from {@code storedTypes} (field name to type name, as the
     * checkpoint recorded them for {@code c}): the code's fields in order, then the ones only the checkpoint has.
     */
    static List<Difference> fieldDifferences(Class<?> c, JsonNode storedTypes) {
        List<Difference> out = new ArrayList<>();
        Map<String, String> types = GraphRules.fieldTypes(c);
        for (Map.Entry<String, String> e : types.entrySet()) {
            JsonNode was = storedTypes.get(e.getKey());
            if (was == null) {
                out.add(new Difference("added", "field " + c.getName() + "." + e.getKey() + " (" + e.getValue()
                        + ") is in the code but not in the checkpoint"));
            } else if (!was.asText().equals(e.getValue())) {
                out.add(new Difference("retyped", "field " + c.getName() + "." + e.getKey() + ": checkpoint has "
                        + was.asText() + ", code has " + e.getValue()));
            }
        }
        for (Iterator<String> it = storedTypes.fieldNames(); it.hasNext();) {
            String name = it.next();
            if (!types.containsKey(name)) {
                out.add(new Difference("removed", "field " + c.getName() + "." + name + " ("
                        + storedTypes.get(name).asText() + ") is in the checkpoint but not in the code"));
            }
        }
        return out;
    }

    /**
     * The little-endian bytes holding primitive array {@code array}'s stored elements: its own tensor, or its slice
     * of a packed one; a mismatch when the tensor is missing, of another dtype or length, or too short.
     */
    static ByteBuffer tensorBytes(JsonNode node, Object array, Map<String, Entry> parts) throws Codec.Mismatch {
        boolean own = node.has("tensor");
        String tensorKey = own ? node.path("tensor").asText() : node.path("packed").asText();
        Entry e = parts.get(tensorKey);
        if (!(e instanceof TensorEntry t)) {
            throw new Codec.Mismatch("unreadable", "its tensor '" + tensorKey + "' is missing from the checkpoint");
        }
        DType dtype = Tensors.dtypeOf(array.getClass().getComponentType());
        int length = Array.getLength(array);
        long offset = own ? 0 : node.path("offset").asLong(-1);
        long stored = node.path("length").asLong(-1);
        if (t.dtype() != dtype || t.shape().length != 1 || stored != length) {
            throw new Codec.Mismatch("retyped", "the checkpoint has " + t.dtype() + " " + (own
                    ? Tensors.shapeString(t.shape()) : "[" + stored + "]") + " in '" + tensorKey + "', the live array"
                    + " is " + array.getClass().getTypeName() + " of length " + length);
        }
        long from = offset * dtype.size();
        long to = from + (long) length * dtype.size();
        if (offset < 0 || to > t.data().remaining() || own && to != t.data().remaining()) {
            throw new Codec.Mismatch("unreadable", "elements " + offset + " to " + (offset + length) + " are outside"
                    + " the tensor '" + tensorKey + "' " + Tensors.shapeString(t.shape()));
        }
        ByteBuffer src = t.data().duplicate();
        src.position(src.position() + (int) from).limit(src.position() + (int) (to - from));
        return src.slice().order(ByteOrder.LITTLE_ENDIAN);
    }
}
