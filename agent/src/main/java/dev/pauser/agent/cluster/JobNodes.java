package dev.pauser.agent.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The ZooKeeper nodes of one job, under its path J, and their JSON data:
 * <ul>
 * <li>{@code J/job}: {@code {"worldSize":n}}, written by the first worker; a worker with another world size is refused;</li>
 * <li>{@code J/workers/<rank>}: ephemeral, {@code {"rank","host","pid","state","step"}}, while the worker is connected;</li>
 * <li>{@code J/control}: {@code {"epoch":e,"action":"pause|resume|stop"}}, the job's last request, one epoch each;</li>
 * <li>{@code J/agree/<e>/<rank>}: {@code {"step":p}}, the step worker {@code rank} promised not to pass before it
 * knows the agreed step of request {@code e}; {@code J/decided/<e>}: {@code {"step":S}}, the largest promise;</li>
 * <li>{@code J/checkpoints/<S>/<rank>}: {@code {"checkpoint":"ckpt-…"}}, rank's checkpoint of step S is durable;</li>
 * <li>{@code J/committed/<S>}: every rank's checkpoint of step S is durable: the job checkpoint of S.</li>
 * </ul>
 * Steps and epochs are plain decimal names. Immutable.
 */
final class JobNodes {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String job;

    JobNodes(String jobPath) {
        this.job = jobPath;
    }

    String job() {
        return job;
    }

    String world() {
        return job + "/job";
    }

    String workers() {
        return job + "/workers";
    }

    String worker(int rank) {
        return workers() + "/" + rank;
    }

    String control() {
        return job + "/control";
    }

    String agree() {
        return job + "/agree";
    }

    String agree(long epoch) {
        return agree() + "/" + epoch;
    }

    String proposal(long epoch, int rank) {
        return agree(epoch) + "/" + rank;
    }

    String decided() {
        return job + "/decided";
    }

    String decided(long epoch) {
        return decided() + "/" + epoch;
    }

    String checkpoints() {
        return job + "/checkpoints";
    }

    String checkpoints(long step) {
        return checkpoints() + "/" + step;
    }

    String prepared(long step, int rank) {
        return checkpoints(step) + "/" + rank;
    }

    String committed() {
        return job + "/committed";
    }

    String committed(long step) {
        return committed() + "/" + step;
    }

    /** The number a step or epoch node is named by; empty for any other name. */
    static OptionalLong number(String name) {
        if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(Character::isDigit)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseLong(name));
    }

    static byte[] json(Map<String, ?> data) {
        try {
            return JSON.writeValueAsBytes(data);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + data + " as JSON: " + e.getMessage(), e);
        }
    }

    /** The JSON object of a node; empty for no data or data that is not a JSON object (a node another tool wrote). */
    static Map<String, Object> parse(byte[] data) {
        if (data == null || data.length == 0) {
            return Map.of();
        }
        try {
            Map<String, Object> m = JSON.readValue(data, new TypeReference<Map<String, Object>>() { });
            return m == null ? Map.of() : m;
        } catch (IOException e) {
            return Map.of();
        }
    }

    /** A whole-number field of a node's JSON, or {@code fallback}. */
    static long longOf(Map<String, Object> data, String field, long fallback) {
        Object v = data.get(field);
        return v instanceof Number ? ((Number) v).longValue() : fallback;
    }

    static String textOf(Map<String, Object> data, String field) {
        Object v = data.get(field);
        return v == null ? "" : v.toString();
    }
}
