package dev.pauser.agent.device;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * The app's JCuda, reached by reflection on the classes of one class loader: {@code jcuda.driver.JCudaDriver}'s static
 * methods as method handles looked up once, the private address fields of JCuda's pointer objects, and the few JCuda
 * constructors the driver calls need. Pauser never links against JCuda; every JCuda class here is the app's own.
 *
 * <p>Results are read as codes. An app that switched on {@code JCudaDriver.setExceptionsEnabled(true)} makes every
 * failing call throw {@code jcuda.CudaException} instead, whose message is the {@code CUresult} name; that is turned
 * back into the code, so Pauser behaves the same either way and never changes the app's setting.
 */
final class JCudaDriverCalls {
    /** {@code CUresult} values used by name (cuda.h; the same as JCuda's {@code CUresult} constants). */
    static final int CUDA_SUCCESS = 0;
    static final int CUDA_ERROR_INVALID_VALUE = 1;
    static final int CUDA_ERROR_STUB_LIBRARY = 34;
    static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    static final int CUDA_ERROR_NO_DEVICE = 100;

    private static final MethodType CALL = MethodType.methodType(int.class, Object[].class);
    private static final MethodType GET_LONG = MethodType.methodType(long.class, Object.class);
    private static final MethodType SET_LONG = MethodType.methodType(void.class, Object.class, long.class);
    private static final MethodType GET_OBJECT = MethodType.methodType(Object.class, Object.class);

    final ClassLoader loader;
    final Class<?> driver;
    final Class<?> nativePointerObject;
    final Class<?> pointer;
    final Class<?> devicePointer;
    final Class<?> context;
    final Class<?> device;
    final Class<?> allocationHandle;
    private final Class<?> cudaException;

    private final MethodHandle nativePointerGetter;
    private final MethodHandle nativePointerSetter;
    private final MethodHandle byteOffsetGetter;
    private final MethodHandle byteOffsetSetter;
    private final MethodHandle bufferGetter;
    private final MethodHandle pointersGetter;
    private final Map<String, Integer> resultCodes = new HashMap<>();
    private final MethodHandle resultName;

    JCudaDriverCalls(Class<?> driver) throws ReflectiveOperationException {
        this.driver = driver;
        this.loader = driver.getClassLoader();
        nativePointerObject = type("jcuda.NativePointerObject");
        pointer = type("jcuda.Pointer");
        devicePointer = type("jcuda.driver.CUdeviceptr");
        context = type("jcuda.driver.CUcontext");
        device = type("jcuda.driver.CUdevice");
        allocationHandle = type("jcuda.driver.CUmemGenericAllocationHandle");
        cudaException = type("jcuda.CudaException");
        // JCuda lives in the app loader's unnamed module, which opens every package: setAccessible succeeds.
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Field nativePointer = accessible(nativePointerObject.getDeclaredField("nativePointer"));
        Field byteOffset = accessible(pointer.getDeclaredField("byteOffset"));
        nativePointerGetter = lookup.unreflectGetter(nativePointer).asType(GET_LONG);
        nativePointerSetter = lookup.unreflectSetter(nativePointer).asType(SET_LONG);
        byteOffsetGetter = lookup.unreflectGetter(byteOffset).asType(GET_LONG);
        byteOffsetSetter = lookup.unreflectSetter(byteOffset).asType(SET_LONG);
        bufferGetter = lookup.unreflectGetter(accessible(pointer.getDeclaredField("buffer"))).asType(GET_OBJECT);
        pointersGetter = lookup.unreflectGetter(accessible(pointer.getDeclaredField("pointers"))).asType(GET_OBJECT);
        Class<?> results = type("jcuda.driver.CUresult");
        for (Field f : results.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                resultCodes.put(f.getName(), f.getInt(null));
            }
        }
        resultName = MethodHandles.publicLookup().findStatic(results, "stringFor",
                MethodType.methodType(String.class, int.class));
    }

    private Class<?> type(String name) throws ClassNotFoundException {
        return Class.forName(name, false, loader);
    }

    private static Field accessible(Field f) {
        f.setAccessible(true);
        return f;
    }

    /** A static method of {@code JCudaDriver} returning a {@code CUresult}, as a handle taking its arguments as an array. */
    Call call(String name, Class<?>... parameterTypes) throws ReflectiveOperationException {
        Method m = driver.getMethod(name, parameterTypes);
        MethodHandle h = MethodHandles.publicLookup().unreflect(m);
        return new Call(name, h.asType(h.type().generic().changeReturnType(int.class))
                .asSpreader(Object[].class, parameterTypes.length).asType(CALL));
    }

    /** A public constructor of one of the app's JCuda classes, taking its arguments as an array. */
    MethodHandle constructor(Class<?> type, Class<?>... parameterTypes) throws ReflectiveOperationException {
        MethodHandle h = MethodHandles.publicLookup().findConstructor(type, MethodType.methodType(void.class,
                parameterTypes));
        return h.asType(h.type().generic()).asSpreader(Object[].class, parameterTypes.length);
    }

    /** A public static method of one of the app's JCuda classes, taking its arguments as an array. */
    MethodHandle staticMethod(Class<?> type, String name, Class<?> returnType, Class<?>... parameterTypes)
            throws ReflectiveOperationException {
        MethodHandle h = MethodHandles.publicLookup().findStatic(type, name, MethodType.methodType(returnType,
                parameterTypes));
        return h.asType(h.type().generic()).asSpreader(Object[].class, parameterTypes.length);
    }

    /** A public instance method of one of the app's JCuda classes, taking (object, arguments...) as an array. */
    MethodHandle virtualMethod(Class<?> type, String name, Class<?> returnType, Class<?>... parameterTypes)
            throws ReflectiveOperationException {
        MethodHandle h = MethodHandles.publicLookup().findVirtual(type, name, MethodType.methodType(returnType,
                parameterTypes));
        return h.asType(h.type().generic()).asSpreader(Object[].class, parameterTypes.length + 1);
    }

    /** A public instance field of one of the app's JCuda classes, as a setter taking (object, value). */
    MethodHandle fieldSetter(Class<?> type, String name) throws ReflectiveOperationException {
        MethodHandle h = MethodHandles.publicLookup().unreflectSetter(type.getField(name));
        return h.asType(h.type().generic());
    }

    /** Runs {@code call}; its {@code CUresult}, also where the app made JCuda throw on errors. */
    int result(Call call, Object... args) throws DeviceException {
        try {
            return (int) call.handle.invokeExact(args);
        } catch (RuntimeException e) {
            if (cudaException.isInstance(e)) {
                Integer code = resultCodes.get(String.valueOf(e.getMessage()).trim());
                if (code != null) {
                    return code;
                }
                throw new DeviceException(call.name + ": " + e.getMessage(), e);
            }
            throw new DeviceException(call.name + " failed: " + e, e);
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            throw new DeviceException(call.name + " failed: " + e, e);
        }
    }

    /** Runs {@code call}; a {@link DeviceException} naming the call, {@code what} and the result unless it succeeded. */
    void check(Call call, String what, Object... args) throws DeviceException {
        int code = result(call, args);
        if (code != CUDA_SUCCESS) {
            throw failure(call, what, code);
        }
    }

    DeviceException failure(Call call, String what, int code) {
        return new DeviceException(call.name + (what.isEmpty() ? "" : " (" + what + ")") + " failed: " + name(code));
    }

    /** The {@code CUresult} name of {@code code}, as JCuda spells it ({@code CUDA_ERROR_OUT_OF_MEMORY}). */
    String name(int code) {
        try {
            return (String) resultName.invoke(code);
        } catch (Throwable e) {
            return "CUresult " + code;
        }
    }

    /** Invokes a handle made by {@link #constructor} or {@link #staticMethod}. */
    static Object invoke(MethodHandle h, Object... args) throws DeviceException {
        try {
            return h.invoke(args);
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            throw new DeviceException("JCuda failed: " + e, e);
        }
    }

    /** Sets a field through a handle made by {@link #fieldSetter}. */
    static void set(MethodHandle setter, Object target, Object value) throws DeviceException {
        try {
            setter.invoke(target, value);
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            throw new DeviceException("JCuda failed: " + e, e);
        }
    }

    long nativePointer(Object o) {
        try {
            return (long) nativePointerGetter.invokeExact(o);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the address of " + o, e);
        }
    }

    void nativePointer(Object o, long value) {
        try {
            nativePointerSetter.invokeExact(o, value);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot set the address of " + o, e);
        }
    }

    long byteOffset(Object p) {
        try {
            return (long) byteOffsetGetter.invokeExact(p);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the byte offset of " + p, e);
        }
    }

    void byteOffset(Object p, long value) {
        try {
            byteOffsetSetter.invokeExact(p, value);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot set the byte offset of " + p, e);
        }
    }

    /** Whether a {@code jcuda.Pointer} points into Java memory (a buffer or an array of pointer objects). */
    boolean pointsToJavaMemory(Object p) {
        try {
            return (Object) bufferGetter.invokeExact(p) != null || (Object) pointersGetter.invokeExact(p) != null;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the target of " + p, e);
        }
    }

    /** One {@code JCudaDriver} method: its name, for messages, and its handle. */
    static final class Call {
        final String name;
        final MethodHandle handle;

        Call(String name, MethodHandle handle) {
            this.name = name;
            this.handle = handle;
        }
    }
}
