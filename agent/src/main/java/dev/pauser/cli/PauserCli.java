package dev.pauser.cli;

import dev.pauser.agent.store.Visible;
import java.io.IOException;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code java -jar pauser.jar <command>}: the manifest's Main-Class. Reaches local JVMs through the Attach API and the
 * agent's control socket ({@link Target}); this code runs only in the command's own JVM, never in the target
 * (jdk.attach is not available to the bootstrap part of the agent anyway).
 */
@Command(name = "pauser", mixinStandardHelpOptions = true, versionProvider = PauserCli.Version.class,
        description = {"Pause, resume, stop and checkpoint local JVM training runs that use the Pauser agent,",
            "inspect and verify their checkpoints, and check that a program resumes exactly."},
        footer = {"", "Every command takes --json (one line of JSON on standard output) and --help.",
            "Errors are one line on standard error, starting with \"pauser: \"."})
public final class PauserCli implements Runnable {
    @Spec
    CommandSpec spec;

    /**
     * The subcommands by name, in the order the usage lists them. The names repeat the commands' annotations (checked by
     * a test) so that picking one reads no annotation of the others.
     */
    private static final Map<String, Class<?>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("list", ListCommand.class);
        COMMANDS.put("status", StatusCommand.class);
        COMMANDS.put("pause", PauseCommand.class);
        COMMANDS.put("resume", ResumeCommand.class);
        COMMANDS.put("stop", StopCommand.class);
        COMMANDS.put("attach", AttachCommand.class);
        COMMANDS.put("checkpoint", CheckpointCommand.class);
        COMMANDS.put("inspect", InspectCommand.class);
        COMMANDS.put("verify", VerifyCommand.class);
        COMMANDS.put("check-resume", CheckResumeCommand.class);
        COMMANDS.put("job", JobCommand.class);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs one command line and returns the exit status (for main, and for tests in this JVM). */
    static int execute(String... args) {
        return commandLine(args).execute(args);
    }

    /**
     * The parser for {@code args}. picocli reads every command's annotations when it is added; a command line that
     * starts with a command's name gets that command alone, which saves a good part of the start-up. Anything else
     * (help, no command, a misspelt one, which is answered with the closest names) gets them all.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new PauserCli());
        Class<?> named = args.length == 0 ? null : COMMANDS.get(args[0]);
        for (Class<?> c : COMMANDS.values()) {
            if (named == null || c == named) {
                cl.addSubcommand(c);
            }
        }
        if (named == null) {
            cl.addSubcommand(new HelpCommand());
        }
        cl.setExecutionExceptionHandler(new Failures());
        cl.setParameterExceptionHandler(new UsageErrors());
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.descriptions());
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!(sub.getCommand() instanceof HelpCommand)) {
                sub.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n")
                        .exitCodeList(ExitCodes.forCommand(sub.getCommandName()));
            }
        }
        CommandLine attach = cl.getSubcommands().get("attach");
        if (attach != null) {
            AttachCommand.describeOptions(attach);
        }
        return cl;
    }

    /**
     * A bad command line is one line too, pointing at the help, rather than the whole usage: scripts log stderr, and
     * the error would scroll away above the usage. (A class rather than a method reference: the first lambda of a JVM
     * costs it milliseconds of start-up.)
     */
    static final class UsageErrors implements IParameterExceptionHandler {
        @Override
        public int handleParseException(ParameterException ex, String[] args) {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("pauser: " + problem(ex) + " (see " + cmd.getCommandSpec().qualifiedName()
                    + " --help)");
            cmd.getErr().flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        }
    }

    /** The usage error in words, with picocli's suggestions for a misspelt command or option on the same line. */
    private static String problem(ParameterException ex) {
        if (ex instanceof UnmatchedArgumentException) {
            UnmatchedArgumentException u = (UnmatchedArgumentException) ex;
            List<String> unmatched = u.getUnmatched();
            List<String> suggestions = u.getSuggestions();
            boolean command = ex.getCommandLine().getParent() == null && !unmatched.isEmpty()
                    && !unmatched.get(0).startsWith("-");
            String what = command ? "unknown command '" + unmatched.get(0) + "'"
                    : u.isUnknownOption() ? "unknown option '" + unmatched.get(0) + "'"
                    : "unexpected argument" + (unmatched.size() > 1 ? "s " : " ") + quoted(unmatched);
            if (command && suggestions.isEmpty()) {
                return what + "; commands: " + String.join(", ", ex.getCommandLine().getSubcommands().keySet());
            }
            return suggestions.isEmpty() ? what : what + "; did you mean " + alternatives(suggestions) + "?";
        }
        return Jvms.oneLine(ex);
    }

    /** a, b or c. */
    private static String alternatives(List<String> names) {
        int last = names.size() - 1;
        return last == 0 ? names.get(0) : String.join(", ", names.subList(0, last)) + " or " + names.get(last);
    }

    private static String quoted(List<String> args) {
        return args.stream().map(a -> "'" + a + "'").collect(java.util.stream.Collectors.joining(" "));
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
