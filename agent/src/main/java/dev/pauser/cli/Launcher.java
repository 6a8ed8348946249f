package dev.pauser.cli;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLClassLoader;

/**
 * The manifest's {@code Main-Class}: runs {@link PauserCli} in the command's own JVM, on the main thread.
 *
 * <p>Why a class of its own: where the JVM also runs the agent from this jar ({@code -javaagent:pauser.jar} in
 * {@code JAVA_TOOL_OPTIONS}, say), the jar is on the bootstrap class path too, the app loader finds every class here
 * there first, and the bootstrap loader can't see the Attach API ({@code jdk.attach} belongs to the app loader). Then
 * the command line is loaded again, from this jar, by a loader that looks at the jar before its parent for Pauser's own
 * classes and reaches everything else through the app loader.
 */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) throws Throwable {
        if (Launcher.class.getClassLoader() != null) {
            PauserCli.main(args);
            return;
        }
        URL jar = ownJar();
        ClassLoader loader = new JarFirstLoader(jar, ClassLoader.getSystemClassLoader());
        try {
            loader.loadClass(PauserCli.class.getName()).getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The jar this class came from: the bootstrap loader gives no code source, but its class file's jar: URL. */
    private static URL ownJar() throws IOException {
        URL self = Launcher.class.getResource(Launcher.class.getSimpleName() + ".class");
        if (self == null || !self.getProtocol().equals("jar")) {
            throw new IOException("pauser: cannot locate pauser.jar (this class came from " + self + ")");
        }
        return ((JarURLConnection) self.openConnection()).getJarFileURL();
    }

    /** Defines Pauser's classes (and the shaded libraries under dev.pauser) from the jar; delegates the rest. */
    private static final class JarFirstLoader extends URLClassLoader {
        static {
            registerAsParallelCapable();
        }

        JarFirstLoader(URL jar, ClassLoader parent) {
            super(new URL[] {jar}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("dev.pauser.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    c = findClass(name);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }

        @Override
        public URL getResource(String name) {
            URL own = findResource(name);
            return own != null ? own : super.getResource(name);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            try {
                URL url = getResource(name);
                return url == null ? null : url.openStream();
            } catch (IOException e) {
                return null;
            }
        }
    }
}
