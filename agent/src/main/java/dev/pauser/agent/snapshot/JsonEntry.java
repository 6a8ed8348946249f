package dev.pauser.agent.snapshot;

import java.util.Objects;

/** A non-tensor field. {@code json}: one UTF-8 JSON value (object, array, string, number, boolean or null). */
public record JsonEntry(String key, String declaringClass, String javaType, String json) implements Entry {
    public JsonEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(json, "json");
    }
}
