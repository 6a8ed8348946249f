package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceMemoryProvider;
import dev.pauser.agent.store.Entry;
import java.lang.reflect.Type;

/**
 * GPU memory held through the app's JCuda: {@code jcuda.driver.CUdeviceptr}, {@code jcuda.Pointer} (device memory from
 * {@code cudaMalloc}), and one-dimensional arrays of them, matched by class name (JCuda is the app's library: Pauser
 * never links it, and reaches the memory only through {@link DeviceMemory}).
 *
 * <p>Nothing touches the device at start-up. One instance per trainer class; its parts, one job each:
 * {@link DeviceLayout} ({@code @TrainState(dtype, shape, bytes)}: an array is one tensor, its elements one after
 * another), {@link DevicePointers} (each pointer's allocation, found and checked), {@link TrainerDevice} (the device
 * memory of the trainer's loader and the context last seen), {@link DeviceCapture} and {@link DeviceRestore}.
 *
 * <p>Threads: {@link #handles} and {@link #problem} where the schema is built; {@link #capture} where the steps are
 * held (the gate's control thread {@code pauser-gate}, or that of a held checkpoint); {@link #plan} and its write where
 * the trainer is restored; {@link #unusableReason} where the trainer is registered (the training thread, before its
 * first step); {@link #memoryOrNull} on {@code pauser-gate} while the steps are held for a release.
 */
final class DeviceBufferCodec implements Codec {
    private final TrainerDevice device;
    private final DeviceCapture capture;
    private final DeviceRestore restore;

    DeviceBufferCodec(ClassLoader loader, DeviceMemoryProvider provider) {
        this.device = new TrainerDevice(loader, provider);
        this.capture = new DeviceCapture(device);
        this.restore = new DeviceRestore(device);
    }

    @Override
    public boolean handles(Class<?> type, Type genericType) {
        Class<?> element = type.isArray() ? type.getComponentType() : type;
        while (element.isArray()) {
            element = element.getComponentType();
        }
        return DevicePointers.isPointerType(element);
    }

    @Override
    public String problem(Class<?> type, Type genericType) {
        if (type.isArray() && type.getComponentType().isArray()) {
            return "declare it as " + simple(DevicePointers.DEVICE_PTR) + ", Pointer, or a one-dimensional array of"
                    + " them";
        }
        return null;
    }

    private static String simple(String name) {
        return name.substring(name.lastIndexOf('.') + 1);
    }

    @Override
    public boolean inPlace(Class<?> type) {
        return true; // the same pointer objects get the bytes (and, where they pointed nowhere, a new address)
    }

    /** Why this field's GPU memory can't be reached in this JVM (the field's problem, one line), or null when it can. */
    String unusableReason(StateField field) {
        return device.unusableReason(field);
    }

    /** The device memory of the trainer's loader, or null where it can't be used (the captures say why). */
    DeviceMemory memoryOrNull(StateField field) {
        return device.memoryOrNull(field);
    }

    @Override
    public Entry capture(StateField field, Object value, Staging staging) throws Exception {
        return capture.capture(field, value, staging);
    }

    @Override
    public Write plan(StateField field, Entry entry, Object owner, Object current) throws Mismatch {
        return restore.plan(field, entry, owner, current);
    }
}
