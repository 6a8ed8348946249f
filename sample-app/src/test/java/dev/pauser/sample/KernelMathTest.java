package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The math of the CUDA kernels, checked without a GPU: {@code src/test/cuda/kernel_math_check.cpp} compiles {@code
 * src/main/cuda/mlp_kernels.cu} as plain C++ with g++, runs every kernel's threads one after another on the CPU, and
 * checks the backward kernels against central differences of the forward kernels' loss, Adam against its formula, and
 * the other kernels against hand-worked answers. Skipped by assumption where g++ is not installed.
 */
class KernelMathTest {

    @Test
    void theKernelsComputeTheLossItsGradientsAndAdam(@TempDir Path dir) throws Exception {
        Path binary = dir.resolve("kernel_math_check");
        String kernels = Path.of("src", "main", "cuda").toAbsolutePath().toString();
        String check = Path.of("src", "test", "cuda", "kernel_math_check.cpp").toAbsolutePath().toString();
        ToolRun compiled = ToolRun.run(dir, "g++", "-std=c++17", "-O1", "-I", kernels, "-o", binary.toString(), check);
        assumeTrue(compiled != null, "g++ is not on the PATH");
        assertEquals(0, compiled.exit(), "g++ failed:\n" + compiled.text());
        ToolRun checked = ToolRun.run(dir, binary.toString());
        assertEquals(0, checked.exit(), checked.text());
        assertTrue(checked.text().startsWith("kernel math: ok"), checked.text());
    }
}
