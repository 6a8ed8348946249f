package dev.pauser.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;

/**
 * The user's {@code java ...} command with the Pauser agent given the options a run of {@code check-resume} needs.
 * The options go into the {@code -javaagent:} argument itself, never into {@code JAVA_TOOL_OPTIONS}: agent arguments
 * outrank the user's {@code -Dpauser.*} and {@code PAUSER_*} settings, and no other JVM the program starts gets the
 * agent (two JVMs would fight over one checkpoint directory).
 */
final class AgentCommandLine {
    /** The entry class every pauser.jar names in its manifest: how a {@code -javaagent:} jar is known to be ours. */
    static final String PREMAIN_CLASS = "dev.pauser.launch.PauserAgent";

    private final List<String> command;
    /** Index of the pauser {@code -javaagent:} argument in the user's command, or -1 to insert one after the launcher. */
    private final int agentIndex;
    private final String agentJar;
    private final Map<String, String> userOptions;

    private AgentCommandLine(List<String> command, int agentIndex, String agentJar, Map<String, String> userOptions) {
        this.command = command;
        this.agentIndex = agentIndex;
        this.agentJar = agentJar;
        this.userOptions = userOptions;
    }

    /**
     * Reads the user's command. A {@code -javaagent:} of a pauser.jar in it is kept (its jar and its options, ours
     * overriding the same keys); otherwise the command must start with the {@code java} launcher and
     * {@code ownJar} is inserted right after it.
     *
     * @throws CliException (usage) when the command is neither
     */
    static AgentCommandLine of(List<String> command, Path ownJar) {
        for (int i = 0; i < command.size(); i++) {
            String arg = command.get(i);
            if (!arg.startsWith("-javaagent:")) {
                continue;
            }
            String spec = arg.substring("-javaagent:".length());
            int eq = spec.indexOf('=');
            String jar = eq < 0 ? spec : spec.substring(0, eq);
            if (isPauserJar(Paths.get(jar))) {
                return new AgentCommandLine(command, i, jar, parseOptions(eq < 0 ? "" : spec.substring(eq + 1)));
            }
        }
        String launcher = Paths.get(command.get(0)).getFileName().toString();
        if (!launcher.equals("java") && !launcher.equals("java.exe")) {
            throw new CliException(ExitCodes.USAGE, "check-resume runs a java command: give it as "
                    + "'-- java [options] <main class or -jar app.jar> [args]', not '" + command.get(0) + " ...'");
        }
        return new AgentCommandLine(command, -1, ownJar.toString(), new LinkedHashMap<>());
    }

    /** The command to run, with {@code options} given to the agent (overriding the user's agent options). */
    List<String> with(Map<String, String> options) {
        Map<String, String> merged = new LinkedHashMap<>(userOptions);
        merged.putAll(options);
        StringBuilder arg = new StringBuilder("-javaagent:").append(agentJar).append('=');
        String sep = "";
        for (Map.Entry<String, String> e : merged.entrySet()) {
            arg.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = ",";
        }
        List<String> out = new ArrayList<>(command);
        if (agentIndex >= 0) {
            out.set(agentIndex, arg.toString());
        } else {
            out.add(1, arg.toString());
        }
        return out;
    }

    private static Map<String, String> parseOptions(String args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : args.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            // a malformed pair is left for the agent to name in its own error line
            m.put(eq < 0 ? pair.trim() : pair.substring(0, eq).trim(), eq < 0 ? "" : pair.substring(eq + 1).trim());
        }
        return m;
    }

    private static boolean isPauserJar(Path jar) {
        if (!Files.isRegularFile(jar)) {
            return false;
        }
        try (JarFile j = new JarFile(jar.toFile())) {
            return j.getManifest() != null
                    && PREMAIN_CLASS.equals(j.getManifest().getMainAttributes().getValue("Premain-Class"));
        } catch (IOException e) {
            return false;
        }
    }
}
