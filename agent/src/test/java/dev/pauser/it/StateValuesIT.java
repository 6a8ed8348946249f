package dev.pauser.it;

import static dev.pauser.it.Checkpoints.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.ValuesTrainer;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code @TrainState} values can hold, end to end: what a checkpoint writes reads back (numbers over a thousand
 * digits, strings over 20 million characters), a changed type inside a plain object is a mismatch like a changed field
 * type, a reference cycle is named in one line, and a field bigger than a checkpoint can hold stops the run at start-up.
 */
class StateValuesIT {
    @TempDir
    Path dir;

    @TempDir
    Path work;

    @Test
    void aHugeNumberAndAHugeStringAreWrittenAndReadBackExactly() throws Exception {
        String reference;
        try (ChildJvm plain = ChildJvm.builder().noAgent().main(ValuesTrainer.class, "--mode", "huge", "--steps", "6")
                .start()) {
            reference = Checkpoints.finish(plain, "uninterrupted run");
        }
        try (ChildJvm first = Checkpoints.builder(dir, "every=1")
                .main(ValuesTrainer.class, "--mode", "huge", "--steps", "3").start()) {
            Checkpoints.finish(first, "first half");
        }
        assertFalse(Checkpoints.steps(dir).isEmpty(), "the first half left no checkpoint");
        try (ChildJvm second = Checkpoints.builder(dir, "every=1")
                .main(ValuesTrainer.class, "--mode", "huge", "--steps", "6").start()) {
            String result = Checkpoints.finish(second, "resumed half");
            String out = second.output();
            assertFalse(out.contains("exceeds the maximum"), out);
            assertTrue(Checkpoints.resumedStep(out) > 0, out);
            assertEquals(reference, result, "the resumed run must end where the uninterrupted one did:\n" + out);
        }
    }

    @Test
    void aNestedFieldRetypedOrAddedInAPlainObjectStopsTheResumeNamingItsPath() throws Exception {
        Path v1 = compile("v1", "double lr = 0.0547; double momentum = 0.9;", "opt.lr *= 1.01;");
        try (ChildJvm run = nested(v1, "", "5")) {
            Checkpoints.finish(run, "v1");
        }
        List<Long> before = Checkpoints.steps(dir);
        assertFalse(before.isEmpty());

        // lr becomes an int (Jackson would read 0.0547 as 0) and a field is added (it would keep its default)
        Path v2 = compile("v2", "int lr = 1; double momentum = 0.9; double nesterov = 0.5;", "opt.lr += 1;");
        try (ChildJvm run = nested(v2, "", "10")) {
            assertEquals(2, run.awaitExit(Duration.ofSeconds(60)), run.output());
            String out = run.output();
            assertContains(out, "the checkpoint does not match the @TrainState fields of the code (2 mismatches",
                    "one message");
            assertContains(out, "retyped: 'opt.lr' (gen.NestedTrainer$Opt.lr): checkpoint has double, code has int",
                    "the retyped nested field");
            assertContains(out, "added: 'opt.nesterov'", "the added nested field");
            assertFalse(out.contains("result="), "training must not run:\n" + out);
            assertEquals(before, Checkpoints.steps(dir), "no checkpoint may replace the good ones:\n" + out);
        }

        // a removed field under onMismatch=warn: listed, and the object keeps the code's value
        Path v3 = compile("v3", "double lr = 0.25;", "opt.lr *= 1.0;");
        try (ChildJvm run = nested(v3, "onMismatch=warn", "5")) {
            Checkpoints.finish(run, "v3");
            String out = run.output();
            assertContains(out, "onMismatch=warn: removed: 'opt.momentum' (double, declared in gen.NestedTrainer$Opt)",
                    "the removed nested field");
            assertContains(out, "result=step:5,lr:0.25", "the code's value is kept and the step restored");
        }
    }

    @Test
    void aReferenceCycleIsReportedInOneShortLineNamingIt() throws Exception {
        try (ChildJvm run = Checkpoints.builder(dir, "every=2")
                .main(ValuesTrainer.class, "--mode", "cycle", "--steps", "6").start()) {
            Checkpoints.finish(run, "cycle");
            String out = run.output();
            String line = out.lines().filter(l -> l.contains("reference cycle")).findFirst().orElse(null);
            assertNotNull(line, "no line says 'reference cycle':\n" + out);
            assertContains(line, "'graph' of " + ValuesTrainer.class.getName() + "$Cycle has a reference cycle "
                    + "(graph.next[0].next[0].next[0] refers back to graph): break it", "the cycle and its path");
            assertTrue(out.lines().allMatch(l -> l.length() < 1000), "a line of " + out.lines()
                    .mapToInt(String::length).max().orElse(0) + " characters");
            assertEquals(List.of(), Checkpoints.steps(dir), out);
        }
    }

    @Test
    void aFieldOverTwoGibibytesStopsTheRunAtItsFirstStep() throws Exception {
        Path file = work.resolve("sparse.bin");
        try (ChildJvm run = Checkpoints.builder(dir, "every=1").main(ValuesTrainer.class, "--mode", "oversize",
                "--steps", "5", "--file", file.toString()).start()) {
            assertEquals(2, run.awaitExit(Duration.ofSeconds(60)), run.output());
            String out = run.output();
            assertContains(out, ValuesTrainer.class.getName() + "$Oversize.huge ('huge') holds 2147483647 bytes;"
                    + " one @TrainState field can hold at most", "the field and its size");
            assertFalse(out.contains("result="), "training must not run:\n" + out);
            assertEquals(List.of(), Checkpoints.steps(dir), out);
        }
    }

    // ---- a trainer compiled here in several versions: the same class name, changed between runs ----

    private ChildJvm nested(Path classes, String options, String steps) throws Exception {
        String cp = classes + File.pathSeparator + ChildJvm.codeSource(dev.pauser.TrainStep.class);
        return Checkpoints.builder(dir, options.isEmpty() ? "every=1" : "every=1," + options)
                .jvmArg("-cp").jvmArg(cp).jvmArg("gen.NestedTrainer").jvmArg(steps).start();
    }

    private Path compile(String version, String optFields, String stepBody) throws Exception {
        Path src = work.resolve(version + "-src/gen/NestedTrainer.java");
        Path out = work.resolve(version + "-classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(out);
        Files.writeString(src, String.join("\n",
                "package gen;",
                "import dev.pauser.TrainState;",
                "import dev.pauser.TrainStep;",
                "public final class NestedTrainer {",
                "    static final class Opt { " + optFields + " }",
                "    @TrainState long step;",
                "    @TrainState Opt opt = new Opt();",
                "    final long total;",
                "    NestedTrainer(long total) { this.total = total; }",
                "    @TrainStep boolean step() throws InterruptedException {",
                "        if (step >= total) { return false; }",
                "        " + stepBody,
                "        step++;",
                "        Thread.sleep(5);",
                "        return true;",
                "    }",
                "    public static void main(String[] args) throws Exception {",
                "        NestedTrainer t = new NestedTrainer(Long.parseLong(args[0]));",
                "        while (t.step()) { }",
                "        System.out.println(\"result=step:\" + t.step + \",lr:\" + t.opt.lr);",
                "    }",
                "}"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "--release", "17", "-d", out.toString(), "-cp",
                ChildJvm.codeSource(dev.pauser.TrainStep.class), src.toString());
        assertEquals(0, rc, "compiling " + src);
        return out;
    }
}
