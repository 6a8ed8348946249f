package dev.pauser.agent.instrument;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isAnnotatedWith;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isNative;
import static net.bytebuddy.matcher.ElementMatchers.isSynthetic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;

import dev.pauser.agent.log.Log;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.Nexus;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Instruments every method annotated {@code @TrainStep} or named by the {@code step=} option, and every method
 * implementing or overriding an annotated one (see {@link StepOverrides}), with {@link StepAdvice}, in classes loaded from now on and, on a late attach, in classes
 * already loaded (retransformation, so no new fields or methods: per-instance bookkeeping lives in the boot classes).
 * Lambdas and other hidden classes never reach an agent, so they are never instrumented.
 *
 * <p>The annotation is matched by name, never by {@code Class}: the app's copy of pauser-runtime may live in any loader.
 */
public final class Instrumenter {
    static final String TRAIN_STEP = "dev.pauser.TrainStep";

    private Instrumenter() {
    }

    /**
     * Installs the instrumentation. {@code namedSteps} (class binary name to method names, from the {@code step=}
     * option) are steps as if annotated: every method of that name declared by that class, all overloads.
     */
    public static ClassFileTransformer install(Instrumentation inst, Map<String, Set<String>> namedSteps) {
        ElementMatcher.Junction<MethodDescription> withCode = not(isAbstract()).and(not(isNative())).and(not(isSynthetic()));
        ElementMatcher.Junction<MethodDescription> named = namedBy(namedSteps);
        ElementMatcher.Junction<MethodDescription> annotatedSteps =
                withCode.and(isAnnotatedWith(named(TRAIN_STEP)).or(named));
        // A method implementing an annotated interface or abstract method, or overriding an annotated one, is a step too.
        ElementMatcher.Junction<MethodDescription> stepMethods =
                withCode.and(isAnnotatedWith(named(TRAIN_STEP)).or(named).or(StepOverrides.overridesStep()));
        return newAgentBuilder()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.TypeStrategy.Default.DECORATE)
                .with(new Reporter(stepMethods))
                // Cheap name checks first: matching by annotation parses the class, and that dominates start-up.
                .ignore(nameStartsWith("java.")
                        .or(nameStartsWith("javax."))
                        .or(nameStartsWith("jdk."))
                        .or(nameStartsWith("sun."))
                        .or(nameStartsWith("com.sun."))
                        .or(nameStartsWith("dev.pauser.agent."))
                        .or(nameStartsWith("dev.pauser.gate."))
                        .or(nameStartsWith("dev.pauser.launch."))
                        .or(nameStartsWith("dev.pauser.cli."))
                        .or(nameStartsWith("dev.pauser.shaded."))
                        .or(nameStartsWith("net.bytebuddy.")))
                .type(declaresStepOrOverride(declaresMethod(annotatedSteps), StepOverrides.declaresStepOverride()))
                .transform(new AgentBuilder.Transformer.ForAdvice()
                        // The advice's class file comes from Pauser's own loader, whatever loader defined the trainer
                        // (which cannot see it).
                        .include(ClassFileLocator.ForClassLoader.of(StepAdvice.class.getClassLoader()))
                        .advice(stepMethods, StepAdvice.class.getName())
                        // A resumed trainer's state is restored as soon as it is constructed (and again at its first
                        // step), so the loop deciding whether to run a step already sees the restored counter.
                        .advice(isConstructor(), StepAdvice.Constructed.class.getName()))
                .installOn(inst);
    }

    /**
     * Runs {@code transformer} (as {@link #install} returned it) once over a made-up step class, so that a first
     * transformation's classes are loaded now. Runs on the calling thread.
     *
     * @throws IllegalStateException if the made-up class did not come out instrumented
     */
    public static void warmUp(ClassFileTransformer transformer) {
        WarmUp.run(transformer);
    }

    /** Methods declared by a class named in {@code namedSteps} under one of the names given for it. */
    private static ElementMatcher.Junction<MethodDescription> namedBy(Map<String, Set<String>> namedSteps) {
        return new ElementMatcher.Junction.AbstractBase<MethodDescription>() {
            @Override
            public boolean matches(MethodDescription method) {
                if (namedSteps.isEmpty() || !method.isMethod()) {
                    return false;
                }
                Set<String> names = namedSteps.get(method.getDeclaringType().asErasure().getName());
                return names != null && names.contains(method.getInternalName());
            }
        };
    }

    /**
     * An agent builder that leaves the app's class loader and {@code sun.misc.Unsafe} alone. ByteBuddy's default
     * initialization strategy, created by the constructor, prepares its {@code Nexus}: it injects a class into the
     * system class loader through {@code ClassInjector.UsingReflection}, whose set-up goes through
     * {@code ClassInjector.UsingUnsafe} and makes JDK 24+ print four {@code sun.misc.Unsafe} warnings naming the
     * shaded ByteBuddy. The Nexus only serves classes with live initializers, which inline advice never creates
     * ({@code disableClassFormatChanges()} replaces that strategy with a no-op anyway), so it is switched off while
     * the builder is made: {@link Nexus#PROPERTY}, whose name the shading relocates with the class, so this names the
     * bundled copy's property, never an app's own ByteBuddy's. It is read once, when the Nexus accessor initializes,
     * so it is removed again afterwards.
     */
    private static AgentBuilder newAgentBuilder() {
        boolean set = System.getProperty(Nexus.PROPERTY) == null;
        if (set) {
            System.setProperty(Nexus.PROPERTY, "true");
        }
        try {
            // No validation of the classes it writes: it only pastes inline advice into methods javac compiled, and
            // validating costs start-up time and classes for every class transformed.
            return new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED));
        } finally {
            if (set) {
                System.clearProperty(Nexus.PROPERTY);
            }
        }
    }

    /** The annotation check first: it reads only the class itself; the override check may read its supertypes. */
    private static AgentBuilder.RawMatcher declaresStepOrOverride(ElementMatcher<TypeDescription> declaresStep,
            AgentBuilder.RawMatcher declaresOverride) {
        return (type, loader, module, redefined, domain) -> declaresStep.matches(type)
                || declaresOverride.matches(type, loader, module, redefined, domain);
    }

    /**
     * Counts the step methods of each class instrumented (for {@link StepReport}), and reports each class that fails
     * to instrument once, by name; the app runs on, that class without safe points. Called on the thread loading or
     * retransforming the class.
     */
    private static final class Reporter extends AgentBuilder.Listener.Adapter {
        private final ElementMatcher<MethodDescription> stepMethods;
        private final Set<String> reported = ConcurrentHashMap.newKeySet();

        Reporter(ElementMatcher<MethodDescription> stepMethods) {
            this.stepMethods = stepMethods;
        }

        @Override
        public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded,
                DynamicType dynamicType) {
            if (loader instanceof WarmUp.Loader) {
                return; // transformed, never defined: no step of the program's
            }
            StepReport.instrumented(type.getName(), loader, type.getDeclaredMethods().filter(stepMethods).size());
        }

        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
            if (loader instanceof WarmUp.Loader) {
                throw new IllegalStateException("the warm-up class did not transform: " + error, error);
            }
            if (reported.add(typeName)) {
                StepReport.failed();
                Log.warn("could not instrument " + typeName + " (" + error
                        + "); it runs unchanged, without safe points in its @TrainStep methods");
            }
        }
    }
}
