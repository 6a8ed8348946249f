package dev.pauser.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pauser's loader reads classes and resources from the jar's {@code inst/} folder only (class files as
 * {@code .classdata}), asks its parent first, and gives its packages the manifest's implementation version.
 */
class PauserClassLoaderTest {
    private static final String PROBE = "dev/pauser/launch/LoaderProbe";

    @TempDir
    Path tmp;

    private Path jar;
    private byte[] probeBytes;

    @BeforeEach
    void buildJar() throws Exception {
        try (InputStream in = LoaderProbe.class.getResourceAsStream("LoaderProbe.class")) {
            probeBytes = in.readAllBytes();
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_TITLE, "Pauser");
        manifest.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, "9.8.7");
        jar = tmp.resolve("pauser with space.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            put(out, PauserClassLoader.PREFIX + PROBE + PauserClassLoader.CLASS_SUFFIX, probeBytes);
            put(out, PauserClassLoader.PREFIX + "META-INF/services/example.Service",
                    "example.Impl\n".getBytes(StandardCharsets.UTF_8));
            // at the usual place: what every other loader sees, and this one must not read
            put(out, "dev/pauser/launch/Outside.class", probeBytes);
        }
    }

    private static void put(JarOutputStream out, String name, byte[] bytes) throws Exception {
        out.putNextEntry(new JarEntry(name));
        out.write(bytes);
        out.closeEntry();
    }

    @Test
    void definesClassesStoredUnderTheFolderWithTheManifestsVersion() throws Exception {
        PauserClassLoader loader = new PauserClassLoader(jar.toFile(), ClassLoader.getPlatformClassLoader());
        Class<?> probe = loader.loadClass("dev.pauser.launch.LoaderProbe");
        assertSame(loader, probe.getClassLoader());
        assertNotSame(LoaderProbe.class, probe);
        assertEquals("probe", probe.getConstructor().newInstance().toString());
        assertEquals("9.8.7", probe.getPackage().getImplementationVersion());
        assertEquals("Pauser", probe.getPackage().getImplementationTitle());
        assertEquals(jar.toUri().toURL(), probe.getProtectionDomain().getCodeSource().getLocation());
        assertSame(probe, loader.loadClass("dev.pauser.launch.LoaderProbe"), "defined once");
    }

    @Test
    void servesClassFilesAndResourcesUnderTheirUsualNames() throws Exception {
        PauserClassLoader loader = new PauserClassLoader(jar.toFile(), ClassLoader.getPlatformClassLoader());
        URL classFile = loader.getResource(PROBE + ".class");
        assertTrue(classFile.toString().endsWith("!/inst/" + PROBE + ".classdata"), classFile.toString());
        try (InputStream in = classFile.openStream()) {
            assertArrayEquals(probeBytes, in.readAllBytes());
        }
        try (InputStream in = loader.getResourceAsStream("META-INF/services/example.Service")) {
            assertEquals("example.Impl\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertEquals(1, Collections.list(loader.getResources("META-INF/services/example.Service")).size());
        assertNull(loader.getResource("../" + PROBE + ".class"));
        assertNull(loader.getResource("/" + PROBE + ".class"));
        assertNull(loader.getResource("inst/" + PROBE + ".classdata"), "names are the usual ones, not the stored ones");
    }

    @Test
    void readsNothingOutsideTheFolderAndAsksItsParentFirst() throws Exception {
        PauserClassLoader loader = new PauserClassLoader(jar.toFile(), ClassLoader.getPlatformClassLoader());
        assertThrows(ClassNotFoundException.class, () -> loader.loadClass("dev.pauser.launch.Outside"));
        assertThrows(ClassNotFoundException.class, () -> loader.loadClass("dev.pauser.launch.Missing"));
        assertSame(String.class, loader.loadClass("java.lang.String"));

        // With the test's own loader as parent, the parent's copy wins: nothing of the jar shadows it.
        PauserClassLoader child = new PauserClassLoader(jar.toFile(), LoaderProbe.class.getClassLoader());
        assertSame(LoaderProbe.class, child.loadClass("dev.pauser.launch.LoaderProbe"));
    }

    @Test
    void aJarThatCannotBeReadIsNamedInTheError() {
        Path missing = tmp.resolve("gone.jar");
        Exception e = assertThrows(java.io.UncheckedIOException.class,
                () -> new PauserClassLoader(missing.toFile(), ClassLoader.getPlatformClassLoader()));
        assertTrue(e.getMessage().contains("gone.jar"), e.getMessage());
    }
}
