package dev.pauser.launch;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.security.CodeSource;
import java.security.SecureClassLoader;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.Enumeration;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Pauser's own class loader: defines the agent ({@code dev.pauser.agent.*}), the command line ({@code dev.pauser.cli.*})
 * and the shaded libraries ({@code dev.pauser.shaded.*}) from {@code pauser.jar}'s {@code inst/} folder, where the
 * build stores their class files as {@code .classdata} and their resources under the same prefix.
 *
 * <p>Why: {@code pauser.jar} is on the bootstrap class path (its {@code Boot-Class-Path}) and on the application's class
 * path (every {@code -javaagent} jar is), so any class file at its usual place in the jar is a class every loader in the
 * JVM can see. Only the gate, its hooks, the annotations and this package are stored that way; everything else is
 * reachable only through this loader, so an application can neither see Pauser's internals nor collide with them (its
 * own Jackson, ByteBuddy or picocli, of any version, stay its own).
 *
 * <p>Parent first: the parent answers for the JDK and for the bootstrap part of {@code pauser.jar} (the gate the
 * agent's listeners plug into), and cannot answer for anything stored under {@code inst/}. The agent's loader has the
 * platform loader as parent; the command line's has the system loader, which also sees {@code jdk.attach}. Classes
 * are defined with the jar as their code source, in packages carrying the manifest's implementation title and version.
 */
public final class PauserClassLoader extends SecureClassLoader {
    /** Where the build puts everything that is not on the bootstrap side. */
    static final String PREFIX = "inst/";
    /** The suffix of a class file stored under {@link #PREFIX}; not {@code .class}, so scanners skip them too. */
    static final String CLASS_SUFFIX = ".classdata";

    static {
        registerAsParallelCapable();
    }

    private final JarFile jar;
    private final String jarUrl;
    private final CodeSource codeSource;
    private final Attributes mainAttributes;

    /**
     * @param jarFile {@code pauser.jar}; kept open for the life of the loader (the JVM's)
     * @param parent the loader asked first (see the class comment)
     * @throws UncheckedIOException if the jar can't be opened or read
     */
    public PauserClassLoader(File jarFile, ClassLoader parent) {
        super("pauser", parent);
        try {
            this.jar = new JarFile(jarFile, false);
            URL url = jarFile.toURI().toURL();
            this.jarUrl = url.toString();
            this.codeSource = new CodeSource(url, (Certificate[]) null);
            Manifest manifest = jar.getManifest();
            this.mainAttributes = manifest == null ? new Attributes() : manifest.getMainAttributes();
        } catch (IOException e) {
            throw new UncheckedIOException("pauser: cannot read " + jarFile + ": " + e.getMessage(), e);
        }
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        JarEntry entry = jar.getJarEntry(PREFIX + name.replace('.', '/') + CLASS_SUFFIX);
        if (entry == null) {
            throw new ClassNotFoundException(name);
        }
        byte[] bytes;
        try (InputStream in = jar.getInputStream(entry)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new ClassNotFoundException(name + ": cannot read it from " + jar.getName() + ": " + e, e);
        }
        definePackageOf(name);
        return defineClass(name, bytes, 0, bytes.length, codeSource);
    }

    /** Packages carry the manifest's implementation title and version, which the agent reports as its own. */
    private void definePackageOf(String className) {
        int dot = className.lastIndexOf('.');
        if (dot < 0) {
            return;
        }
        String name = className.substring(0, dot);
        if (getDefinedPackage(name) != null) {
            return;
        }
        try {
            definePackage(name, null, null, null,
                    mainAttributes.getValue(Attributes.Name.IMPLEMENTATION_TITLE),
                    mainAttributes.getValue(Attributes.Name.IMPLEMENTATION_VERSION), null, null);
        } catch (IllegalArgumentException alreadyDefinedByAnotherThread) {
            // parallel capable: two classes of one package may be defined at once
        }
    }

    @Override
    protected URL findResource(String name) {
        String entryName = entryName(name);
        if (entryName == null || jar.getJarEntry(entryName) == null) {
            return null;
        }
        try {
            return new URI("jar:" + jarUrl + "!/" + entryName).toURL();
        } catch (URISyntaxException | MalformedURLException e) {
            return null;
        }
    }

    @Override
    protected Enumeration<URL> findResources(String name) {
        URL url = findResource(name);
        return url == null ? Collections.emptyEnumeration() : Collections.enumeration(Collections.singletonList(url));
    }

    /** A resource's name in the jar: class files as stored, everything else under the prefix; null for odd names. */
    private static String entryName(String resource) {
        if (resource.isEmpty() || resource.startsWith("/") || resource.contains("..")) {
            return null;
        }
        if (resource.endsWith(".class")) {
            return PREFIX + resource.substring(0, resource.length() - ".class".length()) + CLASS_SUFFIX;
        }
        return PREFIX + resource;
    }
}
