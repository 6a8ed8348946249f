package dev.pauser.agent.device;

/**
 * Finds the {@link DeviceMemory} for a trainer's class loader: null where that loader doesn't see JCuda (no GPU field can
 * hold device memory then); a {@link DeviceException} whose message is the reason when JCuda is there but its driver
 * can't be used. Asked once per trainer class, at its first capture or restore of a GPU field, on the thread doing it.
 */
@FunctionalInterface
public interface DeviceMemoryProvider {

    /**
     * What this build answers: no device where the loader doesn't see JCuda; where it does, the JCuda binding is not part
     * of this build, which is a reason the driver can't be used.
     */
    DeviceMemoryProvider DEFAULT = loader -> {
        if (!DeviceMemories.jcudaVisible(loader)) {
            return null;
        }
        throw new DeviceException("JCuda's driver API is not wired in this build");
    };

    DeviceMemory forLoader(ClassLoader loader) throws DeviceException;
}
