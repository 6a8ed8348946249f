package dev.pauser.agent.log;

/** How much the agent says: the {@code log} option. Each level includes the ones before it. */
public enum LogLevel {
    OFF, ERROR, WARNING, INFO, DEBUG
}
