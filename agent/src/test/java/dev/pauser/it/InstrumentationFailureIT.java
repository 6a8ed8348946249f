package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.fixture.LoadGeneratedMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import net.bytebuddy.jar.asm.AnnotationVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A class that cannot be instrumented is reported once, by name, and the app runs it unchanged. The class is made
 * untransformable for real: its @TrainStep method is a few bytes short of the JVM's 64 KiB code limit, so the
 * advice does not fit.
 */
class InstrumentationFailureIT {
    private static final String NAME = "gen.HugeStep";

    @TempDir
    Path dir;

    @Test
    void aClassThatCannotBeInstrumentedIsReportedOnceByNameAndRuns() throws Exception {
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes.resolve("gen"));
        Files.write(classes.resolve("gen/HugeStep.class"), hugeStepClass());
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir.resolve("pauser"))
                .main(LoadGeneratedMain.class, classes.toString(), NAME).start()) {
            assertEquals(0, child.awaitExit(Duration.ofSeconds(120)), child.output());
            String out = child.output();
            assertTrue(out.contains("ran " + NAME), out);
            long reports = out.lines().filter(l -> l.contains("could not instrument " + NAME)).count();
            assertEquals(1, reports, out);
        }
    }

    /** {@code public class gen.HugeStep { @TrainStep public static void step() { nop × 65530; return; } }} */
    private static byte[] hugeStepClass() {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "gen/HugeStep", null, "java/lang/Object", null);
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor step = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "step", "()V", null, null);
        AnnotationVisitor a = step.visitAnnotation("Ldev/pauser/TrainStep;", true);
        a.visitEnd();
        step.visitCode();
        for (int i = 0; i < 65_530; i++) {
            step.visitInsn(Opcodes.NOP);
        }
        step.visitInsn(Opcodes.RETURN);
        step.visitMaxs(0, 0);
        step.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
