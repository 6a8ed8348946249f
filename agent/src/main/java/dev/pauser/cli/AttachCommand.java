package dev.pauser.cli;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.VirtualMachine;
import dev.pauser.agent.config.Config;
import dev.pauser.agent.config.ConfigException;
import dev.pauser.agent.contract.AgentProperties;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "attach", mixinStandardHelpOptions = true,
        description = {"Load the Pauser agent into a running JVM that was started without it.",
            "@TrainStep classes already loaded are instrumented in place; steps in flight count from their next call.",
            "If the agent is already loaded there, says so and exits 0 (the options given are not applied)."})
final class AttachCommand extends JvmCommand {
    @Parameters(index = "1..*", paramLabel = "<key=value>",
            description = "Agent options, as after -javaagent:pauser.jar= (listed below); separate words or one "
                    + "comma-separated word.")
    List<String> options = new ArrayList<>();

    @Override
    public Integer call() {
        Path jar = Jvms.ownJar();
        String args = String.join(",", options);
        VirtualMachine vm = Jvms.attach(pid);
        String version;
        try {
            Properties props = Jvms.systemPropertiesOnceStarted(vm);
            String loaded = Jvms.agentVersion(props);
            if (loaded != null) {
                out.print(Output.object("pid", pid, "loaded", false, "alreadyLoaded", true, "version", loaded),
                        "the Pauser agent " + loaded + " is already loaded in JVM " + pid
                                + (args.isEmpty() ? "" : "; options not applied: " + args));
                return ExitCodes.OK;
            }
            check(args, props, Jvms.pauserEnvironment(pid));
            vm.loadAgent(jar.toString(), args.isEmpty() ? null : args);
            Properties after = Jvms.systemProperties(vm);
            version = Jvms.agentVersion(after);
            if (version == null) {
                // The agent declined to start (e.g. its checkpoint directory is in use or unsafe) and left the reason.
                String why = after.getProperty(AgentProperties.ERROR, "the reason is in that JVM's standard error");
                throw new CliException(ExitCodes.FAILED, "the Pauser agent did not start in JVM " + pid + ": "
                        + why.replaceFirst("^pauser: ", "") + "; the program goes on without it");
            }
        } catch (AgentInitializationException e) {
            // The JDK's message here is generic ("agent failed to initialize"); the reason is on the JVM's stderr.
            throw new CliException(ExitCodes.FAILED, "the Pauser agent failed to start in JVM " + pid + " ("
                    + Jvms.oneLine(e) + "); the reason is in that JVM's standard error");
        } catch (AgentLoadException | IOException e) {
            throw new CliException(ExitCodes.CANNOT_ATTACH, "cannot load the Pauser agent into JVM " + pid + ": "
                    + Jvms.oneLine(e));
        } finally {
            Jvms.detach(vm);
        }
        out.print(Output.object("pid", pid, "loaded", true, "alreadyLoaded", false, "version", version),
                "loaded the Pauser agent " + version + " into JVM " + pid + (args.isEmpty() ? "" : " with " + args));
        return ExitCodes.OK;
    }

    /** Lists every agent option under the usage, what it accepts and its default, as {@link Config} defines them. */
    static void describeOptions(CommandLine attach) {
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add("Agent options (the JVM's own -Dpauser.<key> and PAUSER_<KEY> settings apply where not given):");
        Map<String, String> defaults = Config.defaults();
        Config.allowedValues().forEach((key, allowed) -> {
            String d = defaults.get(key);
            wrap(lines, String.format(Locale.ROOT, "  %-18s %s; default %s", key + "=", allowed,
                    d.isEmpty() ? "none" : d));
        });
        attach.getCommandSpec().usageMessage().footer(lines.toArray(new String[0]));
    }

    /** Adds {@code line} folded at the usage's width, continuation lines under the description column. */
    private static void wrap(List<String> lines, String line) {
        int width = 80;
        String indent = " ".repeat(21);
        while (line.length() > width) {
            int cut = line.lastIndexOf(' ', width);
            if (cut <= indent.length()) {
                break;
            }
            lines.add(line.substring(0, cut));
            line = indent + line.substring(cut + 1);
        }
        lines.add(line);
    }

    /**
     * Checks the options here, as the agent will, with the JVM's own -Dpauser.* properties and PAUSER_* environment:
     * the Attach API reports an agent that failed to start without its reason, so a typo would otherwise read only
     * "agent failed to initialize".
     */
    private static void check(String args, Properties targetProps, Map<String, String> targetEnv) {
        try {
            Config.load(args, targetProps, targetEnv);
        } catch (ConfigException e) {
            throw new CliException(ExitCodes.FAILED, e.getMessage().replaceFirst("^pauser: ", ""));
        }
    }
}
