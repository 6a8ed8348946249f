package dev.pauser.agent.device;

/**
 * Finds the device memory a trainer's class loader can use: the CUDA driver through the app's JCuda where that loader
 * sees {@code jcuda.driver.JCudaDriver}, else none. Pauser never loads a JCuda class otherwise, so an app without JCuda
 * meets no JCuda message.
 */
public final class DeviceMemories {
    /** The driver API's entry class in JCuda. */
    public static final String JCUDA_DRIVER = "jcuda.driver.JCudaDriver";

    private DeviceMemories() {
    }

    /** Whether {@code loader} sees JCuda's driver API (without initializing anything). */
    public static boolean jcudaVisible(ClassLoader loader) {
        try {
            Class.forName(JCUDA_DRIVER, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
