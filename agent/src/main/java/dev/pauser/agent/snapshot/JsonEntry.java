package dev.pauser.agent.snapshot;

/** json: one UTF-8 JSON value */
public record JsonEntry(String key, String declaringClass, String javaType, String json) implements Entry {
}
