package dev.pauser.agent.device;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * JCuda's pointer and handle objects, the app's own classes: the address a {@code CUdeviceptr} or runtime-API
 * {@code Pointer} holds, which is {@code NativePointerObject.nativePointer} plus {@code Pointer.byteOffset} (both
 * private fields of JCuda, what its JNI passes to the driver), read and set through {@code setAccessible} handles; and
 * the objects the driver calls take ({@link NativeObjectClass}), made empty for a call to fill or holding a given
 * value.
 *
 * <p>Threads: any; nothing changes after construction, and each object made belongs to its caller.
 */
final class JCudaPointers {
    private static final MethodType GET_LONG = MethodType.methodType(long.class, Object.class);
    private static final MethodType SET_LONG = MethodType.methodType(void.class, Object.class, long.class);
    private static final MethodType GET_OBJECT = MethodType.methodType(Object.class, Object.class);

    private final ClassLoader loader;
    final NativeObjectClass pointer;
    final NativeObjectClass devicePointer;
    final NativeObjectClass context;
    final NativeObjectClass device;
    final NativeObjectClass allocationHandle;

    private final MethodHandle nativePointerGetter;
    private final MethodHandle nativePointerSetter;
    private final MethodHandle byteOffsetGetter;
    private final MethodHandle byteOffsetSetter;
    private final MethodHandle bufferGetter;
    private final MethodHandle pointersGetter;
    private final MethodHandle pointerToBuffer;
    private final MethodHandle pointerToInts;
    private final MethodHandle pointerToLongs;

    JCudaPointers(JCudaDriverCalls jcuda) throws ReflectiveOperationException {
        loader = jcuda.loader;
        Class<?> nativePointerObject = jcuda.type("jcuda.NativePointerObject");
        pointer = new NativeObjectClass(jcuda, "jcuda.Pointer");
        devicePointer = new NativeObjectClass(jcuda, "jcuda.driver.CUdeviceptr");
        context = new NativeObjectClass(jcuda, "jcuda.driver.CUcontext");
        device = new NativeObjectClass(jcuda, "jcuda.driver.CUdevice");
        allocationHandle = new NativeObjectClass(jcuda, "jcuda.driver.CUmemGenericAllocationHandle");
        // JCuda lives in the app loader's unnamed module, which opens every package: setAccessible succeeds.
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Field nativePointer = accessible(nativePointerObject.getDeclaredField("nativePointer"));
        Field byteOffset = accessible(pointer.type.getDeclaredField("byteOffset"));
        nativePointerGetter = lookup.unreflectGetter(nativePointer).asType(GET_LONG);
        nativePointerSetter = lookup.unreflectSetter(nativePointer).asType(SET_LONG);
        byteOffsetGetter = lookup.unreflectGetter(byteOffset).asType(GET_LONG);
        byteOffsetSetter = lookup.unreflectSetter(byteOffset).asType(SET_LONG);
        bufferGetter = lookup.unreflectGetter(accessible(pointer.type.getDeclaredField("buffer"))).asType(GET_OBJECT);
        pointersGetter = lookup.unreflectGetter(accessible(pointer.type.getDeclaredField("pointers")))
                .asType(GET_OBJECT);
        pointerToBuffer = jcuda.staticMethod(pointer.type, "to", pointer.type, Buffer.class);
        pointerToInts = jcuda.staticMethod(pointer.type, "to", pointer.type, int[].class);
        pointerToLongs = jcuda.staticMethod(pointer.type, "to", pointer.type, long[].class);
    }

    private static Field accessible(Field f) {
        f.setAccessible(true);
        return f;
    }

    /** Whether {@code o} is one of the pointer objects addresses are read of: {@code jcuda.Pointer} or a subclass. */
    boolean isPointer(Object o) {
        return pointer.type.isInstance(o);
    }

    /** The device address {@code pointer} holds: its native pointer plus its byte offset. */
    long address(Object pointer) {
        requirePointer(pointer);
        return nativePointer(pointer) + byteOffset(pointer);
    }

    /** Makes {@code pointer} hold {@code address} at offset 0; never a pointer into Java memory. */
    void setAddress(Object pointer, long address) throws DeviceException {
        requirePointer(pointer);
        if (pointsToJavaMemory(pointer)) {
            throw new DeviceException("cannot set the device address of " + pointer
                    + ": it points to Java memory (a buffer or array), not to device memory");
        }
        nativePointer(pointer, address);
        byteOffset(pointer, 0);
    }

    private void requirePointer(Object pointer) {
        if (!isPointer(pointer)) {
            throw new IllegalArgumentException("not a JCuda pointer of " + loader + ": "
                    + (pointer == null ? "null" : pointer.getClass().getName()));
        }
    }

    /** The value a JCuda object holds for the driver: an address, a context or allocation handle, a device ordinal. */
    long nativePointer(Object o) {
        try {
            return (long) nativePointerGetter.invokeExact(o);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the address of " + o, e);
        }
    }

    private void nativePointer(Object o, long value) {
        try {
            nativePointerSetter.invokeExact(o, value);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot set the address of " + o, e);
        }
    }

    private long byteOffset(Object p) {
        try {
            return (long) byteOffsetGetter.invokeExact(p);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the byte offset of " + p, e);
        }
    }

    private void byteOffset(Object p, long value) {
        try {
            byteOffsetSetter.invokeExact(p, value);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot set the byte offset of " + p, e);
        }
    }

    /** Whether a {@code jcuda.Pointer} points into Java memory (a buffer or an array of pointer objects). */
    private boolean pointsToJavaMemory(Object p) {
        try {
            return (Object) bufferGetter.invokeExact(p) != null || (Object) pointersGetter.invokeExact(p) != null;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the target of " + p, e);
        }
    }

    /** A {@code Pointer} to {@code values}, for a call to fill. */
    Object pointerTo(int[] values) throws DeviceException {
        return JCudaDriverCalls.invoke(pointerToInts, (Object) values);
    }

    /** A {@code Pointer} to {@code values}, for a call to fill. */
    Object pointerTo(long[] values) throws DeviceException {
        return JCudaDriverCalls.invoke(pointerToLongs, (Object) values);
    }

    /** A JCuda pointer to {@code buffer}'s position: {@code Pointer.to} takes a direct buffer's start, so a slice. */
    Object hostPointer(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("device copies need a direct buffer, not " + buffer);
        }
        try {
            return JCudaDriverCalls.invoke(pointerToBuffer, buffer.slice());
        } catch (DeviceException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * One of JCuda's classes whose objects hold a single value for the driver in {@code nativePointer}: a pointer, a
     * context, a device, an allocation handle.
     */
    final class NativeObjectClass {
        final Class<?> type;
        private final MethodHandle constructor;

        private NativeObjectClass(JCudaDriverCalls jcuda, String name) throws ReflectiveOperationException {
            type = jcuda.type(name);
            constructor = jcuda.constructor(type);
        }

        /** A new object holding 0, for a call to fill. */
        Object create() throws DeviceException {
            return JCudaDriverCalls.invoke(constructor);
        }

        /** A new object holding {@code value}: an address, a context or allocation handle, a device ordinal. */
        Object holding(long value) throws DeviceException {
            Object o = create();
            nativePointer(o, value);
            return o;
        }
    }
}
