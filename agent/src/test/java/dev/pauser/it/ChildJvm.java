package dev.pauser.it;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.testkit.ChildJvmCommand;
import dev.pauser.testkit.ChildJvmProcess;
import java.io.IOException;

/**
 * A child JVM of the agent's end-to-end tests, started as a user would start one: {@code java
 * -javaagent:pauser.jar[=options] ...}, standard error merged into standard output. The test kit's
 * {@link ChildJvmProcess} collects the output, waits, sends signals and reaches JMX; this adds the fixture class path
 * and a typed proxy of the Pauser MXBean.
 */
public final class ChildJvm extends ChildJvmProcess {

    private ChildJvm(Builder command) throws IOException {
        super(command);
    }

    /**
     * The class path for fixture programs: the test classes and the pauser-runtime annotations, and nothing of the
     * agent (the agent reaches them through -javaagent only, as in a user's program).
     */
    public static String fixtureClassPath() {
        return classPathOf(ChildJvm.class, dev.pauser.TrainStep.class);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds the command line of a child JVM; loads the agent unless told otherwise. */
    public static final class Builder extends ChildJvmCommand<Builder> {
        @Override
        protected Builder self() {
            return this;
        }

        /** Runs {@code mainClass} from the fixture class path. */
        public Builder main(Class<?> mainClass, String... args) {
            return main(fixtureClassPath(), mainClass.getName(), args);
        }

        public ChildJvm start() throws IOException {
            return new ChildJvm(this);
        }
    }

    /** A typed proxy of the Pauser MXBean in the child (open types: the interface is all the client needs). */
    public PauserMXBean pauser() throws Exception {
        return mxBean(PauserMXBean.OBJECT_NAME, PauserMXBean.class);
    }
}
