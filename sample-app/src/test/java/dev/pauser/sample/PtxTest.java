package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed PTX of the CUDA kernels ({@code src/main/resources/dev/pauser/sample/mlp_kernels.ptx}) is what {@code
 * src/main/cuda/make-ptx.sh} makes from {@code mlp_kernels.cu}, defines every kernel {@link CudaKernels} launches, and
 * declares the ISA and architecture its load error names.
 */
class PtxTest {
    private static final Path CUDA_DIR = Path.of("src", "main", "cuda");
    private static final Path COMMITTED = Path.of("src", "main", "resources", "dev", "pauser", "sample",
            CudaKernels.PTX_RESOURCE);
    private static final Pattern ENTRY = Pattern.compile("^\\.visible \\.entry (\\w+)\\(", Pattern.MULTILINE);
    private static final Pattern NVCC_RELEASE = Pattern.compile("Cuda compilation tools, release [^\\r\\n]*");

    @Test
    void thePtxDefinesEveryKernelTheTrainerLaunchesAndNoOther() {
        String ptx = resourceText();
        Set<String> entries = new TreeSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            entries.add(m.group(1));
        }
        assertEquals(new TreeSet<>(CudaKernels.KERNELS), entries);
    }

    @Test
    void thePtxIsIsa80ForComputeCapability75AsTheLoadErrorSays() {
        List<String> lines = resourceText().lines().toList();
        assertTrue(lines.contains(".version 8.0"), "PTX ISA 8.0 (CUDA 12.0 drivers load it)");
        assertTrue(lines.contains(".target sm_75"), "compute_75 (Turing and newer GPUs)");
        assertTrue(lines.contains(".address_size 64"));
    }

    @Test
    void theCommittedPtxIsExactlyWhatMakePtxGeneratesFromTheSource(@TempDir Path dir) throws Exception {
        ToolRun version = ToolRun.run(dir, "nvcc", "--version");
        assumeTrue(version != null && version.exit() == 0, "nvcc is not on the PATH");
        String nvcc = version.text();
        String committed = Files.readString(COMMITTED, StandardCharsets.UTF_8);
        Matcher madeBy = NVCC_RELEASE.matcher(committed);
        assertTrue(madeBy.find(), "the committed PTX names the nvcc that made it");
        assumeTrue(nvcc.contains(madeBy.group()), "the committed PTX was made by nvcc '" + madeBy.group()
                + "'; this nvcc makes different text:\n" + nvcc);

        Path regenerated = dir.resolve("mlp_kernels.ptx");
        String script = CUDA_DIR.resolve("make-ptx.sh").toAbsolutePath().toString();
        ToolRun made = ToolRun.run(dir, script, regenerated.toString());
        assertTrue(made != null && made.exit() == 0, "make-ptx.sh failed: " + made);
        List<String> want = Files.readAllLines(regenerated, StandardCharsets.UTF_8);
        List<String> have = committed.lines().toList();
        int line = 0;
        while (line < Math.min(want.size(), have.size()) && want.get(line).equals(have.get(line))) {
            line++;
        }
        assertTrue(line == want.size() && line == have.size(), "the committed PTX is stale (first difference at line "
                + (line + 1) + "): run sample-app/src/main/cuda/make-ptx.sh and commit its output");
        assertEquals(committed, Files.readString(regenerated, StandardCharsets.UTF_8), "the same bytes");
    }

    private static String resourceText() {
        byte[] ptx = CudaKernels.ptx();
        assertEquals(0, ptx[ptx.length - 1], "NUL-terminated for cuModuleLoadData");
        return new String(ptx, 0, ptx.length - 1, StandardCharsets.US_ASCII);
    }
}
