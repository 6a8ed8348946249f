package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceException;
import dev.pauser.agent.device.DeviceMemory;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;

/**
 * The pointer objects of a GPU field and the device allocations they hold: a field's value split into its pointers
 * (itself, or an array's elements), and each pointer's allocation found and checked (the start of a device allocation,
 * its size the driver's or {@code @TrainState(bytes)}). The messages complete "Class.field ('key'): ..." and name the
 * array element where there is one. Runs on the caller's thread: capture's (where the steps are held) and restore's
 * (where the trainer is restored); it only asks the driver ({@link DeviceMemory#allocationAt}), changing nothing.
 */
final class DevicePointers {
    static final String DEVICE_PTR = "jcuda.driver.CUdeviceptr";
    static final String POINTER = "jcuda.Pointer";

    private DevicePointers() {
    }

    /** True for JCuda's pointer classes, matched by name (JCuda is the app's library, never linked by Pauser). */
    static boolean isPointerType(Class<?> type) {
        String n = type.getName();
        return n.equals(DEVICE_PTR) || n.equals(POINTER);
    }

    /** The pointer objects of a value: itself, or an array's elements. */
    static List<Object> of(Object value) {
        if (!value.getClass().isArray()) {
            return List.of(value);
        }
        int n = Array.getLength(value);
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Array.get(value, i));
        }
        return out;
    }

    /** "element i " for an array's element, "" for a single pointer: the start of a message about pointer {@code i}. */
    static String which(Object value, int i) {
        return value.getClass().isArray() ? "element " + i + " " : "";
    }

    /**
     * The memory a pointer holds, checked: the start of a device allocation, of the size given or the driver's. The
     * messages complete "Class.field ('key'): ...".
     */
    static DeviceMemory.Allocation allocation(DeviceMemory mem, long address, String which) throws DeviceException {
        if (address == 0) {
            throw new IllegalArgumentException(which + "points nowhere (address 0: not allocated yet, or a Pointer to"
                    + " Java memory): allocate its GPU memory before the first step, or leave the field null");
        }
        DeviceMemory.Allocation a = mem.allocationAt(address);
        if (a == null) {
            throw new IllegalArgumentException(which + "holds " + hex(address) + ", which is not device memory (host"
                    + " memory, or freed): hold memory from cuMemAlloc or cudaMalloc");
        }
        if (a.base() != address) {
            throw new IllegalArgumentException(which + "points " + (address - a.base()) + " bytes into the allocation"
                    + " at " + hex(a.base()) + ": hold the allocation's own pointer (its start), or give the part its"
                    + " own allocation");
        }
        return a;
    }

    /** The bytes of an allocation that are the field's: {@code @TrainState(bytes)} where given, else the driver's size. */
    static long size(DeviceMemory.Allocation a, DeviceLayout layout, String which) {
        if (layout.bytes() >= 0) {
            if (a.bytes() > 0 && layout.bytes() > a.bytes()) {
                throw new IllegalArgumentException(which + "@TrainState(bytes = " + layout.bytes()
                        + ") is more than its allocation's " + a.bytes() + " bytes: fix bytes");
            }
            return layout.bytes();
        }
        if (a.bytes() <= 0) {
            throw new IllegalArgumentException(which + "the CUDA driver can't tell the size of the memory at "
                    + hex(a.base()) + ": give it with @TrainState(bytes = ...)");
        }
        return a.bytes();
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }
}
