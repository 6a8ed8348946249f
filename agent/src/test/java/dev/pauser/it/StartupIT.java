package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.FreshLoaderMain;
import dev.pauser.fixture.MBeanAtMainProbe;
import dev.pauser.fixture.Trainer;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user meets at start-up. A program compiled against pauser-runtime but run without it on its class path is
 * instrumented all the same (pauser.jar provides the annotations and the codec SPI), in a fresh class loader too, after
 * a late attach, and with the agent jar renamed;
 * the agent says how many step methods it instrumented when the first one runs, and warns at exit when none ran; its
 * lines are one line each, the start line before the resume line, and the JVM prints neither a class-data sharing
 * notice nor {@code sun.misc.Unsafe} warnings because of it (on JDK 24+ the latter would name the shaded ByteBuddy).
 * {@code Step} counts calls of outermost steps made while the agent is loaded: a final call that returns without
 * training is one, and steps run before a late attach are not.
 */
class StartupIT {
    /** The trainer, compiled here against pauser-runtime and run with class paths that leave it out. */
    @TempDir
    static Path classes;

    @TempDir
    Path tmp;

    @BeforeAll
    static void compileTrainer() throws Exception {
        Path src = classes.resolve("src/gen/Counted.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, String.join("\n",
                "package gen;",
                "import dev.pauser.TrainState;",
                "import dev.pauser.TrainStep;",
                "import java.lang.annotation.Annotation;",
                "import java.nio.file.Files;",
                "import java.nio.file.Paths;",
                "/** Args: total steps, loop (exact: while (step < total) step(); or call: while (step()) {}),",
                "    steps to run before waiting for a file (-1: none), that file. */",
                "public final class Counted {",
                "    @TrainState long step;",
                "    final long total;",
                "    Counted(long total) { this.total = total; }",
                "    @TrainStep boolean step() {",
                "        if (step >= total) { return false; }",
                "        step++;",
                "        return true;",
                "    }",
                "    public static void main(String[] args) throws Exception {",
                "        Counted c = new Counted(Long.parseLong(args[0]));",
                "        boolean exact = args[1].equals(\"exact\");",
                "        long waitAfter = Long.parseLong(args[2]);",
                "        if (waitAfter >= 0) {",
                "            while (c.step < waitAfter) { c.step(); }",
                "            System.out.println(\"waiting at step=\" + c.step);",
                "            while (!Files.exists(Paths.get(args[3]))) { Thread.sleep(20); }",
                "        }",
                "        if (exact) { while (c.step < c.total) { c.step(); } } else { while (c.step()) { } }",
                "        Annotation[] found = Counted.class.getDeclaredMethod(\"step\").getAnnotations();",
                "        System.out.println(\"result step=\" + c.step + \" annotations=\" + found.length + \" loader=\"",
                "                + (found.length == 0 ? \"none\" : String.valueOf(found[0].annotationType().getClassLoader())));",
                "    }",
                "}"));
        // A trainer whose state needs its own StateCodec, found through META-INF/services
        Path coded = classes.resolve("src/gen/Coded.java");
        Files.writeString(coded, String.join("\n",
                "package gen;",
                "import dev.pauser.TrainState;",
                "import dev.pauser.TrainStep;",
                "import dev.pauser.spi.StateCodec;",
                "import java.nio.ByteBuffer;",
                "import java.nio.ByteOrder;",
                "/** Args: total steps. Each step doubles the value, kept in a type only its codec can store. */",
                "public final class Coded {",
                "    public static final class Value { final double x; Value(double x) { this.x = x; } }",
                "    public static final class ValueCodec implements StateCodec {",
                "        public boolean handles(Class<?> type) { return type == Value.class; }",
                "        public String dtype() { return \"F64\"; }",
                "        public ByteBuffer encode(Object v) {",
                "            return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(((Value) v).x).flip();",
                "        }",
                "        public Object decode(ByteBuffer data, Object current, Class<?> type) {",
                "            return new Value(data.order(ByteOrder.LITTLE_ENDIAN).getDouble());",
                "        }",
                "    }",
                "    @TrainState long step;",
                "    @TrainState Value value = new Value(1);",
                "    @TrainStep void step() { step++; value = new Value(value.x * 2); }",
                "    public static void main(String[] args) {",
                "        Coded c = new Coded();",
                "        long total = Long.parseLong(args[0]);",
                "        while (c.step < total) { c.step(); }",
                "        System.out.println(\"result step=\" + c.step + \" value=\" + c.value.x);",
                "    }",
                "}"));
        Path services = classes.resolve("out/META-INF/services/dev.pauser.spi.StateCodec");
        Files.createDirectories(services.getParent());
        Files.writeString(services, "gen.Coded$ValueCodec\n");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "--release", "17", "-d", classes.resolve("out").toString(), "-cp",
                ChildJvm.codeSource(dev.pauser.TrainStep.class), src.toString(), coded.toString());
        assertEquals(0, rc, "compiling " + src + " and " + coded);
    }

    private static String trainerOnly() {
        return classes.resolve("out").toString();
    }

    private static String trainerAndRuntime() {
        return trainerOnly() + File.pathSeparator + ChildJvm.codeSource(dev.pauser.TrainStep.class);
    }

    private ChildJvm counted(Path dir, String classPath, String... args) throws Exception {
        ChildJvm.Builder b = ChildJvm.builder().agent("dir=" + dir).jvmArg("-cp").jvmArg(classPath).jvmArg("gen.Counted");
        for (String a : args) {
            b.jvmArg(a);
        }
        return b.start();
    }

    private static String finish(ChildJvm child) throws InterruptedException {
        assertEquals(0, child.awaitExit(Duration.ofSeconds(120)), child.output());
        return child.output();
    }

    /**
     * Without the cluster option nothing of the bundled ZooKeeper client, Curator, Guava or Netty is loaded: a program
     * training alone pays neither their start-up nor their threads.
     */
    @Test
    void withoutAJobNoCoordinationLibraryLoads() throws Exception {
        Path dir = tmp.resolve("run");
        String out;
        try (ChildJvm run = ChildJvm.builder().agent("dir=" + dir).jvmArg("-Xlog:class+load=info")
                .jvmArg("-cp").jvmArg(trainerOnly()).jvmArg("gen.Counted").jvmArg("5").jvmArg("exact").jvmArg("-1")
                .jvmArg("").start()) {
            out = finish(run);
        }
        assertTrue(out.contains("dev.pauser.agent.AgentWiring"), "class loading is logged:\n" + out);
        assertTrue(out.contains("result step=5 "), out);
        List<String> loaded = out.lines().filter(l -> l.matches(".*dev\\.pauser\\.(shaded\\.(zookeeper|curator|jute|google"
                + "|netty|slf4j)|agent\\.cluster)\\..*")).collect(Collectors.toList());
        assertEquals(List.of(), loaded, "loaded without cluster=");
    }

    /**
     * The agent registers its MBean beside the program's main; a program that looks for it at once (or a JMX client
     * that connects at once) must find it all the same, with the start-up phases logged at debug.
     */
    @Test
    void theMBeanIsInThePlatformServerForAProgramThatLooksAtOnce() throws Exception {
        String out;
        try (ChildJvm run = ChildJvm.builder().agent("dir=" + tmp.resolve("run") + ",log=debug")
                .main(MBeanAtMainProbe.class).start()) {
            out = finish(run);
        }
        assertTrue(out.lines().anyMatch(l -> l.equals("mbean-at-main=true")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches(
                "pauser: DEBUG: start-up: JMX MBean took [0-9.]+ ms on pauser-start, done at [0-9.]+ ms")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches(
                "pauser: DEBUG: start-up: instrumentation took [0-9.]+ ms on pauser-instrument, done at [0-9.]+ ms")),
                out);
        // the made-up class of the warm-up (when it was done before the exit) is no class of the program's
        assertFalse(out.contains("pauser.warmup"), out);
        assertCleanOutput(out);
    }

    @Test
    void aProgramWithoutPauserRuntimeOnItsClassPathIsInstrumentedAndResumed() throws Exception {
        Path dir = tmp.resolve("run");
        String out;
        try (ChildJvm run = counted(dir, trainerOnly(), "5", "exact", "-1", "")) {
            out = finish(run);
        }
        assertTrue(out.contains("result step=5 annotations=1 loader=null"),
                "the step method's annotation must resolve, to pauser.jar's copy on the bootstrap path:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.equals("pauser: instrumented 1 @TrainStep method in gen.Counted")), out);
        assertEquals(List.of(5L), Checkpoints.steps(dir), "the exit checkpoint, at step 5:\n" + out);
        assertCleanOutput(out);
        assertBefore(out, "pauser: agent ", "pauser: instrumented ");

        try (ChildJvm again = counted(dir, trainerOnly(), "5", "exact", "-1", "")) {
            out = finish(again);
        }
        assertTrue(out.contains("result step=5 "), out);
        assertEquals(5, Checkpoints.resumedStep(out), out);
        assertBefore(out, "pauser: agent ", "pauser: resuming from ");
        assertFalse(out.contains("no @TrainStep method ran"), "the resumed run restored its state at construction "
                + "and rightly ran no step; the agent was used:\n" + out);
        assertCleanOutput(out);
    }

    @Test
    void anAppsStateCodecWorksWithoutPauserRuntimeOnTheClassPath() throws Exception {
        Path dir = tmp.resolve("run");
        try (ChildJvm first = ChildJvm.builder().agent("dir=" + dir).jvmArg("-cp").jvmArg(trainerOnly())
                .jvmArg("gen.Coded").jvmArg("3").start()) {
            String out = finish(first);
            assertTrue(out.contains("result step=3 value=8.0"), out);
        }
        assertEquals(List.of(3L), Checkpoints.steps(dir));
        try (ChildJvm second = ChildJvm.builder().agent("dir=" + dir).jvmArg("-cp").jvmArg(trainerOnly())
                .jvmArg("gen.Coded").jvmArg("5").start()) {
            String out = finish(second);
            assertEquals(3, Checkpoints.resumedStep(out), out);
            // restored through the app's codec: 8 doubled twice; a fresh value would have ended at 4
            assertTrue(out.contains("result step=5 value=32.0"), out);
        }
    }

    @Test
    void withPauserRuntimeOnTheClassPathTooTheAnnotationsAreOneTypeFromTheBootstrapPath() throws Exception {
        Path dir = tmp.resolve("run");
        try (ChildJvm run = counted(dir, trainerAndRuntime(), "4", "exact", "-1", "")) {
            String out = finish(run);
            assertTrue(out.contains("result step=4 annotations=1 loader=null"), out);
            assertTrue(out.lines().anyMatch(l -> l.equals("pauser: instrumented 1 @TrainStep method in gen.Counted")),
                    out);
            assertEquals(List.of(4L), Checkpoints.steps(dir), out);
            assertCleanOutput(out);
        }
    }

    @Test
    void aRenamedAgentJarStillWorksAndItsDebugStartLineExplainsTheJvmsSharingNotice() throws Exception {
        // The manifest's Boot-Class-Path names pauser.jar: under another name the agent appends itself while the JVM
        // runs, as on a late attach.
        Path renamed = Files.copy(ChildJvm.agentJar(), tmp.resolve("pauser-renamed.jar"));
        Path dir = tmp.resolve("run");
        List<String> cmd = List.of(ChildJvm.javaExecutable().toString(),
                "-javaagent:" + renamed + "=dir=" + dir + ",log=debug", "-cp", trainerOnly(), "gen.Counted", "3",
                "exact", "-1", "");
        CliIT.Result run = CliIT.run(cmd, Duration.ofSeconds(120));
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().contains("result step=3 annotations=1 loader=null"), run.toString());
        String start = run.err().lines().filter(l -> l.startsWith("pauser: agent ")).findFirst().orElse("");
        assertTrue(start.contains("pauser.jar was put on the bootstrap class path of the running JVM"), run.toString());
        assertEquals(List.of(3L), Checkpoints.steps(dir), run.toString());
    }

    @Test
    void aTrainerInAFreshLoaderWithoutTheRuntimeIsInstrumented() throws Exception {
        Path dir = tmp.resolve("run");
        String testClasses = ChildJvm.codeSource(StartupIT.class); // the fixtures, without pauser-runtime
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir).jvmArg("-cp").jvmArg(testClasses)
                .jvmArg(FreshLoaderMain.class.getName()).jvmArg(testClasses).jvmArg("3").jvmArg("1").start()) {
            String out = finish(child);
            assertTrue(out.contains("trainer-loader=java.net.URLClassLoader"), out);
            // Printed at the first step, so the fresh loader's Trainer reached the agent's hooks. Trainer declares two
            // steps, step() and the nested batch(); the app loader defined a Trainer of its own too (FreshLoaderMain
            // names the class), which never runs a step.
            String line = out.lines().filter(l -> l.startsWith("pauser: instrumented ")).findFirst().orElse("");
            assertTrue(line.contains(Trainer.class.getName() + " (2)"), out);
        }
    }

    @Test
    void aLateAttachWithoutTheRuntimeInstrumentsAndCountsOnlyTheStepsAfterIt() throws Exception {
        Path dir = tmp.resolve("run");
        Path go = tmp.resolve("go");
        try (ChildJvm child = ChildJvm.builder().noAgent().jvmArg("-cp").jvmArg(trainerOnly()).jvmArg("gen.Counted")
                .jvmArg("8").jvmArg("exact").jvmArg("3").jvmArg(go.toString()).start()) {
            child.awaitLine("^waiting at step=3$", Duration.ofSeconds(60));
            CliIT.Result attached = CliIT.pauser("attach", Long.toString(child.pid()), "dir=" + dir);
            assertEquals(0, attached.exit(), attached.toString());
            Files.createFile(go);
            String out = finish(child);
            assertTrue(out.contains("result step=8 annotations=1"), out);
            assertTrue(out.lines().anyMatch(l -> l.equals("pauser: instrumented 1 @TrainStep method in gen.Counted")),
                    out);
            // Step counts the five steps run under the agent; the three before the attach are not counted.
            assertEquals(List.of(5L), Checkpoints.steps(dir), out);
        }
    }

    @Test
    void aFinalCallThatReturnsWithoutTrainingCountsAsAStep() throws Exception {
        Path dir = tmp.resolve("run");
        try (ChildJvm run = counted(dir, trainerOnly(), "5", "call", "-1", "")) {
            String out = finish(run);
            assertTrue(out.contains("result step=5 "), out);
            // while (step()) {} calls step() six times; the sixth returns false at once, and is counted all the same
            assertEquals(List.of(6L), Checkpoints.steps(dir), out);
        }
    }

    @Test
    void aRunWhereNoStepRanWarnsAtExitNamingWhatWasInstrumented() throws Exception {
        Path dir = tmp.resolve("run");
        // total 0 with the exact loop: the trainer's class is loaded and instrumented, its step never called
        try (ChildJvm run = counted(dir, trainerOnly(), "0", "exact", "-1", "")) {
            String out = finish(run);
            List<String> warnings = out.lines().filter(l -> l.startsWith("pauser: WARNING: no @TrainStep method ran"))
                    .collect(Collectors.toList());
            assertEquals(1, warnings.size(), out);
            assertTrue(warnings.get(0).contains("instrumented 1 @TrainStep method in gen.Counted, but none was called"),
                    warnings.get(0));
            assertTrue(Checkpoints.steps(dir).isEmpty(), out);
        }
    }

    @Test
    void aProgramWithoutStepMethodsWarnsAtExitAndAToolJvmDoesNot() throws Exception {
        Path dir = tmp.resolve("run");
        // A JVM that picks the agent up without training anything (from JAVA_TOOL_OPTIONS, say): a JDK tool. It stays
        // out of the way: no start line, no checkpoint directory, no lock, no warning.
        try (ChildJvm tool = ChildJvm.builder().agent("dir=" + dir).jvmArg("-m").jvmArg("jdk.jcmd/sun.tools.jps.Jps")
                .start()) {
            String out = finish(tool);
            assertFalse(out.contains("pauser:"), out);
            assertFalse(Files.exists(dir), "a tool JVM made the checkpoint directory:\n" + out);
        }
        try (ChildJvm idle = ChildJvm.builder().agent("dir=" + tmp.resolve("idle")).jvmArg("-cp")
                .jvmArg(ChildJvm.codeSource(StartupIT.class)).jvmArg(NoSteps.class.getName()).start()) {
            String out = finish(idle);
            assertTrue(out.contains("idle"), out);
            List<String> warnings = out.lines().filter(l -> l.startsWith("pauser: WARNING: no @TrainStep method ran"))
                    .collect(Collectors.toList());
            assertEquals(1, warnings.size(), out);
            assertTrue(warnings.get(0).contains("no class loaded declares, implements or overrides a method annotated "
                    + "@dev.pauser.TrainStep"), warnings.get(0));
        }
    }

    @Test
    void thePauserCommandLineRunsWhereItsJvmAlsoGetsTheAgent() throws Exception {
        // JAVA_TOOL_OPTIONS=-javaagent:pauser.jar reaches the command line's own JVM too, putting pauser.jar on the
        // bootstrap class path, which cannot see the Attach API: the command still works, and leaves the directory
        // of the run it controls alone.
        Path work = Files.createDirectories(tmp.resolve("work"));
        try (ChildJvm cli = ChildJvm.builder().agent(null).workDir(work).jar(ChildJvm.agentJar(), "list", "--json")
                .start()) {
            String out = finish(cli);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("[")), "list printed its JSON:\n" + out);
            assertFalse(out.contains("Error") || out.contains("Exception"), out);
            assertFalse(Files.exists(work.resolve("pauser")), "the command's JVM made a checkpoint directory:\n" + out);
        }
        try (ChildJvm cli = ChildJvm.builder().agent(null).workDir(work).jar(ChildJvm.agentJar(), "--version")
                .start()) {
            String out = finish(cli);
            assertTrue(out.startsWith("pauser "), out);
        }
    }

    @Test
    void whereTheAppConfiguredJdkLoggingTheLinesGoThroughIt() throws Exception {
        Path config = tmp.resolve("logging.properties");
        Files.writeString(config, String.join("\n",
                "handlers=java.util.logging.ConsoleHandler",
                ".level=INFO",
                "java.util.logging.ConsoleHandler.level=ALL",
                "java.util.logging.ConsoleHandler.formatter=java.util.logging.SimpleFormatter",
                "java.util.logging.SimpleFormatter.format=app-log %4$s %5$s%n",
                ""));
        Path dir = tmp.resolve("run");
        try (ChildJvm run = ChildJvm.builder().agent("dir=" + dir).jvmArg("-Djava.util.logging.config.file=" + config)
                .jvmArg("-cp").jvmArg(trainerOnly()).jvmArg("gen.Counted").jvmArg("2").jvmArg("exact").jvmArg("-1")
                .jvmArg("").start()) {
            String out = finish(run);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("app-log INFO pauser: agent ")), out);
            assertTrue(out.lines().anyMatch(l -> l.equals("app-log INFO pauser: instrumented 1 @TrainStep method in "
                    + "gen.Counted")), out);
        }
    }

    /** A program without step methods. */
    public static final class NoSteps {
        public static void main(String[] args) {
            System.out.println("idle");
        }
    }

    /**
     * Every line of the agent is one line starting {@code pauser: } (JDK logging's default format would add a header
     * line naming the logging class), and the JVM said nothing about class-data sharing or {@code sun.misc.Unsafe}.
     */
    static void assertCleanOutput(String out) {
        for (String line : out.lines().collect(Collectors.toList())) {
            assertFalse(line.contains("dev.pauser.agent.log.Log"), "a logging header line:\n" + out);
            assertFalse(line.startsWith("INFO:") || line.startsWith("WARNING: pauser"), "a two-line log record:\n" + out);
            assertFalse(line.contains("sun.misc.Unsafe"), "the JVM warned about sun.misc.Unsafe:\n" + out);
            assertFalse(line.contains("Sharing is only supported"), "the JVM's class-data sharing notice:\n" + out);
        }
    }

    private static void assertBefore(String out, String first, String then) {
        List<String> lines = out.lines().collect(Collectors.toList());
        int a = -1;
        int b = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (a < 0 && lines.get(i).startsWith(first)) {
                a = i;
            }
            if (b < 0 && lines.get(i).startsWith(then)) {
                b = i;
            }
        }
        assertTrue(a >= 0 && b >= 0 && a < b, "'" + first + "...' must come before '" + then + "...':\n" + out);
    }
}
