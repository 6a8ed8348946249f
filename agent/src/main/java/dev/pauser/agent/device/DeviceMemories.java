package dev.pauser.agent.device;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Finds the device memory a trainer's class loader can use: the CUDA driver through the app's JCuda where that loader
 * sees {@code jcuda.driver.JCudaDriver}, else none. Pauser never loads a JCuda class otherwise, so an app without JCuda
 * meets no JCuda message.
 *
 * <p>One {@link JCudaDevice} per copy of JCuda: loaders that delegate to the same one (a trainer's child loader and the
 * app loader) share it. The cache holds it and each failure's reason weakly, keyed by JCuda's driver class, so an app
 * loader that is dropped is not kept alive by Pauser. Threads: any; the first call for a copy of JCuda initializes the
 * driver on the calling thread.
 */
public final class DeviceMemories {
    /** The driver API's entry class in JCuda. */
    public static final String JCUDA_DRIVER = "jcuda.driver.JCudaDriver";

    /** Per copy of JCuda (its driver class): the device, or the reason the driver can't be used (a String). */
    private static final Map<Class<?>, Object> KNOWN = new WeakHashMap<>();

    private DeviceMemories() {
    }

    /**
     * The CUDA driver through the JCuda {@code loader} sees; null where it sees none (then no JCuda class is
     * initialized and nothing is printed).
     *
     * @throws DeviceException where JCuda is there but the driver can't be used; the message is the reason alone
     *     ("libcuda.so.1 is not installed (no NVIDIA driver)", "no CUDA device (...)", a failed {@code cuInit}), for
     *     the caller to put after the field it was asked for
     */
    public static DeviceMemory forLoader(ClassLoader loader) throws DeviceException {
        Class<?> driver;
        try {
            driver = Class.forName(JCUDA_DRIVER, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
        synchronized (KNOWN) {
            Object known = KNOWN.get(driver);
            Object device = known instanceof WeakReference ? ((WeakReference<?>) known).get() : known;
            if (device instanceof JCudaDevice) {
                return (JCudaDevice) device;
            }
            if (device instanceof String) {
                throw new DeviceException((String) device);
            }
            try {
                JCudaDevice opened = open(driver);
                KNOWN.put(driver, new WeakReference<>(opened));
                return opened;
            } catch (DeviceException e) {
                KNOWN.put(driver, e.getMessage());
                throw e;
            }
        }
    }

    private static JCudaDevice open(Class<?> driver) throws DeviceException {
        try {
            // Loading JCudaDriver's native library needs the driver's libcuda.so.1; that is where a machine without
            // an NVIDIA driver fails.
            Class.forName(driver.getName(), true, driver.getClassLoader());
        } catch (LinkageError | ClassNotFoundException e) {
            throw new DeviceException(NativeLibraryFailure.reason(e), e);
        }
        JCudaDevice device;
        try {
            device = new JCudaDevice(driver);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new DeviceException("the app's JCuda lacks what Pauser needs of JCuda 12 (" + e + ")", e);
        }
        device.initialize();
        return device;
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
