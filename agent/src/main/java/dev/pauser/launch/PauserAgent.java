package dev.pauser.launch;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.JarURLConnection;
import java.net.URL;
import java.security.CodeSource;
import java.util.jar.JarFile;

/**
 * The agent's entry point ({@code Premain-Class} and {@code Agent-Class}). It makes sure {@code pauser.jar} is on the
 * bootstrap class path, creates Pauser's own class loader ({@link PauserClassLoader}, once per JVM) and hands over to
 * {@code dev.pauser.agent.AgentWiring}, loaded there. Runs on the thread that loads the agent: {@code main} before the
 * program's main, or the JVM's attach listener.
 *
 * <p>Why the bootstrap path: the advice pasted into {@code @TrainStep} methods calls {@code dev.pauser.gate.StepHooks},
 * and that call must resolve from whatever loader defined the trainer class (the app loader, a child
 * {@code URLClassLoader}, one whose parent is the bootstrap loader). Every such loader delegates to bootstrap, so the
 * gate lives there, once. Only the gate, the annotations and this package are on that path; the agent itself loads in
 * its own loader, whose classes no other loader can see. This class must not touch any other Pauser class before the
 * append: a copy defined by the app loader would be a second gate that instrumented code never calls.
 */
public final class PauserAgent {
    private static final String WIRING = "dev.pauser.agent.AgentWiring";

    /** Pauser's loader in this JVM; held by the bootstrap copy of this class, so a second load finds it. */
    private static PauserClassLoader agentLoader;

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
        if (PauserAgent.class.getClassLoader() == null) {
            startOnBootstrap(args, inst, lateAttach, jar, false);
            return;
        }
        // Defined by the app loader: the jar was renamed (the manifest's Boot-Class-Path names no file), or this class
        // was loaded by the app loader before an earlier load appended the jar. Appending it now, in a running JVM,
        // makes the JVM print "Sharing is only supported for boot loader classes because bootstrap classpath has been
        // appended": harmless, and nothing an agent can do at this point.
        boolean appendedNow = !onBootstrapPath();
        if (appendedNow) {
            try {
                inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
            } catch (Exception e) {
                throw new IllegalStateException("pauser: cannot put " + jar + " on the bootstrap class path: " + e, e);
            }
        }
        try {
            // The bootstrap copy of this class (loader null), never this one: it holds the one agent loader.
            Method onBootstrap = Class.forName(PauserAgent.class.getName(), true, null).getDeclaredMethod(
                    "startOnBootstrap", String.class, Instrumentation.class, boolean.class, File.class, boolean.class);
            onBootstrap.setAccessible(true);
            onBootstrap.invoke(null, args, inst, lateAttach, jar, appendedNow);
        } catch (InvocationTargetException e) {
            throw rethrow(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("pauser: the agent jar is incomplete: " + e, e);
        }
    }

    /**
     * In the bootstrap copy of this class: creates Pauser's loader once and starts the wiring in it (which refuses a
     * second start itself).
     *
     * @param appendedNow whether the jar was appended to the bootstrap path in the running JVM, rather than by the JVM
     *        from the manifest (the start line explains the JVM's class-data sharing notice then)
     */
    static void startOnBootstrap(String args, Instrumentation inst, boolean lateAttach, File jar, boolean appendedNow) {
        try {
            Class<?> wiring = Class.forName(WIRING, true, agentLoader(jar));
            wiring.getMethod("start", String.class, Instrumentation.class, boolean.class, String.class, boolean.class)
                    .invoke(null, args, inst, lateAttach, jar.getPath(), appendedNow);
        } catch (InvocationTargetException e) {
            throw rethrow(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("pauser: the agent jar is incomplete (rebuild it with mvn package): " + e, e);
        }
    }

    private static synchronized ClassLoader agentLoader(File jar) {
        if (agentLoader == null) {
            // The platform loader as parent: the JDK's modules and, through bootstrap, the gate; not the app's classes.
            agentLoader = new PauserClassLoader(jar, ClassLoader.getPlatformClassLoader());
        }
        return agentLoader;
    }

    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        throw new IllegalStateException(cause);
    }

    /** True when an earlier load of the agent (premain, then an attach) already appended the jar. */
    private static boolean onBootstrapPath() {
        try {
            Class.forName(PauserAgent.class.getName(), false, null);
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
