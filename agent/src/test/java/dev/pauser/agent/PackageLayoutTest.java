package dev.pauser.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent's packages depend on each other only as their {@code package-info} says, read from the compiled classes
 * with {@code jdeps}: one way, no cycle, and the bootstrap side (the gate and the entry points) on nothing of Pauser's.
 * Every package has a {@code package-info.java}.
 */
class PackageLayoutTest {
    /** Each package and the Pauser packages it may use; every package of the agent must be listed. */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("dev.pauser.gate", Set.of()),
            Map.entry("dev.pauser.launch", Set.of()),
            Map.entry("dev.pauser.agent.log", Set.of()),
            Map.entry("dev.pauser.agent.contract", Set.of()),
            Map.entry("dev.pauser.agent.store", Set.of()),
            Map.entry("dev.pauser.agent.device", Set.of("dev.pauser.agent.log")),
            Map.entry("dev.pauser.agent.state", Set.of("dev.pauser.agent.store", "dev.pauser.agent.device",
                    "dev.pauser.agent.log")),
            Map.entry("dev.pauser.agent.config", Set.of("dev.pauser.agent.log", "dev.pauser.agent.state")),
            Map.entry("dev.pauser.agent.instrument", Set.of("dev.pauser.gate", "dev.pauser.agent.log")),
            Map.entry("dev.pauser.agent.checkpoint", Set.of("dev.pauser.gate", "dev.pauser.agent.log",
                    "dev.pauser.agent.state", "dev.pauser.agent.store", "dev.pauser.agent.device")),
            Map.entry("dev.pauser.agent.control", Set.of("dev.pauser.gate", "dev.pauser.agent.log",
                    "dev.pauser.agent.contract", "dev.pauser.agent.checkpoint")),
            Map.entry("dev.pauser.agent.cluster", Set.of("dev.pauser.gate", "dev.pauser.agent.log",
                    "dev.pauser.agent.config", "dev.pauser.agent.control", "dev.pauser.agent.checkpoint",
                    "dev.pauser.agent.store")),
            Map.entry("dev.pauser.cli", Set.of("dev.pauser.agent.contract", "dev.pauser.agent.store",
                    "dev.pauser.agent.config", "dev.pauser.agent.control", "dev.pauser.agent.cluster")),
            Map.entry("dev.pauser.agent", Set.of("dev.pauser.gate", "dev.pauser.agent.log", "dev.pauser.agent.config",
                    "dev.pauser.agent.contract", "dev.pauser.agent.instrument", "dev.pauser.agent.checkpoint",
                    "dev.pauser.agent.control", "dev.pauser.agent.state", "dev.pauser.agent.cluster")));

    @Test
    void packagesDependOnlyAsDeclaredAndWithoutCycles() throws Exception {
        Map<String, Set<String>> actual = pauserDependencies();
        assertEquals(new TreeSet<>(ALLOWED.keySet()), new TreeSet<>(actual.keySet()),
                "every package of the agent is in the table (and nothing else)");
        List<String> unexpected = new ArrayList<>();
        actual.forEach((from, tos) -> tos.stream().filter(to -> !ALLOWED.get(from).contains(to))
                .forEach(to -> unexpected.add(from + " -> " + to)));
        assertEquals(List.of(), unexpected, "dependencies outside the layout");
        assertEquals(List.of(), cycle(actual), "a package cycle");
    }

    @Test
    void everyPackageSaysWhatItIsFor() {
        List<String> missing = new ArrayList<>();
        for (String pkg : ALLOWED.keySet()) {
            Path info = Paths.get("src/main/java", pkg.replace('.', '/'), "package-info.java");
            if (!Files.isRegularFile(info)) {
                missing.add(info.toString());
            }
        }
        assertEquals(List.of(), missing);
    }

    /** Package to the other Pauser packages its classes refer to, per jdeps over the compiled classes. */
    private static Map<String, Set<String>> pauserDependencies() throws Exception {
        Path classes = Paths.get(AgentWiring.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(
                () -> new AssertionError("jdeps is not in this JDK"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:none",
                classes.toString());
        assertEquals(0, rc, err.toString());
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<String> lines = out.toString().lines()) {
            lines.map(String::trim).map(l -> l.split("\\s+")).filter(t -> t.length >= 3 && t[1].equals("->"))
                    .filter(t -> t[0].startsWith("dev.pauser.")).forEach(t -> {
                        Set<String> tos = deps.computeIfAbsent(t[0], k -> new TreeSet<>());
                        if (t[2].startsWith("dev.pauser.") && !t[2].equals(t[0])) {
                            tos.add(t[2]);
                        }
                    });
        }
        assertTrue(deps.size() > 5, "jdeps found the packages: " + out);
        return deps;
    }

    /** One cycle as a path of packages, or empty. */
    private static List<String> cycle(Map<String, Set<String>> graph) {
        Map<String, Integer> state = new HashMap<>(); // 1 on the path, 2 done
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            if (visit(start, graph, state, path, new HashSet<>())) {
                return path;
            }
        }
        return List.of();
    }

    private static boolean visit(String node, Map<String, Set<String>> graph, Map<String, Integer> state,
            List<String> path, Set<String> onPath) {
        Integer s = state.get(node);
        if (s != null && s == 2) {
            return false;
        }
        path.add(node);
        if (!onPath.add(node)) {
            return true;
        }
        state.put(node, 1);
        for (String next : graph.getOrDefault(node, Set.of())) {
            if (visit(next, graph, state, path, onPath)) {
                return true;
            }
        }
        onPath.remove(node);
        path.remove(path.size() - 1);
        state.put(node, 2);
        return false;
    }
}
