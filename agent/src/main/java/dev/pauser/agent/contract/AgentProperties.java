package dev.pauser.agent.contract;

/**
 * The system properties by which a JVM's agent announces itself; the {@code pauser} command line reads them through
 * the Attach API (as {@code jcmd <pid> VM.system_properties} shows them).
 */
public final class AgentProperties {
    /** The agent's version, set once it has started: its presence says the agent is loaded. */
    public static final String VERSION = "pauser.agent.version";
    /** The checkpoint directory the agent uses (the dir option, resolved). */
    public static final String DIR = "pauser.agent.dir";
    /** Why the last late load of the agent did not start (bad options), for the attaching tool; cleared on a start. */
    public static final String ERROR = "pauser.agent.error";
    /** The path of the agent's control socket, where the {@code pauser} command line connects. */
    public static final String CONTROL = "pauser.agent.control";

    /**
     * Set (to the agent's version) from {@code premain} until the agent has announced itself with {@link #VERSION}: its
     * JMX MBean and control socket are being set up beside the program's {@code main}; a tool waits while it is set.
     */
    public static final String STARTING = "pauser.agent.starting";

    private AgentProperties() {
    }
}
