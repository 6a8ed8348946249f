package dev.pauser.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.JarURLConnection;
import java.net.URL;
import java.security.CodeSource;
import java.util.jar.JarFile;

/**
 * The agent's entry point ({@code Premain-Class} and {@code Agent-Class}). It only makes sure {@code pauser.jar} is on
 * the bootstrap class path and hands over to {@link AgentStarter}, loaded from there.
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
        // Usually there already: the manifest's Boot-Class-Path appends the jar before the JVM starts, which keeps
        // class-data sharing on. Appending it now, in a running JVM (a late attach, or a jar renamed so that the
        // manifest's entry names no file), makes the JVM print "Sharing is only supported for boot loader classes
        // because bootstrap classpath has been appended": harmless, and nothing an agent can do at this point.
        boolean appendedNow = !alreadyOnBootstrapPath();
        if (appendedNow) {
            try {
                inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
            } catch (Exception e) {
                throw new IllegalStateException("pauser: cannot put " + jar + " on the bootstrap class path: " + e, e);
            }
        }
        try {
            // Loaded through the bootstrap loader (null) explicitly, never through this class's own loader.
            Class<?> starter = Class.forName("dev.pauser.agent.AgentStarter", true, null);
            starter.getMethod("start", String.class, Instrumentation.class, boolean.class, String.class, boolean.class)
                    .invoke(null, args, inst, lateAttach, jar.getPath(), appendedNow);
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

    /**
     * The agent jar. Defined by the app loader (a renamed jar, a late attach), this class knows its code source; defined
     * by the bootstrap loader (the manifest's {@code Boot-Class-Path} put the jar there before the JVM started), it has
     * none, and its own class file's {@code jar:} URL names the jar.
     */
    private static File agentJar() {
        try {
            CodeSource source = PauserAgent.class.getProtectionDomain().getCodeSource();
            if (source != null && source.getLocation() != null) {
                return new File(source.getLocation().toURI());
            }
            URL self = PauserAgent.class.getResource(PauserAgent.class.getSimpleName() + ".class");
            if (self == null || !self.getProtocol().equals("jar")) {
                throw new IllegalStateException("this class was not loaded from a jar (" + self + ")");
            }
            return new File(((JarURLConnection) self.openConnection()).getJarFileURL().toURI());
        } catch (Exception e) {
            throw new IllegalStateException("pauser: cannot locate pauser.jar: " + e, e);
        }
    }
}
