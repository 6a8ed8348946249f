package dev.pauser.agent.state;

import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Opens the JDK packages whose private state the codecs read (the random generators' seeds) to the agent, with the
 * agent's {@link Instrumentation}: {@code java.base/java.util} and {@code jdk.random/jdk.random}. The agent's module is
 * the unnamed module of the loader that defined this class (the bootstrap loader at run time).
 *
 * <p>Unit tests have no Instrumentation; they run with the equivalent {@code --add-opens ...=ALL-UNNAMED} options.
 */
public final class ModuleOpener {
    /** module name → packages opened to the agent. */
    static final Map<String, Set<String>> PACKAGES = Map.of(
            "java.base", Set.of("java.util"),
            "jdk.random", Set.of("jdk.random"));

    private ModuleOpener() {
    }

    /** Opens {@link #PACKAGES} to the agent's module; modules absent from the boot layer are skipped. */
    public static void open(Instrumentation inst) {
        Module agent = ModuleOpener.class.getModule();
        for (Map.Entry<String, Set<String>> e : PACKAGES.entrySet()) {
            Optional<Module> module = ModuleLayer.boot().findModule(e.getKey());
            if (module.isEmpty()) {
                continue;
            }
            Map<String, Set<Module>> opens = new java.util.HashMap<>();
            for (String p : e.getValue()) {
                if (module.get().getPackages().contains(p)) {
                    opens.put(p, Set.of(agent));
                }
            }
            inst.redefineModule(module.get(), Set.of(), Map.of(), opens, Set.of(), Map.of());
        }
    }
}
