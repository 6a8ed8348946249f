package dev.pauser.cli;

import dev.pauser.agent.snapshot.Visible;
import java.io.IOException;
import java.lang.reflect.UndeclaredThrowableException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar pauser.jar <command>}: the manifest's Main-Class. Reaches local JVMs through the Attach API and the
 * agent's MXBean {@code dev.pauser:type=Pauser}; this code runs only in the command's own JVM, never in the target
 * (jdk.attach is not available to the bootstrap part of the agent anyway).
 */
@Command(name = "pauser", mixinStandardHelpOptions = true, versionProvider = PauserCli.Version.class,
        description = {"Pause, resume, stop and checkpoint local JVM training runs that use the Pauser agent,",
            "and inspect and verify their checkpoints."},
        subcommands = {ListCommand.class, StatusCommand.class, PauseCommand.class, ResumeCommand.class,
            StopCommand.class, AttachCommand.class, CheckpointCommand.class, InspectCommand.class, VerifyCommand.class,
            HelpCommand.class},
        footer = {"", "Every command takes --json (one line of JSON on standard output) and --help.",
            "Errors are one line on standard error, starting with \"pauser: \"."})
public final class PauserCli implements Runnable {
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs one command line and returns the exit status (for main, and for tests in this JVM). */
    static int execute(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new PauserCli());
        cl.setExecutionExceptionHandler(new Failures());
        cl.setParameterExceptionHandler(PauserCli::usageError);
        addExitCodes(cl);
        return cl;
    }

    /** The same "Exit codes:" section under every command's usage. */
    private static void addExitCodes(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.descriptions());
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!(sub.getCommand() instanceof HelpCommand)) {
                addExitCodes(sub);
            }
        }
    }

    /**
     * A bad command line is one line too, pointing at the help, rather than the whole usage: scripts log stderr, and
     * the error would scroll away above the usage.
     */
    private static int usageError(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        cmd.getErr().println("pauser: " + Jvms.oneLine(ex) + " (see " + cmd.getCommandSpec().qualifiedName()
                + " --help)");
        cmd.getErr().flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /**
     * Turns a failure into one line on standard error and an exit code. Expected failures ({@link CliException}) and a
     * JVM vanishing mid-command print no stack trace; anything else is a bug and keeps its trace.
     */
    static final class Failures implements IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
            Throwable e = ex;
            if (e instanceof UndeclaredThrowableException && e.getCause() != null) {
                e = e.getCause(); // a JMX proxy call whose checked exception (IOException) the interface cannot declare
            }
            if (e instanceof CliException) {
                // its message may quote a checkpoint (a key, a path): one line, nothing the terminal would act on
                cmd.getErr().println("pauser: " + Visible.of(e.getMessage()));
                cmd.getErr().flush();
                return ((CliException) e).exitCode();
            }
            if (e instanceof IOException) {
                cmd.getErr().println("pauser: lost the connection to the JVM: " + Jvms.oneLine(e));
                cmd.getErr().flush();
                return ExitCodes.FAILED;
            }
            cmd.getErr().println("pauser: unexpected error: " + e);
            e.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return ExitCodes.FAILED;
        }
    }

    /** The version from pauser.jar's manifest, as the agent reports it. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            Package p = PauserCli.class.getPackage();
            String v = p == null ? null : p.getImplementationVersion();
            return new String[] {"pauser " + (v == null ? "dev" : v) + " (Java " + System.getProperty("java.version") + ")"};
        }
    }
}
