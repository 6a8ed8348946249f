package dev.pauser.bench;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

import dev.pauser.TrainState;
import dev.pauser.TrainStep;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * {@link GpuCopyBench}'s training program: {@code <mb>} MiB of device memory (one {@code cuMemAlloc}) as
 * {@code @TrainState}, and a light step that rewrites one MiB of it on the device. Runs until killed; prints
 * {@code ready} after its first step. Arguments: the state size in MiB, then {@code crowded} to also take all but half
 * the state's size of the device's remaining free memory (not state), so that no device-side copy of the state fits.
 */
public final class GpuStateTrainer {
    private static final long SLICE = 1 << 20;

    @TrainState
    private final CUdeviceptr state = new CUdeviceptr();
    @TrainState
    private long step;

    private final long bytes;

    private GpuStateTrainer(long bytes) {
        this.bytes = bytes;
        cuMemAlloc(state, bytes);
        cuMemsetD32(state, 0x3f800000, bytes / Integer.BYTES); // touched: every page is real device memory
        cuCtxSynchronize();
    }

    @TrainStep
    void step() throws InterruptedException {
        long slices = bytes / SLICE;
        cuMemsetD32(state.withByteOffset((step % slices) * SLICE), (int) step, SLICE / Integer.BYTES);
        cuCtxSynchronize();
        step++;
        Thread.sleep(1);
    }

    public static void main(String[] args) throws Exception {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        CUdevice device = new CUdevice();
        cuDeviceGet(device, 0);
        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);

        long bytes = Long.parseLong(args[0]) << 20;
        GpuStateTrainer trainer = new GpuStateTrainer(bytes);
        if (args.length > 1 && args[1].equals("crowded")) {
            long[] free = new long[1];
            long[] total = new long[1];
            cuMemGetInfo(free, total);
            long ballast = free[0] - bytes / 2;
            if (ballast > 0) {
                cuMemAlloc(new CUdeviceptr(), ballast);
            }
            cuMemGetInfo(free, total);
            System.out.println("crowded: " + (free[0] >> 20) + " MiB of device memory left free");
        }
        trainer.step();
        System.out.println("ready");
        System.out.flush();
        while (true) {
            trainer.step();
        }
    }
}
