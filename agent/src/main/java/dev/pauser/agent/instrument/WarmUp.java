package dev.pauser.agent.instrument;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Runs the installed transformer once over a made-up class with one {@code @TrainStep} method, whose result is thrown
 * away, so that the classes and code paths of a first transformation (ByteBuddy's type pool, its advice weaving, ASM's
 * reader and writer: about 400 classes, each verified, since Pauser's own loader defines them) are loaded on a
 * background thread rather than while the program's first step class loads on {@code main}. The class is never
 * defined; {@link Instrumenter}'s listener skips it by its loader.
 */
final class WarmUp {
    /** A binary name outside the names the agent ignores, so it goes through the whole matcher. */
    private static final String NAME = "pauser/warmup/Step";

    /** The loader passed with the made-up class: never asked for anything but the JDK and the annotations. */
    static final class Loader extends ClassLoader {
        Loader() {
            super("pauser-warm-up", null);
        }
    }

    private WarmUp() {
    }

    /**
     * Transforms the made-up class with {@code transformer}. Runs on the calling thread (at premain,
     * {@code pauser-instrument}).
     *
     * @throws IllegalStateException if it did not come out instrumented
     */
    static void run(ClassFileTransformer transformer) {
        byte[] original = stepClass();
        byte[] woven;
        try {
            woven = transformer.transform(new Loader(), NAME, null, null, original);
        } catch (IllegalClassFormatException e) {
            throw new IllegalStateException("the warm-up class did not transform: " + e, e);
        }
        if (woven == null) {
            throw new IllegalStateException("the warm-up class was not instrumented");
        }
    }

    /** {@code public class pauser.warmup.Step { public Step() {} @TrainStep public void step() {} }}. */
    private static byte[] stepClass() {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V11, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, NAME, null, "java/lang/Object", null);
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor step = cw.visitMethod(Opcodes.ACC_PUBLIC, "step", "()V", null, null);
        step.visitAnnotation("L" + Instrumenter.TRAIN_STEP.replace('.', '/') + ";", true).visitEnd();
        step.visitCode();
        step.visitInsn(Opcodes.RETURN);
        step.visitMaxs(0, 0);
        step.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
