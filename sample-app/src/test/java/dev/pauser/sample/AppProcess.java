package dev.pauser.sample;

import dev.pauser.testkit.ChildJvmCommand;
import dev.pauser.testkit.ChildJvmProcess;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The sample app in a child JVM, started as a user starts it: {@code java [-javaagent:pauser.jar=options] -jar
 * sample-app.jar args}. Standard output and standard error are read apart, so the result lines never mix with the
 * agent's log. The test kit's {@link ChildJvmProcess} does the rest; this adds the agent's MXBean.
 */
final class AppProcess extends ChildJvmProcess {

    /**
     * The few operations of the agent's {@code dev.pauser.agent.contract.PauserMXBean} this test uses: an MXBean speaks open
     * types only, so an interface with the same names is all a client needs (the agent's classes are not on this
     * module's class path).
     */
    public interface PauserMXBean {
        String getState();

        long getStep();

        long getLastCheckpointStep();

        String pauseAndWait(long timeoutMillis);

        void resume();

        /** Where the last snapshot's device state was staged: device, host or none. */
        String getDeviceStaging();

        /** Device bytes freed by the pause in effect now (0 when running). */
        long getDeviceBytesReleased();

        /** Why giving device memory back on resume failed; empty otherwise. */
        String getDeviceReleaseError();
    }

    private static final class Command extends ChildJvmCommand<Command> {
        @Override
        protected Command self() {
            return this;
        }
    }

    private AppProcess(Command command) throws IOException {
        super(command);
    }

    /** {@code agentOptions == null}: no agent; empty: the agent without options. */
    static AppProcess start(String agentOptions, List<String> appArgs) throws IOException {
        return start(agentOptions, appArgs, Map.of());
    }

    /** As {@link #start(String, List)}, with these environment variables set for the child. */
    static AppProcess start(String agentOptions, List<String> appArgs, Map<String, String> env) throws IOException {
        Command command = new Command().standardErrorApart()
                .jar(builtFile("pauser.test.appJar", "target/sample-app.jar"), appArgs.toArray(String[]::new));
        env.forEach(command::env);
        if (agentOptions == null) {
            command.noAgent();
        } else {
            command.agent(agentOptions.isEmpty() ? null : agentOptions);
        }
        return new AppProcess(command);
    }

    /** The agent's MXBean in the child. */
    PauserMXBean pauser() throws Exception {
        return mxBean("dev.pauser:type=Pauser", PauserMXBean.class);
    }
}
