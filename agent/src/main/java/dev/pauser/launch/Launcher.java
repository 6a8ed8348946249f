package dev.pauser.launch;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.net.JarURLConnection;
import java.net.URL;

/**
 * The manifest's {@code Main-Class}: runs the command line ({@code dev.pauser.cli.PauserCli}) in the command's own JVM,
 * on the main thread, loaded by {@link PauserClassLoader} with the system loader as parent, which sees the Attach API
 * ({@code jdk.attach} belongs to the app loader, not to bootstrap).
 *
 * <p>This class may be defined by the app loader ({@code java -jar pauser.jar}) or, where the JVM also runs the agent
 * from this jar ({@code -javaagent:pauser.jar} in {@code JAVA_TOOL_OPTIONS}, say), by the bootstrap loader; either way
 * the command line's classes are only in Pauser's own loader.
 */
public final class Launcher {
    private static final String CLI = "dev.pauser.cli.PauserCli";

    private Launcher() {
    }

    public static void main(String[] args) throws Throwable {
        ClassLoader loader = new PauserClassLoader(ownJar(), ClassLoader.getSystemClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        try {
            Class.forName(CLI, true, loader).getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The jar this class came from: its class file's jar: URL names it, whichever loader defined it. */
    private static File ownJar() throws Exception {
        URL self = Launcher.class.getResource(Launcher.class.getSimpleName() + ".class");
        if (self == null || !self.getProtocol().equals("jar")) {
            throw new IllegalStateException("pauser: cannot locate pauser.jar (this class came from " + self + ")");
        }
        return new File(((JarURLConnection) self.openConnection()).getJarFileURL().toURI());
    }
}
