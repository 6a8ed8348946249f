package dev.pauser.agent.instrument;

import static net.bytebuddy.matcher.ElementMatchers.isAnnotatedWith;
import static net.bytebuddy.matcher.ElementMatchers.named;

import dev.pauser.agent.log.Log;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDefinition;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Finds the methods that implement or override a {@code @TrainStep} method of a supertype: an annotated interface or
 * abstract method (which has no code to instrument), or an annotated method that a subclass overrides without repeating
 * the annotation. Such a method is a step too; without this a program calling its step through the interface would
 * never pass a boundary, and a pause would hold nothing.
 *
 * <p>Signatures are compared by name and parameter erasures after the supertype's type arguments are applied, so
 * {@code void step(Batch)} implements {@code Step<Batch>.step(T)} (the {@code step(Object)} bridge javac adds is
 * synthetic and left alone). Return types are not compared: an override may narrow it.
 *
 * <p>Cost: the type matcher runs for every class the agent builder does not ignore by name, on whichever thread loads
 * (or retransforms) it. Supertypes under the JDK's packages are skipped by name without being read. For the others,
 * whether they declare or inherit a {@code @TrainStep} method is remembered per class loader and name, so each is read
 * once, not once per subclass (a library's deep hierarchies would otherwise cost several times the annotation matching
 * itself). Only a class with such an ancestor has its supertypes walked in full, with their type arguments.
 */
final class StepOverrides {
    private static final ElementMatcher<MethodDescription> ANNOTATED =
            isAnnotatedWith(named(Instrumenter.TRAIN_STEP));
    private static final Set<String> REPORTED_FUNCTIONAL = ConcurrentHashMap.newKeySet();
    /**
     * Per loader of the classes being matched (weakly held; null for bootstrap): supertype name to "declares or inherits
     * a step", as that loader resolves the name.
     */
    private static final Map<ClassLoader, Map<String, Boolean>> HAS_STEPS =
            Collections.synchronizedMap(new WeakHashMap<>());

    private StepOverrides() {
    }

    /** Types being loaded by {@code loader} that declare a method implementing or overriding an inherited step. */
    static AgentBuilder.RawMatcher declaresStepOverride() {
        return new AgentBuilder.RawMatcher() {
            @Override
            public boolean matches(TypeDescription type, ClassLoader loader, JavaModule module, Class<?> redefined,
                    ProtectionDomain domain) {
                return declaresStepOverride(type, HAS_STEPS.computeIfAbsent(loader, l -> new ConcurrentHashMap<>()));
            }

            @Override
            public String toString() {
                return "declaresStepOverride()";
            }
        };
    }

    /** Like {@link #declaresStepOverride()}, remembering supertypes in {@code known}. */
    static ElementMatcher.Junction<TypeDescription> declaresStepOverride(Map<String, Boolean> known) {
        return new ElementMatcher.Junction.AbstractBase<TypeDescription>() {
            @Override
            public boolean matches(TypeDescription type) {
                return declaresStepOverride(type, known);
            }
        };
    }

    private static boolean declaresStepOverride(TypeDescription type, Map<String, Boolean> known) {
        try {
            if (type.isInterface()) {
                reportFunctional(type);
            }
            if (!hasSteps(type.getSuperClass(), known) && !anyHasSteps(type.getInterfaces(), known)) {
                return false;
            }
        } catch (RuntimeException e) {
            // A supertype the loader cannot find: the JVM will refuse the class itself; it is no step of ours.
            return false;
        }
        Set<String> inherited = inheritedSteps(type);
        if (inherited.isEmpty()) {
            return false;
        }
        for (MethodDescription m : type.getDeclaredMethods()) {
            if (overrides(m, inherited)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code t} declares or inherits a {@code @TrainStep} method; remembered by name in {@code known}. */
    private static boolean hasSteps(TypeDescription.Generic t, Map<String, Boolean> known) {
        if (t == null) {
            return false;
        }
        String name = t.asErasure().getName();
        if (platform(name)) {
            return false;
        }
        Boolean k = known.get(name);
        if (k != null) {
            return k;
        }
        TypeDescription erasure = t.asErasure();
        boolean has = false;
        for (MethodDescription m : erasure.getDeclaredMethods()) {
            if (ANNOTATED.matches(m)) {
                has = true;
                break;
            }
        }
        has = has || hasSteps(erasure.getSuperClass(), known) || anyHasSteps(erasure.getInterfaces(), known);
        known.put(name, has);
        return has;
    }

    private static boolean anyHasSteps(Iterable<TypeDescription.Generic> types, Map<String, Boolean> known) {
        for (TypeDescription.Generic t : types) {
            if (hasSteps(t, known)) {
                return true;
            }
        }
        return false;
    }

    /** Methods that implement or override an inherited {@code @TrainStep} method (abstract ones included). */
    static ElementMatcher.Junction<MethodDescription> overridesStep() {
        return new ElementMatcher.Junction.AbstractBase<MethodDescription>() {
            @Override
            public boolean matches(MethodDescription m) {
                if (!canOverride(m)) {
                    return false;
                }
                TypeDefinition owner = m.getDeclaringType();
                return owner instanceof TypeDescription && overrides(m, inheritedSteps((TypeDescription) owner));
            }

            @Override
            public String toString() {
                return "overridesStep()";
            }
        };
    }

    private static boolean overrides(MethodDescription m, Set<String> inherited) {
        return canOverride(m) && inherited.contains(signature(m));
    }

    private static boolean canOverride(MethodDescription m) {
        return m.isMethod() && !m.isStatic() && !m.isPrivate();
    }

    /** Signatures of the {@code @TrainStep} methods that {@code type}'s supertypes declare, with type arguments applied. */
    static Set<String> inheritedSteps(TypeDescription type) {
        Set<String> out = new HashSet<>();
        Set<String> visited = new HashSet<>();
        String pkg = packageOf(type.getName());
        collect(type.getSuperClass(), pkg, out, visited);
        for (TypeDescription.Generic i : type.getInterfaces()) {
            collect(i, pkg, out, visited);
        }
        return out;
    }

    private static void collect(TypeDescription.Generic superType, String pkg, Set<String> out, Set<String> visited) {
        if (superType == null) {
            return;
        }
        // The erasure's name is known without reading the class file; the JDK's types (and their supertypes, all the
        // JDK's too) cannot carry the app's annotation.
        String name = superType.asErasure().getName();
        if (platform(name) || !visited.add(name)) {
            return;
        }
        for (MethodDescription m : superType.getDeclaredMethods()) {
            if (canOverride(m) && ANNOTATED.matches(m)
                    && (!m.isPackagePrivate() || packageOf(name).equals(pkg))) {
                out.add(signature(m));
            }
        }
        collect(superType.getSuperClass(), pkg, out, visited);
        for (TypeDescription.Generic i : superType.getInterfaces()) {
            collect(i, pkg, out, visited);
        }
    }

    /**
     * A lambda or method reference implementing a functional interface whose method is {@code @TrainStep} is a hidden
     * class, which the JVM never hands to an agent: say so once per interface, when the interface loads.
     */
    private static void reportFunctional(TypeDescription type) {
        MethodDescription step = null;
        int abstractMethods = 0;
        for (MethodDescription m : type.getDeclaredMethods()) {
            if (m.isAbstract()) {
                abstractMethods++;
                if (ANNOTATED.matches(m)) {
                    step = m;
                }
            }
        }
        if (step != null && abstractMethods == 1 && REPORTED_FUNCTIONAL.add(type.getName())) {
            Log.info(type.getName() + "." + step.getName() + " is a @TrainStep interface method: classes implementing it"
                    + " are steps, but lambdas and method references are not (the JVM lets no agent change them);"
                    + " implement it in a class");
        }
    }

    private static String signature(MethodDescription m) {
        StringBuilder b = new StringBuilder(m.getName()).append('(');
        for (TypeDescription p : m.getParameters().asTypeList().asErasures()) {
            b.append(p.getName()).append(',');
        }
        return b.append(')').toString();
    }

    private static boolean platform(String name) {
        return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
                || name.startsWith("sun.") || name.startsWith("com.sun.");
    }

    private static String packageOf(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(0, dot);
    }
}
