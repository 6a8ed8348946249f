package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.testkit.ChildJvmCommand;
import dev.pauser.testkit.ChildJvmProcess;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /** The agent's line when it restores a checkpoint: group 3 is the step. */
    static final Pattern RESUMING = Pattern.compile("pauser: resuming from (\\S+)/ckpt-(\\d{12}) at step (\\d+)");

    /** A run's two result lines: its test accuracy and its final-weights hash. */
    record Result(String accuracy, String sha256) {
    }

    /** The two last lines of standard output, which must be exactly the two result lines. */
    Result result() {
        List<String> out = stdout();
        if (out.size() < 2) {
            fail("no result lines: " + describe());
        }
        String accuracy = out.get(out.size() - 2);
        String sha = out.get(out.size() - 1);
        if (!accuracy.matches("accuracy=[01]\\.\\d+") || !sha.matches("final-weights-sha256=[0-9a-f]{64}")) {
            fail("the last two lines of standard output are not the result lines: " + describe());
        }
        return new Result(accuracy.substring("accuracy=".length()), sha.substring("final-weights-sha256=".length()));
    }

    /** The step the agent said it resumes at; 0 if it said nothing of resuming. */
    long resumedAt() {
        Matcher m = RESUMING.matcher(output());
        return m.find() ? Long.parseLong(m.group(3)) : 0;
    }

    /** The agent's MXBean in the child. */
    PauserMXBean pauser() throws Exception {
        return mxBean("dev.pauser:type=Pauser", PauserMXBean.class);
    }
}
