package dev.pauser.agent.instrument;

import dev.pauser.agent.log.Log;
import dev.pauser.gate.Gate;
import dev.pauser.gate.GateState;
import dev.pauser.gate.TrainerEvents;
import java.io.File;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Tells the user whether the agent found anything to do, so that a program it cannot pause never runs silently
 * unchecked: one info line when the first step runs, naming the {@code @TrainStep} methods instrumented so far (those
 * implementing or overriding an annotated one included); and one warning at the exit of a JVM where no step ever ran,
 * with the likely causes.
 *
 * <p>The warning is given only where steps were to be expected: the agent was loaded at start-up ({@code -javaagent},
 * not a late attach, which the user aimed at a JVM already running) and the JVM ran a program's main class. JVMs that
 * pick the agent up from {@code JAVA_TOOL_OPTIONS} without training (the JDK's tools, {@code pauser} itself) stay
 * quiet.
 */
public final class StepReport {
    private static final int NAMES_SHOWN = 5;

    /** A class that was instrumented, and how many step methods it has. */
    private record Instrumented(String className, int methods) {
    }

    /** In the order they were instrumented. Guarded by itself. */
    private static final List<Instrumented> INSTRUMENTED = new ArrayList<>();
    /** Class name and loader identity of each class counted. */
    private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger FAILED_CLASSES = new AtomicInteger();

    private StepReport() {
    }

    /**
     * A class was instrumented, with {@code methods} step methods. On the thread loading (or retransforming) it; a
     * class transformed again (another agent retransforming it) is counted once.
     */
    static void instrumented(String className, ClassLoader loader, int methods) {
        if (methods > 0 && SEEN.add(className + "@" + System.identityHashCode(loader))) {
            synchronized (INSTRUMENTED) {
                INSTRUMENTED.add(new Instrumented(className, methods));
            }
            Log.debug("instrumented " + methods(methods) + " in " + className);
        }
    }

    /** A class with step methods could not be instrumented (already reported by name). */
    static void failed() {
        FAILED_CLASSES.incrementAndGet();
    }

    /** Installs the first-step line, and for a JVM started with the agent, the exit check. */
    public static void install(Instrumentation inst, boolean lateAttach, String agentJar) {
        TrainerEvents.onFirstStep(() -> Log.info(summary()));
        String main = lateAttach ? null : programMainClass(System.getProperty("sun.java.command"), agentJar);
        if (main != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> atExit(inst, main), "pauser-step-report"));
        }
    }

    /** {@code instrumented 1 @TrainStep method in a.B}, or the total and the classes, the first few by name. */
    static String summary() {
        List<Instrumented> classes = instrumented();
        int total = classes.stream().mapToInt(Instrumented::methods).sum();
        if (classes.isEmpty()) {
            return "a @TrainStep method runs";
        }
        if (classes.size() == 1) {
            return "instrumented " + methods(total) + " in " + classes.get(0).className();
        }
        StringBuilder line = new StringBuilder("instrumented " + methods(total) + " in " + classes.size() + " classes: ");
        for (int i = 0; i < classes.size() && i < NAMES_SHOWN; i++) {
            Instrumented c = classes.get(i);
            line.append(i == 0 ? "" : ", ").append(c.className()).append(" (").append(c.methods()).append(')');
        }
        if (classes.size() > NAMES_SHOWN) {
            line.append(" and ").append(classes.size() - NAMES_SHOWN).append(" more (log=debug names each)");
        }
        return line.toString();
    }

    private static List<Instrumented> instrumented() {
        synchronized (INSTRUMENTED) {
            return new ArrayList<>(INSTRUMENTED);
        }
    }

    private static String methods(int n) {
        return n + " @TrainStep method" + (n == 1 ? "" : "s");
    }

    /** On the shutdown hook thread {@code pauser-step-report}. */
    private static void atExit(Instrumentation inst, String mainClass) {
        if (!Gate.beforeFirstStep() || Gate.steps() > 0 || Gate.state() == GateState.STOPPING
                || !loaded(inst, mainClass)) {
            // a step ran; or the run resumed from a checkpoint (a finished run started again rightly runs no step); or
            // a stop (signal, JMX) ended the run before training began; or main never started
            return;
        }
        Log.warn(noStepWarning());
    }

    static String noStepWarning() {
        int failedClasses = FAILED_CLASSES.get();
        String failed = failedClasses == 0 ? ""
                : "; " + failedClasses + " class(es) with step methods could not be instrumented (a line said which)";
        if (instrumented().isEmpty()) {
            return "no @TrainStep method ran in this JVM, so nothing was checkpointed: no class loaded declares, "
                    + "implements or overrides a method annotated @dev.pauser.TrainStep" + failed + ". Annotate the "
                    + "method the training loop calls; a lambda or method reference can't be a step (implement the "
                    + "interface in a class)";
        }
        return "no @TrainStep method ran in this JVM, so nothing was checkpointed: " + summary() + failed
                + ", but none was called (the loop calls another method, or a lambda or method reference, which "
                + "can't be a step), or they ran in a class loader that does not delegate dev.pauser.* to the "
                + "bootstrap loader (OSGi: -Dorg.osgi.framework.bootdelegation=dev.pauser.*)";
    }

    /**
     * The main class of the program this JVM runs, from the launcher's {@code sun.java.command} ({@code Main args},
     * {@code app.jar args} or {@code module/Main args}); null where no program's main is to be expected: none given
     * (an embedded JVM), a JDK tool ({@code jdk.}, {@code sun.}, {@code com.sun.} classes, the source launcher
     * included), or the {@code pauser} command line itself.
     */
    static String programMainClass(String javaCommand, String agentJar) {
        String main = launchedMainClass(javaCommand, agentJar);
        if (main == null || main.startsWith("jdk.") || main.startsWith("sun.") || main.startsWith("com.sun.")
                || isPauserCommandLine(main)) {
            return null;
        }
        return main;
    }

    /**
     * Whether this JVM runs a tool rather than a program that could train: the {@code pauser} command line, or a JDK
     * tool ({@code jps}, {@code jcmd}, {@code jshell}, ...) that picked the agent up from {@code JAVA_TOOL_OPTIONS}.
     * The source launcher ({@code java Train.java}) runs a program, so it is no tool.
     */
    public static boolean isTool(String javaCommand, String agentJar) {
        String main = launchedMainClass(javaCommand, agentJar);
        if (main == null) {
            return false;
        }
        if (main.startsWith("com.sun.tools.javac.launcher.")) {
            return false;
        }
        return main.startsWith("jdk.") || main.startsWith("sun.") || main.startsWith("com.sun.")
                || isPauserCommandLine(main);
    }

    /** The command line's main class, or its launcher's (a copy of pauser.jar under another name). */
    private static boolean isPauserCommandLine(String main) {
        return main.startsWith("dev.pauser.cli.") || main.startsWith("dev.pauser.launch.");
    }

    /** The main class named by {@code sun.java.command}; {@code dev.pauser.cli.} for pauser.jar itself; or null. */
    private static String launchedMainClass(String javaCommand, String agentJar) {
        if (javaCommand == null || javaCommand.isBlank()) {
            return null;
        }
        String first = javaCommand.trim().split("\\s+", 2)[0];
        if (first.endsWith(".jar")) {
            if (new File(first).getAbsoluteFile().equals(new File(agentJar).getAbsoluteFile())) {
                return "dev.pauser.cli.";
            }
            return jarMainClass(first);
        }
        if (first.contains("/")) {
            return first.substring(first.indexOf('/') + 1); // -m module/class
        }
        return first;
    }

    private static String jarMainClass(String jar) {
        try (JarFile file = new JarFile(jar)) {
            Manifest manifest = file.getManifest();
            return manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    /** Whether a class of that name was loaded: the launcher found the main class and ran it. */
    private static boolean loaded(Instrumentation inst, String className) {
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.getName().equals(className)) {
                return true;
            }
        }
        return false;
    }
}
