package dev.pauser.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.util.jar.JarFile;

/**
 * The agent's entry point ({@code Premain-Class} and {@code Agent-Class}). It only puts {@code pauser.jar} on the
 * bootstrap class path and hands over to {@link AgentStarter}, loaded from there.
 *
 * <p>Why: the advice pasted into {@code @TrainStep} methods calls {@code dev.pauser.boot.StepHooks}, and that call must
 * resolve from whatever loader defined the trainer class (the app loader, a child {@code URLClassLoader}, one whose
 * parent is the bootstrap loader). Every such loader delegates to bootstrap, so there lives the one and only copy of the
 * agent: every loader asking for an agent class finds the bootstrap one first. This class must therefore not touch any
 * other agent class before the append: the app loader would define a second copy of it (a second pause gate).
 */
public final class PauserAgent {
    private PauserAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static void start(String args, Instrumentation inst, boolean lateAttach) {
        File jar = agentJar();
        if (!alreadyOnBootstrapPath()) {
            try {
                inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
            } catch (Exception e) {
                throw new IllegalStateException("pauser: cannot put " + jar + " on the bootstrap class path: " + e, e);
            }
        }
        try {
            // Loaded through the bootstrap loader (null) explicitly, never through this class's own loader.
            Class<?> starter = Class.forName("dev.pauser.agent.AgentStarter", true, null);
            starter.getMethod("start", String.class, Instrumentation.class, boolean.class, String.class)
                    .invoke(null, args, inst, lateAttach, jar.getPath());
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IllegalStateException(cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("pauser: the agent jar is incomplete: " + e, e);
        }
    }

    /** True when an earlier load of the agent (premain, then an attach) already appended the jar. */
    private static boolean alreadyOnBootstrapPath() {
        try {
            Class.forName("dev.pauser.agent.AgentStarter", false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static File agentJar() {
        try {
            return new File(PauserAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new IllegalStateException("pauser: cannot locate pauser.jar: " + e, e);
        }
    }
}
