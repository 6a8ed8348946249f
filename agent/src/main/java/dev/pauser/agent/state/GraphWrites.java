package dev.pauser.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pauser.agent.store.Entry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The writes that put stored contents into live containers: a primitive array filled from its tensor, an atomic set,
 * a collection or map refilled with the elements the restore bound (left alone when it already holds exactly them).
 * Made while the restore is planned and run after it, in plan order, both on the thread where the trainer is restored.
 */
final class GraphWrites {
    private GraphWrites() {
    }

    /** Fills primitive array {@code array} in place from its stored tensor (or its slice of a packed one). */
    static Codec.Write tensor(JsonNode node, Object array, Map<String, Entry> parts) throws Codec.Mismatch {
        ByteBuffer bytes = GraphShapes.tensorBytes(node, array, parts);
        return () -> Tensors.get(bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN), array);
    }

    /** Sets atomic {@code o} to its stored value; a mismatch when the value doesn't fit it. */
    static Codec.Write atomic(JsonNode node, Object o) throws Codec.Mismatch {
        JsonNode v = node.path("value");
        if (o instanceof AtomicLong a && v.isIntegralNumber()) {
            return () -> a.set(v.longValue());
        } else if (o instanceof AtomicInteger a && v.isIntegralNumber()) {
            return () -> a.set(v.intValue());
        } else if (o instanceof AtomicBoolean a && v.isBoolean()) {
            return () -> a.set(v.booleanValue());
        }
        throw new Codec.Mismatch("unreadable", "the value " + v + " doesn't fit a " + o.getClass().getName());
    }

    /**
     * Refills collection {@code c} with {@code wanted}, read when the write runs: the element writes planned before it
     * fill {@code wanted} first.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Codec.Write refill(Collection c, Object[] wanted) {
        return () -> {
            List<Object> after = GraphRules.elements(c);
            boolean unchanged = after.size() == wanted.length;
            for (int i = 0; unchanged && i < wanted.length; i++) {
                unchanged = after.get(i) == wanted[i];
            }
            if (!unchanged) {
                c.clear();
                c.addAll(Arrays.asList(wanted));
            }
        };
    }

    /**
     * Refills map {@code m} with {@code wanted}, read when the write runs: the value writes planned before it fill
     * {@code wanted} first.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Codec.Write refill(Map m, Map<Object, Object> wanted) {
        return () -> {
            boolean unchanged = m.size() == wanted.size();
            for (Map.Entry<Object, Object> e : wanted.entrySet()) {
                unchanged = unchanged && m.containsKey(e.getKey()) && m.get(e.getKey()) == e.getValue();
            }
            if (!unchanged) {
                m.clear();
                m.putAll(wanted);
            }
        };
    }
}
