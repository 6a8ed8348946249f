package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceException;
import dev.pauser.agent.device.DeviceMemories;
import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceMemoryProvider;

/**
 * The device memory the GPU fields of one trainer class reach through its class loader, asked of the provider at the
 * first capture or restore of such a field (never at start-up) and kept, or why it can't be used, also kept; and the
 * CUDA context those fields were last seen in, where a field that was null at restore gets its allocation.
 *
 * <p>Threads: any; capture (where the steps are held) and restore (where the trainer is restored) share one instance.
 * The lookup is synchronized, the known context volatile.
 */
final class TrainerDevice {
    private final ClassLoader loader;
    private final DeviceMemoryProvider provider;
    private DeviceMemory memory;
    private String unusable;
    private volatile DeviceMemory.DeviceContext knownContext;

    TrainerDevice(ClassLoader loader, DeviceMemoryProvider provider) {
        this.loader = loader;
        this.provider = provider;
    }

    /** The device memory of this trainer's loader, or an exception whose message is the field's problem. */
    synchronized DeviceMemory memory(StateField field) throws DeviceException {
        if (memory == null && unusable == null) {
            try {
                memory = provider.forLoader(loader);
                if (memory == null) {
                    unusable = "JCuda's driver API (" + DeviceMemories.JCUDA_DRIVER
                            + ") is not visible to the trainer's class loader: put the jcuda jar beside the trainer";
                }
            } catch (DeviceException e) {
                unusable = e.getMessage();
            }
        }
        if (memory == null) {
            throw new DeviceException("the @TrainState field " + field.describe() + " holds GPU memory, but the CUDA"
                    + " driver can't be used in this JVM: " + unusable);
        }
        return memory;
    }

    /** Why this field's GPU memory can't be reached in this JVM (the field's problem, one line), or null when it can. */
    String unusableReason(StateField field) {
        try {
            memory(field);
            return null;
        } catch (DeviceException e) {
            return e.getMessage();
        }
    }

    /** The device memory of the trainer's loader, or null where it can't be used (the captures say why). */
    DeviceMemory memoryOrNull(StateField field) {
        try {
            return memory(field);
        } catch (DeviceException e) {
            return null;
        }
    }

    /** The context the trainer's GPU memory was last seen in, or null before any was seen. */
    DeviceMemory.DeviceContext knownContext() {
        return knownContext;
    }

    /** Remembers the context an allocation of the trainer's GPU fields was just seen in. */
    void seen(DeviceMemory.DeviceContext context) {
        knownContext = context;
    }
}
