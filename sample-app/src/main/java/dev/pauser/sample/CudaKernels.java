package dev.pauser.sample;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA mode's kernels ({@code src/main/cuda/mlp_kernels.cu}) on device 0, through JCuda's driver API only: the
 * driver started, the device's primary context retained and made current, the kernels loaded from their PTX with
 * {@code cuModuleLoadData}, each looked up once, and launched with {@code cuLaunchKernel} on the default stream. So no
 * CUDA runtime, NVRTC or cuBLAS library is needed, only the driver.
 *
 * <p>Threads: everything runs on the thread that called {@link #load}, which holds the device's primary context.
 */
final class CudaKernels implements AutoCloseable {
    /** The PTX of the kernels, generated from {@code src/main/cuda/mlp_kernels.cu} by {@code make-ptx.sh}. */
    static final String PTX_RESOURCE = "mlp_kernels.ptx";
    /** The kernels the CUDA mode launches: each is an entry of the PTX. */
    static final List<String> KERNELS = List.of("gather_batch", "linear_forward", "softmax_xent", "mean_loss",
            "weight_grad", "bias_grad", "input_grad", "adam", "count_correct");
    /** Threads per block of every launch: with the options, it fixes every launch's configuration. */
    private static final int BLOCK = 256;

    final CUfunction gatherBatch;
    final CUfunction linearForward;
    final CUfunction softmaxXent;
    final CUfunction meanLoss;
    final CUfunction weightGrad;
    final CUfunction biasGrad;
    final CUfunction inputGrad;
    final CUfunction adam;
    final CUfunction countCorrect;
    private final CUdevice device;
    private final CUmodule module;

    private CudaKernels(CUdevice device, CUmodule module) {
        this.device = device;
        this.module = module;
        // Each name is one of KERNELS, the list PtxTest checks against the PTX's entries.
        gatherBatch = function(module, "gather_batch");
        linearForward = function(module, "linear_forward");
        softmaxXent = function(module, "softmax_xent");
        meanLoss = function(module, "mean_loss");
        weightGrad = function(module, "weight_grad");
        biasGrad = function(module, "bias_grad");
        inputGrad = function(module, "input_grad");
        adam = function(module, "adam");
        countCorrect = function(module, "count_correct");
    }

    /**
     * The kernels on CUDA device 0 (choose another with {@code CUDA_VISIBLE_DEVICES}), its primary context current on
     * this thread.
     *
     * @throws CudaTrainer.CudaUnavailable where the driver (libcuda.so.1) or a device is missing, or the driver cannot
     *     load the kernels
     */
    static CudaKernels load() throws CudaTrainer.CudaUnavailable {
        CUdevice device = new CUdevice();
        CUmodule module = new CUmodule();
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new CudaTrainer.CudaUnavailable("the driver sees no CUDA device");
            }
            JCudaDriver.cuDeviceGet(device, 0);
            CUcontext context = new CUcontext();
            JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
            JCudaDriver.cuCtxSetCurrent(context);
        } catch (UnsatisfiedLinkError e) {
            throw new CudaTrainer.CudaUnavailable(nativeLibraryReason(e));
        } catch (CudaException e) {
            throw new CudaTrainer.CudaUnavailable("the CUDA driver failed to start: " + e.getMessage());
        }
        try {
            JCudaDriver.cuModuleLoadData(module, ptx());
        } catch (CudaException e) {
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw new CudaTrainer.CudaUnavailable("the driver can't load the kernels' PTX (ISA 8.0, compute_75; it"
                    + " needs a driver for CUDA 12.0 or newer and a Turing or newer GPU): " + e.getMessage());
        }
        return new CudaKernels(device, module);
    }

    /**
     * Launches {@code kernel} on the default stream with one thread per output ({@code threads} of them, in blocks of
     * {@link #BLOCK}), with {@code args} in the kernel's parameter order: a {@link CUdeviceptr} (null for a null
     * pointer), an {@link Integer} (int), a {@link Long} (long long) or a {@link Float} (float).
     */
    void launch(CUfunction kernel, long threads, Object... args) {
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                params[i] = Pointer.to(new long[] {0});
            } else if (a instanceof CUdeviceptr p) {
                params[i] = Pointer.to(p);
            } else if (a instanceof Integer v) {
                params[i] = Pointer.to(new int[] {v});
            } else if (a instanceof Long v) {
                params[i] = Pointer.to(new long[] {v});
            } else if (a instanceof Float v) {
                params[i] = Pointer.to(new float[] {v});
            } else {
                throw new IllegalArgumentException("kernel argument " + i + ": " + a.getClass().getName());
            }
        }
        long blocks = (threads + BLOCK - 1) / BLOCK;
        JCudaDriver.cuLaunchKernel(kernel, Math.toIntExact(blocks), 1, 1, BLOCK, 1, 1, 0, null,
                Pointer.to(params), null);
    }

    /** Unloads the kernels and releases the primary context {@link #load} retained. */
    @Override
    public void close() {
        JCudaDriver.cuModuleUnload(module);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    private static CUfunction function(CUmodule module, String name) {
        if (!KERNELS.contains(name)) {
            throw new IllegalArgumentException("kernel " + name + " is not in CudaKernels.KERNELS");
        }
        CUfunction f = new CUfunction();
        JCudaDriver.cuModuleGetFunction(f, module, name);
        return f;
    }

    /** The PTX resource as {@code cuModuleLoadData} wants it: NUL-terminated text. */
    static byte[] ptx() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + PTX_RESOURCE + " is missing from sample-app.jar;"
                        + " rebuild it with mvn package");
            }
            byte[] text = in.readAllBytes();
            return Arrays.copyOf(text, text.length + 1);
        } catch (IOException e) {
            throw new IllegalStateException("can't read the resource " + PTX_RESOURCE + ": " + e.getMessage(), e);
        }
    }

    private static final Pattern MISSING_LIBRARY =
            Pattern.compile("(lib[\\w.+-]+\\.so[\\w.]*): cannot open shared object file[^\\r\\n]*");

    /**
     * One line out of JCuda's multi-line report of a native library it could not load: the missing system library
     * where it names one (libcuda.so.1 comes with the NVIDIA driver), else the report's first line.
     */
    static String nativeLibraryReason(UnsatisfiedLinkError e) {
        String message = String.valueOf(e.getMessage());
        Matcher m = MISSING_LIBRARY.matcher(message);
        if (m.find()) {
            return m.group() + " (JCuda's driver library needs " + m.group(1)
                    + ", which the NVIDIA driver installs)";
        }
        return message.lines().findFirst().orElse(e.toString()).trim();
    }
}
