package dev.pauser.agent.config;

/** A bad agent option. Its message is the one line the user sees: the key, the value, what is allowed. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
