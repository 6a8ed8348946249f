package dev.pauser.sample;

import jcuda.CudaException;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/** What this machine offers the CUDA mode, found once through JCuda's driver API: decides which CUDA tests run. */
final class CudaDevices {

    enum Availability {
        /** No NVIDIA driver: JCuda's driver library can't load (libcuda.so.1 is missing). */
        NO_DRIVER,
        /** The driver loads but gives no device (none installed, or none visible). */
        NO_DEVICE,
        /** At least one device the driver API can use. */
        USABLE
    }

    private static Availability availability;

    private CudaDevices() {
    }

    static synchronized Availability availability() {
        if (availability == null) {
            availability = probe();
        }
        return availability;
    }

    static boolean usable() {
        return availability() == Availability.USABLE;
    }

    private static Availability probe() {
        try {
            if (JCudaDriver.cuInit(0) != CUresult.CUDA_SUCCESS) {
                return Availability.NO_DEVICE;
            }
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            return count[0] > 0 ? Availability.USABLE : Availability.NO_DEVICE;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            // NoClassDefFoundError: the driver class already failed to initialize in this JVM, for the same reason
            return Availability.NO_DRIVER;
        } catch (CudaException e) { // exceptions enabled by a trainer in this JVM
            return Availability.NO_DEVICE;
        }
    }
}
