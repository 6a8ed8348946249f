package dev.pauser.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's path from "Getting it" to "Using it in a program", with nothing built but the user's program: unpack
 * the built archive, compile the README's own program against the annotations jar of the distribution, run it under
 * {@code -javaagent:pauser.jar} alone (no Pauser jar on its class path), pause, inspect and resume it with
 * {@code bin/pauser}, kill it, start it again and see it continue from the checkpoint to the result of a run that was
 * never interrupted.
 */
class DistributionIT {
    private static final Duration LONG = Duration.ofMinutes(2);

    @TempDir
    Path tmp;

    @Test
    void archiveHoldsTheAgentTheAnnotationsAndAnExecutableLauncher() throws Exception {
        Path dist = unpackTarGz();
        assertEquals(-1, Files.mismatch(dist.resolve("pauser.jar"), builtAgentJar()),
                "the archive's pauser.jar is not the built agent/target/pauser.jar");
        assertTrue(Files.isRegularFile(runtimeJar(dist)), "no " + runtimeJar(dist));
        assertTrue(Files.isRegularFile(dist.resolve("README.md")), "no README.md");
        assertTrue(Files.getPosixFilePermissions(dist.resolve("bin/pauser")).contains(PosixFilePermission.OWNER_EXECUTE),
                "bin/pauser is not executable after tar xzf");

        Path zip = Paths.get(System.getProperty("pauser.test.distZip"));
        Assumptions.assumeTrue(onPath("unzip"), "no unzip here to compare the zip with");
        Path fromZip = Files.createDirectories(tmp.resolve("zip"));
        assertEquals(0, run(List.of("unzip", "-q", zip.toString(), "-d", fromZip.toString()), Map.of(), tmp).exit);
        assertEquals(tree(dist), tree(fromZip.resolve(dist.getFileName())), "the zip and the tar.gz hold other files");
    }

    @Test
    void launcherFindsItsJarThroughLinksAndKeepsTheToolsOutputAndExitStatus() throws Exception {
        Path dist = unpackTarGz();
        Path links = Files.createDirectories(tmp.resolve("links"));
        Path link = Files.createSymbolicLink(links.resolve("pauser"), dist.resolve("bin/pauser"));
        Path linkToLink = Files.createSymbolicLink(Files.createDirectories(tmp.resolve("more")).resolve("pauser"),
                Paths.get("../links/pauser"));
        Map<String, String> jdk = Map.of("JAVA_HOME", javaHome().toString());

        for (Path launcher : List.of(link, linkToLink)) {
            Result version = run(List.of(launcher.toString(), "--version"), jdk, tmp);
            assertEquals(0, version.exit, launcher + " --version: " + version);
            assertTrue(version.out.contains(System.getProperty("pauser.test.version")), version.toString());
        }
        // a failing command: the same words and exit status as java -jar pauser.jar
        List<String> bad = List.of("status", "not-a-pid");
        Result viaLauncher = run(concat(List.of(link.toString()), bad), jdk, tmp);
        Result direct = run(concat(List.of(java("java"), "-jar", dist.resolve("pauser.jar").toString()), bad), Map.of(), tmp);
        assertTrue(direct.exit != 0, "java -jar pauser.jar status not-a-pid succeeded: " + direct);
        assertEquals(direct.exit, viaLauncher.exit, "exit status: launcher " + viaLauncher + "\ndirect " + direct);
        assertEquals(direct.err, viaLauncher.err);

        Result noJava = run(List.of(link.toString(), "--version"), Map.of("JAVA_HOME", tmp.resolve("no-jdk").toString()), tmp);
        assertEquals(1, noJava.exit, noJava.toString());
        assertTrue(noJava.err.startsWith("pauser: JAVA_HOME is ") && noJava.err.strip().lines().count() == 1,
                "not one line naming JAVA_HOME: " + noJava);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void readmeProgramPausesResumesAndContinuesFromItsCheckpointAfterAKill() throws Exception {
        Path dist = unpackTarGz();
        Path classes = compileReadmeProgram(dist);
        Path work = Files.createDirectories(tmp.resolve("run"));

        long pausedAt;
        String checkpoint;
        Path firstOut = tmp.resolve("first.out");
        Process first = startUnderAgent(dist, classes, work, firstOut, "1000000000");
        try {
            awaitOutput(first, firstOut, "starting at step 0");
            long pid = first.pid();
            awaitStatus(dist, pid, "\"step\":[1-9]", firstOut);

            Result pause = pauser(dist, work, "pause", Long.toString(pid), "--wait=2m");
            assertEquals(0, pause.exit, "pause --wait: " + pause);
            assertTrue(pause.out.contains("PAUSED"), "pause --wait: " + pause);

            Result status = pauser(dist, work, "status", Long.toString(pid), "--json");
            assertEquals(0, status.exit, "status: " + status);
            assertEquals("PAUSED", jsonString(status.out, "state"), status.out);
            pausedAt = jsonLong(status.out, "lastCheckpointStep");
            assertEquals(pausedAt, jsonLong(status.out, "step"), "the pause checkpoint is of the step paused at");
            checkpoint = Paths.get(jsonString(status.out, "lastCheckpointPath")).getFileName().toString();
            assertEquals(String.format("ckpt-%012d", pausedAt), checkpoint);

            Result resume = pauser(dist, work, "resume", Long.toString(pid), "--json");
            assertEquals(0, resume.exit, "resume: " + resume);
            assertEquals("RUNNING", jsonString(resume.out, "state"), resume.out);

            first.destroyForcibly();  // SIGKILL: no checkpoint at exit, only the pause's
            assertTrue(first.waitFor(LONG.toSeconds(), TimeUnit.SECONDS), "the killed run did not end");
        } finally {
            first.destroyForcibly();
        }

        long total = pausedAt + 300;
        Path againOut = tmp.resolve("again.out");
        Process again = startUnderAgent(dist, classes, work, againOut, Long.toString(total));
        try {
            assertTrue(again.waitFor(LONG.toSeconds(), TimeUnit.SECONDS), "the restarted run did not end: " + read(againOut));
            String out = read(againOut);
            assertEquals(0, again.exitValue(), out);
            assertTrue(out.contains("starting at step " + pausedAt + "\n"), "not resumed at step " + pausedAt + ":\n" + out);
            assertTrue(out.contains(checkpoint), "the restarted run does not name the checkpoint " + checkpoint + ":\n" + out);
            String finished = finishedLine(out);
            assertTrue(finished.startsWith("finished at step " + total + ","), out);

            // the same program without the agent, never interrupted, ends with the same weights
            Path plainWork = Files.createDirectories(tmp.resolve("plain"));
            Result plain = run(List.of(java("java"), "-cp", classes.toString(), mainClass(), Long.toString(total)),
                    Map.of(), plainWork);
            assertEquals(0, plain.exit, plain.toString());
            assertEquals(finished, finishedLine(plain.out), "the resumed run's weights differ from an uninterrupted run's");
            assertTrue(Files.notExists(plainWork.resolve("pauser")), "a run without the agent wrote checkpoints");
        } finally {
            again.destroyForcibly();
        }
    }

    // --- the distribution and the program

    private Path unpackTarGz() throws Exception {
        Path archive = Paths.get(System.getProperty("pauser.test.distArchive"));
        if (!Files.isRegularFile(archive)) {
            fail("no distribution at " + archive + "; run the tests with mvn verify, which builds it first");
        }
        Path into = Files.createDirectories(tmp.resolve("unpacked"));
        Result tar = run(List.of("tar", "xzf", archive.toString(), "-C", into.toString()), Map.of(), tmp);
        assertEquals(0, tar.exit, "tar: " + tar);
        Path dist = into.resolve("pauser-" + System.getProperty("pauser.test.version"));
        assertTrue(Files.isDirectory(dist), "the archive does not hold " + dist.getFileName());
        return dist;
    }

    private static Path builtAgentJar() {
        return Paths.get(System.getProperty("pauser.test.agentJar"));
    }

    private static Path runtimeJar(Path dist) {
        return dist.resolve("pauser-runtime-" + System.getProperty("pauser.test.version") + ".jar");
    }

    /** The Java block of the README's "Using it in a program", the program a user writes first. */
    static String readmeProgram() throws IOException {
        String readme = Files.readString(Paths.get(System.getProperty("pauser.test.readme")), StandardCharsets.UTF_8);
        int section = readme.indexOf("\n## Using it in a program\n");
        assertTrue(section >= 0, "README.md has no section 'Using it in a program'");
        int start = readme.indexOf("```java\n", section);
        assertTrue(start >= 0, "no ```java block in the README's 'Using it in a program'");
        start += "```java\n".length();
        return readme.substring(start, readme.indexOf("\n```", start) + 1);
    }

    private static String mainClass() throws IOException {
        Matcher m = Pattern.compile("public class (\\w+)").matcher(readmeProgram());
        assertTrue(m.find(), "the README's program has no public class");
        return m.group(1);
    }

    /** {@code javac -cp <dist>/pauser-runtime-<version>.jar -d classes Main.java}, as the README says. */
    private Path compileReadmeProgram(Path dist) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path file = src.resolve(mainClass() + ".java");
        Files.writeString(file, readmeProgram(), StandardCharsets.UTF_8);
        Path classes = tmp.resolve("classes");
        Result javac = run(List.of(java("javac"), "-cp", runtimeJar(dist).toString(), "-d", classes.toString(),
                file.toString()), Map.of(), src);
        assertEquals(0, javac.exit, "javac: " + javac);
        return classes;
    }

    /** {@code java -javaagent:<dist>/pauser.jar -cp classes Main <args>}: the program's class path holds its classes only. */
    private Process startUnderAgent(Path dist, Path classes, Path work, Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java("java"), "-javaagent:" + dist.resolve("pauser.jar"), "-cp",
                classes.toString(), mainClass()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("PAUSER_"));
        return pb.start();
    }

    private static String finishedLine(String out) {
        return out.lines().filter(l -> l.startsWith("finished at step ")).findFirst()
                .orElseGet(() -> fail("no 'finished at step' line:\n" + out));
    }

    // --- the launcher

    /** {@code <dist>/bin/pauser args}, with JAVA_HOME naming the JDK under test. */
    private Result pauser(Path dist, Path work, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/pauser").toString()));
        cmd.addAll(List.of(args));
        return run(cmd, Map.of("JAVA_HOME", javaHome().toString()), work);
    }

    /** Asks {@code pauser status --json} until its answer matches; the agent may not have registered yet at first. */
    private void awaitStatus(Path dist, long pid, String regex, Path programOut) throws Exception {
        long deadline = System.nanoTime() + LONG.toNanos();
        Result last;
        do {
            last = pauser(dist, tmp, "status", Long.toString(pid), "--json");
            if (last.exit == 0 && Pattern.compile(regex).matcher(last.out).find()) {
                return;
            }
        } while (System.nanoTime() < deadline);
        fail("pauser status never matched /" + regex + "/ within " + LONG + "; last: " + last + "\nthe program's output:\n"
                + read(programOut));
    }

    // --- processes

    static Path javaHome() {
        String home = System.getProperty("pauser.test.javaHome");
        Path dir = Paths.get(home == null || home.isBlank() ? System.getProperty("java.home") : home);
        Assumptions.assumeTrue(Files.isExecutable(dir.resolve("bin/javac")), "JDK under test not installed here: " + dir);
        return dir;
    }

    private static String java(String tool) {
        return javaHome().resolve("bin").resolve(tool).toString();
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    /** Runs a command to its end; stdout and stderr go to files, so neither pipe can fill up and block it. */
    private Result run(List<String> cmd, Map<String, String> env, Path workDir) throws Exception {
        Path out = Files.createTempFile(tmp, "cmd-", ".out");
        Path err = Files.createTempFile(tmp, "cmd-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("PAUSER_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " did not end within " + LONG + "; stdout:\n" + read(out) + "\nstderr:\n" + read(err));
        }
        Result r = new Result(p.exitValue(), read(out), read(err));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    private static void awaitOutput(Process p, Path out, String text) throws Exception {
        long deadline = System.nanoTime() + LONG.toNanos();
        while (!read(out).contains(text)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                fail("no '" + text + "' (alive=" + p.isAlive() + ") within " + LONG + "; output:\n" + read(out));
            }
            p.waitFor(100, TimeUnit.MILLISECONDS);  // polls the output file; returns early if the program ends
        }
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    private static boolean onPath(String command) {
        return Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Paths.get(d, command)));
    }

    /** Relative path to size and executable bit of every file under {@code root}. */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path f : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                files.put(root.relativize(f).toString(), Files.size(f) + (Files.isExecutable(f) ? " x" : ""));
            }
        }
        return files;
    }

    // --- the few fields of pauser's --json output this test reads

    private static String jsonString(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        assertTrue(m.find(), "no \"" + key + "\" in " + json);
        return m.group(1);
    }

    private static long jsonLong(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?\\d+)").matcher(json);
        assertTrue(m.find(), "no \"" + key + "\" in " + json);
        return Long.parseLong(m.group(1));
    }
}
