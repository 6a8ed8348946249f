package dev.pauser.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of a child JVM, written as a user would type it: {@code [launcher] java
 * [-javaagent:pauser.jar[=options]] [JVM arguments] (-cp path main | -jar jar) [arguments]}, with the java of the JDK
 * under test ({@link ChildJvmProcess#javaExecutable()}) and the built agent jar ({@link ChildJvmProcess#agentJar()}).
 * The agent is loaded unless {@link #noAgent()} says otherwise. The child gets the caller's environment without its
 * {@code PAUSER_*} variables (so no option leaks in from the shell that runs the build), plus those set with
 * {@link #env}.
 *
 * <p>A subclass names itself as {@code B} so that every setter returns it, and adds the {@code start()} that makes its
 * own kind of {@link ChildJvmProcess}. Used on the test's thread only.
 *
 * @param <B> the subclass itself
 */
public abstract class ChildJvmCommand<B extends ChildJvmCommand<B>> {
    private boolean agent = true;
    private String agentOptions;
    private final List<String> launcher = new ArrayList<>();
    private final List<String> jvmArgs = new ArrayList<>();
    /** What follows the JVM arguments: {@code -cp path main args} or {@code -jar jar args}. */
    private final List<String> program = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>();
    private Path workDir;
    private boolean standardErrorApart;

    /** This command, as its subclass. */
    protected abstract B self();

    /** Loads the agent with these options ({@code null}: {@code -javaagent:pauser.jar} with none). */
    public B agent(String options) {
        this.agent = true;
        this.agentOptions = options;
        return self();
    }

    /** Starts the JVM without the agent. */
    public B noAgent() {
        this.agent = false;
        return self();
    }

    /** Adds an argument for the JVM, before the main class or jar. */
    public B jvmArg(String arg) {
        jvmArgs.add(arg);
        return self();
    }

    /** Sets a variable in the child's environment. */
    public B env(String name, String value) {
        env.put(name, value);
        return self();
    }

    /**
     * Starts the JVM through this command (which must exec its arguments, keeping the pid), e.g.
     * {@code env --default-signal=INT}.
     */
    public B launcher(String... command) {
        launcher.addAll(List.of(command));
        return self();
    }

    /** The child's working directory (default: the test's). */
    public B workDir(Path dir) {
        this.workDir = dir;
        return self();
    }

    /** Runs {@code java -cp classPath mainClass args}. */
    public B main(String classPath, String mainClass, String... args) {
        program.add("-cp");
        program.add(classPath);
        program.add(mainClass);
        program.addAll(List.of(args));
        return self();
    }

    /** Runs {@code java -jar jar args}. */
    public B jar(Path jar, String... args) {
        program.add("-jar");
        program.add(jar.toString());
        program.addAll(List.of(args));
        return self();
    }

    /**
     * Reads standard error apart from standard output, so that {@link ChildJvmProcess#stdout()} holds the program's
     * own lines only. Without this, standard error is merged into standard output as the terminal would show them.
     */
    public B standardErrorApart() {
        this.standardErrorApart = true;
        return self();
    }

    /**
     * The whole command line. Skips the test (by assumption) where the JDK under test is not installed; fails it where
     * the agent jar is not built.
     */
    public List<String> commandLine() {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.add(ChildJvmProcess.javaExecutable().toString());
        if (agent) {
            cmd.add("-javaagent:" + ChildJvmProcess.agentJar() + (agentOptions == null ? "" : "=" + agentOptions));
        }
        cmd.addAll(jvmArgs);
        cmd.addAll(program);
        return cmd;
    }

    boolean keepsStandardErrorApart() {
        return standardErrorApart;
    }

    /** Starts {@code commandLine} in this command's directory and environment. */
    Process start(List<String> commandLine) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(commandLine).redirectErrorStream(!standardErrorApart);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        pb.environment().keySet().removeIf(k -> k.startsWith("PAUSER_"));
        pb.environment().putAll(env);
        return pb.start();
    }
}
