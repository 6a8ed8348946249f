package dev.pauser.agent.store;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A non-tensor field. {@code json}: one UTF-8 JSON value (object, array, string, number, boolean or null).
 * {@code nestedFields}: the declared types of the fields inside the value's classes ({@code "com.example.Opt#lr" ->
 * "double"}), for a value written field by field; null when not recorded (scalars, generators, and checkpoints written
 * before Pauser recorded them).
 */
public record JsonEntry(String key, String declaringClass, String javaType, String json,
        Map<String, String> nestedFields) implements Entry {
    public JsonEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(json, "json");
        // kept in order, so the manifest lists them as the classes declare them
        nestedFields = nestedFields == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(nestedFields));
    }

    /** A value with no nested field types recorded. */
    public JsonEntry(String key, String declaringClass, String javaType, String json) {
        this(key, declaringClass, javaType, json, null);
    }
}
