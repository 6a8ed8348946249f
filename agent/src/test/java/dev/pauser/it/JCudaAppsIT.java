package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.device.DeviceMemories;
import dev.pauser.fixture.CudaLazyTrainer;
import dev.pauser.fixture.DeviceProbeMain;
import dev.pauser.fixture.TinyStateTrainer;
import dev.pauser.testkit.ChildJvmProcess;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an app sees of Pauser's GPU support when it has no GPU: an app without JCuda, or with JCuda but no device
 * field, sees nothing of it (no line, the driver never started); an app whose JCuda can't reach a CUDA driver is told
 * why in one line. The reason is checked at {@link DeviceMemories#forLoader} in a child JVM whose class path holds
 * JCuda, as an app's would (no driver at all; a driver that finds no device).
 */
class JCudaAppsIT {
    /** A line about GPUs, CUDA or JCuda, in any case. */
    private static final Pattern GPU_WORDS = Pattern.compile("(?i).*(jcuda|cuda|gpu).*");
    private static final String NO_DRIVER = "libcuda.so.1 is not installed (no NVIDIA driver)";

    @TempDir
    Path dir;

    @TempDir
    Path work;

    @Test
    void anAppWithoutJCudaMeetsNoGpuLine() throws Exception {
        try (ChildJvm run = Checkpoints.builder(dir, "every=1").main(TinyStateTrainer.class, "5", "0").start()) {
            assertEquals(0, run.awaitExit(Duration.ofSeconds(120)), run.output());
            assertNoGpuLine(run.output());
        }
        assertFalse(Checkpoints.steps(dir).isEmpty(), "the run's state was checkpointed");
    }

    @Test
    void anAppWithJCudaButNoDeviceFieldNeverStartsTheDriver() throws Exception {
        // JCuda unpacks its driver library into java.io.tmpdir when JCudaDriver initializes: a fresh tmpdir shows it.
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        try (ChildJvm run = Checkpoints.builder(dir, "every=1").jvmArg("-Djava.io.tmpdir=" + tmp)
                .main(withJCuda(ChildJvm.fixtureClassPath()), TinyStateTrainer.class.getName(), "5", "0").start()) {
            assertEquals(0, run.awaitExit(Duration.ofSeconds(120)), run.output());
            assertNoGpuLine(run.output());
        }
        assertFalse(Checkpoints.steps(dir).isEmpty(), "the run's state was checkpointed");
        try (Stream<Path> files = Files.walk(tmp)) {
            List<String> driver = files.map(Path::toString).filter(f -> f.contains("JCudaDriver"))
                    .collect(Collectors.toList());
            assertEquals(List.of(), driver, "JCuda's driver library was loaded");
        }
    }

    @Test
    void withoutJCudaThereIsNoDeviceMemory() throws Exception {
        assertEquals(List.of("none", "none"), probe(probeClassPath(), null));
    }

    @Test
    void withJCudaButNoDriverTheReasonIsTheMissingDriver() throws Exception {
        Assumptions.assumeFalse(driverInstalled(), "this machine has libcuda.so.1: an NVIDIA driver is installed");
        // Twice: the answer holds for every later field (the driver is asked once per copy of JCuda).
        assertEquals(List.of("reason: " + NO_DRIVER, "reason: " + NO_DRIVER),
                probe(withJCuda(probeClassPath()), null));
    }

    /**
     * A driver that loads but finds no device, as in a container that has the NVIDIA libraries but was given no GPU:
     * the test builds a {@code libcuda.so.1} of its own whose {@code cuInit} answers {@code CUDA_ERROR_NO_DEVICE}
     * (100), the driver's answer there, and puts it first on the library path.
     */
    @Test
    void withADriverThatFindsNoDeviceTheReasonIsNoDevice() throws Exception {
        Path lib = Files.createDirectories(work.resolve("driver"));
        Path source = Files.writeString(lib.resolve("cuda.c"),
                "int cuInit(unsigned int flags) { return 100; /* CUDA_ERROR_NO_DEVICE */ }\n");
        Assumptions.assumeTrue(compiles(List.of("gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o",
                lib.resolve("libcuda.so.1").toString(), source.toString())), "no gcc to build the driver library");
        String reason = "reason: no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)";
        assertEquals(List.of(reason, reason), probe(withJCuda(probeClassPath()), lib));
    }

    @Test
    void withJCudasClassesButNotItsNativesTheReasonNamesTheMissingJar() throws Exception {
        // A fresh tmpdir: JCuda would load a copy of its library unpacked there by an earlier run.
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        String classesOnly = String.join(File.pathSeparator, probeClassPath(),
                ChildJvmProcess.codeSource(jcuda.driver.CUdeviceptr.class));
        String reason = "reason: JCuda's native libraries for this platform are not on the class path (add"
                + " org.jcuda:jcuda-natives with the classifier linux-x86_64)";
        assertEquals(List.of(reason, reason), probe(classesOnly, null, "-Djava.io.tmpdir=" + tmp));
    }

    /**
     * The whole path for an app with JCuda on a machine without a driver: the trainer holds a {@code CUdeviceptr} it
     * allocates in its first step; Pauser meets the field before that step and stops the run with one line naming the
     * field and the reason, exit status 2, before the step's JCuda calls fail with a stack trace.
     */
    @Test
    void aDeviceFieldWithoutADriverIsOneLineNamingTheFieldAndTheReason() throws Exception {
        Assumptions.assumeFalse(driverInstalled(), "this machine has libcuda.so.1: an NVIDIA driver is installed");
        try (ChildJvm run = Checkpoints.builder(dir, "every=1")
                .main(withJCuda(ChildJvm.fixtureClassPath()), CudaLazyTrainer.class.getName(), "5").start()) {
            assertEquals(2, run.awaitExit(Duration.ofSeconds(120)), run.output());
            String out = run.output();
            // the trainer's own name says Cuda: only what else a line says counts
            List<String> gpuLines = out.lines()
                    .filter(l -> GPU_WORDS.matcher(l.replace(CudaLazyTrainer.class.getName(), "")).matches())
                    .filter(l -> !nativeAccessNotice(l)).collect(Collectors.toList());
            assertEquals(1, gpuLines.size(), out);
            String line = gpuLines.get(0);
            assertTrue(line.startsWith("pauser: the @TrainState field ") && line.contains("weights")
                    && line.contains(CudaLazyTrainer.class.getName()) && line.contains(" holds GPU memory")
                    && line.endsWith(", but the CUDA driver can't be used in this JVM: " + NO_DRIVER), line);
            assertTrue(out.contains("ready"), out);
            assertFalse(out.contains("trained"), "the run went on:\n" + out);
            assertFalse(out.contains("Exception") || out.contains("\tat "), "a stack trace:\n" + out);
        }
    }

    /**
     * JDK 24 and later warn when a library in the class path loads native code (JCuda's {@code LibUtils} calling
     * {@code System.loadLibrary}), unless the program runs with {@code --enable-native-access=ALL-UNNAMED}: four
     * {@code WARNING:} lines and a blank one, on standard error, the same as when the program starts JCuda itself.
     */
    private static boolean nativeAccessNotice(String line) {
        String l = line.startsWith(ChildJvmProcess.STANDARD_ERROR_PREFIX)
                ? line.substring(ChildJvmProcess.STANDARD_ERROR_PREFIX.length()) : line;
        return l.isBlank() || l.startsWith("WARNING: ") && (l.contains("restricted method")
                || l.contains("has been called by jcuda.") || l.contains("--enable-native-access")
                || l.contains("Restricted methods will be blocked"));
    }

    private static void assertNoGpuLine(String output) {
        List<String> gpu = output.lines().filter(l -> GPU_WORDS.matcher(l).matches()).collect(Collectors.toList());
        assertEquals(List.of(), gpu, output);
    }

    /** Runs {@link DeviceProbeMain} without the agent; its answers. */
    private static List<String> probe(String classPath, Path libraryPath, String... jvmArgs) throws Exception {
        ChildJvm.Builder b = ChildJvm.builder().noAgent();
        for (String a : jvmArgs) {
            b.jvmArg(a);
        }
        if (libraryPath != null) {
            b.env("LD_LIBRARY_PATH", libraryPath.toString());
        }
        try (ChildJvm run = b.main(classPath, DeviceProbeMain.class.getName()).start()) {
            assertEquals(0, run.awaitExit(Duration.ofSeconds(120)), run.output());
            List<String> answers = run.stdout().stream().filter(l -> !nativeAccessNotice(l))
                    .collect(Collectors.toList());
            Assumptions.assumeFalse(answers.stream().anyMatch(a -> a.startsWith("device:")),
                    "a CUDA device is usable here: " + answers);
            return answers;
        }
    }

    /** The fixtures and the agent's compiled classes (where {@code DeviceMemories} is), no JCuda. */
    private static String probeClassPath() {
        return ChildJvmProcess.classPathOf(DeviceProbeMain.class, DeviceMemories.class);
    }

    /** {@code classPath} plus JCuda and its natives for this platform, as an app using JCuda has them. */
    private static String withJCuda(String classPath) throws IOException {
        return String.join(File.pathSeparator, classPath, ChildJvmProcess.codeSource(jcuda.driver.CUdeviceptr.class),
                jarHolding("lib/libJCudaDriver-12.0.0-linux-x86_64.so"));
    }

    /** The jar on this test's class path that holds {@code resource}. */
    private static String jarHolding(String resource) throws IOException {
        URL url = JCudaAppsIT.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException(resource + " is not on the test class path (org.jcuda:jcuda-natives)");
        }
        try {
            return Paths.get(((JarURLConnection) url.openConnection()).getJarFileURL().toURI()).toString();
        } catch (Exception e) {
            throw new IOException("cannot tell which jar holds " + url, e);
        }
    }

    /** Whether the dynamic linker finds the NVIDIA driver's {@code libcuda.so.1} on this machine. */
    private static boolean driverInstalled() throws Exception {
        String path = System.getenv("LD_LIBRARY_PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (!d.isEmpty() && Files.exists(Paths.get(d, "libcuda.so.1"))) {
                    return true;
                }
            }
        }
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
            if (Files.isExecutable(Paths.get(ldconfig))) {
                Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
                String out;
                try (InputStream in = p.getInputStream()) {
                    out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                p.waitFor(60, TimeUnit.SECONDS);
                return out.contains("libcuda.so.1 ");
            }
        }
        return false;
    }

    private static boolean compiles(List<String> command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
