package dev.pauser.agent.device;

/**
 * Finds the {@link DeviceMemory} for a trainer's class loader: null where that loader doesn't see JCuda (no GPU field can
 * hold device memory then); a {@link DeviceException} whose message is the reason when JCuda is there but its driver
 * can't be used. Asked once per trainer class, at its first capture or restore of a GPU field, on the thread doing it.
 */
@FunctionalInterface
public interface DeviceMemoryProvider {

    /** The CUDA driver through the app's own JCuda: {@link DeviceMemories#forLoader}. */
    DeviceMemoryProvider DEFAULT = DeviceMemories::forLoader;

    DeviceMemory forLoader(ClassLoader loader) throws DeviceException;
}
