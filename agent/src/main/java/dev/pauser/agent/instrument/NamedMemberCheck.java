package dev.pauser.agent.instrument;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/**
 * Checks the classes and members named by the {@code step=} and {@code state=} options against the class files on the
 * application class path at start-up, reading them without loading them (loading would run their static initializers
 * before the program does). A class found there that lacks the member is an error; a class not found there is only a
 * warning, as another class loader (a web container, a fat-jar launcher) may still load it. Runs once, on the thread
 * loading the agent.
 */
public final class NamedMemberCheck {
    /** Errors (the run must not start) and warnings, one line each, every problem at once. */
    public record Problems(List<String> errors, List<String> warnings) {
    }

    private NamedMemberCheck() {
    }

    public static Problems check(Map<String, Set<String>> steps, Map<String, Set<String>> states, ClassLoader loader) {
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (steps.isEmpty() && states.isEmpty()) {
            return new Problems(errors, warnings);
        }
        TypePool pool = TypePool.Default.of(ClassFileLocator.ForClassLoader.of(loader));
        check("step", "method", steps, pool, errors, warnings);
        check("state", "field", states, pool, errors, warnings);
        return new Problems(errors, warnings);
    }

    private static void check(String option, String kind, Map<String, Set<String>> named, TypePool pool,
            List<String> errors, List<String> warnings) {
        for (Map.Entry<String, Set<String>> e : named.entrySet()) {
            String className = e.getKey();
            TypePool.Resolution r = pool.describe(className);
            if (!r.isResolved()) {
                warnings.add(option + "=" + className + "#" + String.join("/", e.getValue()) + ": no class "
                        + className + " on the class path; it takes effect only if another class loader loads it"
                        + " (check the name: package and class, nested classes as Outer$Inner)");
                continue;
            }
            TypeDescription type = r.resolve();
            Set<String> present = new TreeSet<>();
            if (kind.equals("method")) {
                for (MethodDescription m : type.getDeclaredMethods()) {
                    if (m.isMethod() && !m.isAbstract() && !m.isNative() && !m.isSynthetic()) {
                        present.add(m.getInternalName());
                    }
                }
            } else {
                for (FieldDescription f : type.getDeclaredFields()) {
                    if (!f.isSynthetic()) {
                        present.add(f.getName());
                    }
                }
            }
            for (String member : e.getValue()) {
                if (!present.contains(member)) {
                    errors.add("pauser: " + option + "=" + className + "#" + member + ": " + className
                            + " declares no " + kind + " named " + member + (kind.equals("method") ? " with code" : "")
                            + "; fix the " + option + " option (its " + kind + "s: " + String.join(", ", present) + ")");
                }
            }
        }
    }
}
