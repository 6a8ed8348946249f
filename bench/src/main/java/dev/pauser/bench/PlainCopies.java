package dev.pauser.bench;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * The references: plain copies of {@code bytes} on device 0 through JCuda, each the best of five after a first one —
 * pinned device to host, pinned host to device, device to device. All memory is given back before returning.
 */
final class PlainCopies {
    private static final int REPEATS = 5;
    private static final Pattern MISSING_LIBRARY = Pattern.compile("((?:lib|/)[^\\s:]*: cannot open shared object file[^\\n\\t]*)");

    final String device;
    final long bytes;
    final long d2hNanos;
    final long h2dNanos;
    final long d2dNanos;

    private PlainCopies(String device, long bytes, long d2hNanos, long h2dNanos, long d2dNanos) {
        this.device = device;
        this.bytes = bytes;
        this.d2hNanos = d2hNanos;
        this.h2dNanos = h2dNanos;
        this.d2dNanos = d2dNanos;
    }

    /** This JVM can't use an NVIDIA GPU: no driver library, no device, or the driver refused; the message says which. */
    static final class NoGpuException extends Exception {
        private static final long serialVersionUID = 1L;

        NoGpuException(String message) {
            super(message);
        }
    }

    static PlainCopies measure(long bytes) throws NoGpuException {
        CUdevice device = new CUdevice();
        String name;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new NoGpuException("the CUDA driver sees no device");
            }
            cuDeviceGet(device, 0);
            byte[] raw = new byte[256];
            cuDeviceGetName(raw, raw.length, device);
            int[] version = new int[1];
            cuDriverGetVersion(version);
            name = new String(raw, StandardCharsets.US_ASCII).trim().replace("\0", "")
                    + String.format(Locale.ROOT, ", CUDA driver %d.%d", version[0] / 1000, version[0] % 1000 / 10);
        } catch (LinkageError e) {
            // JCuda's driver library could not load: without an NVIDIA driver there is no libcuda.so.1
            throw new NoGpuException("JCuda's driver library does not load: " + rootMessage(e));
        } catch (CudaException e) {
            throw new NoGpuException("the CUDA driver refused: " + e.getMessage());
        }

        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        CUdeviceptr a = new CUdeviceptr();
        CUdeviceptr b = new CUdeviceptr();
        Pointer host = new Pointer();
        try {
            long[] free = new long[1];
            long[] total = new long[1];
            cuMemGetInfo(free, total);
            name += String.format(Locale.ROOT, ", %d of %d MiB free", free[0] >> 20, total[0] >> 20);
            cuMemAlloc(a, bytes);
            cuMemAlloc(b, bytes);
            cuMemAllocHost(host, bytes);
            cuMemsetD32(a, 0x3f800000, bytes / Integer.BYTES);
            cuMemsetD32(b, 0, bytes / Integer.BYTES);
            cuCtxSynchronize();
            long d2h = best(() -> cuMemcpyDtoH(host, a, bytes));
            long h2d = best(() -> cuMemcpyHtoD(b, host, bytes));
            long d2d = best(() -> cuMemcpyDtoD(b, a, bytes));
            return new PlainCopies(name, bytes, d2h, h2d, d2d);
        } finally {
            cuMemFreeHost(host);
            cuMemFree(b);
            cuMemFree(a);
            cuDevicePrimaryCtxRelease(device);
        }
    }

    private static long best(Runnable copy) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i <= REPEATS; i++) {
            long t0 = System.nanoTime();
            copy.run();
            cuCtxSynchronize(); // a device-to-device copy returns before it is done
            long took = System.nanoTime() - t0;
            if (i > 0) {
                best = Math.min(best, took);
            }
        }
        return best;
    }

    String describe() {
        return String.format(Locale.ROOT, "device: %s%nplain copies of %d MiB (best of %d): pinned D2H %.2f ms = %.1f GB/s,"
                + " pinned H2D %.2f ms = %.1f GB/s, D2D %.2f ms = %.1f GB/s", device, bytes >> 20, REPEATS,
                d2hNanos / 1e6, bytes / (double) d2hNanos, h2dNanos / 1e6, bytes / (double) h2dNanos,
                d2dNanos / 1e6, bytes / (double) d2dNanos);
    }

    /**
     * JCuda's load error is a page of nested stack traces; the line that matters names the library the dynamic linker
     * could not open (libcuda.so.1 where no NVIDIA driver is installed). Otherwise its first line.
     */
    private static String rootMessage(Throwable e) {
        String text = String.valueOf(e.getMessage());
        Matcher missing = MISSING_LIBRARY.matcher(text);
        String last = null;
        while (missing.find()) {
            last = missing.group(1).trim();
        }
        return last != null ? last : text.split("\\R", 2)[0];
    }
}
