package dev.pauser.agent.device;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * The app's JCuda, reached by reflection on the classes of one class loader: {@code jcuda.driver.JCudaDriver}'s static
 * methods as method handles looked up once, and the handles to JCuda's public constructors, methods and fields that the
 * other device classes need. Pauser never links against JCuda; every JCuda class here is the app's own.
 *
 * <p>Results are read as codes. An app that switched on {@code JCudaDriver.setExceptionsEnabled(true)} makes every
 * failing call throw {@code jcuda.CudaException} instead, whose message is the {@code CUresult} name; that is turned
 * back into the code, so Pauser behaves the same either way and never changes the app's setting.
 *
 * <p>Threads: any; nothing changes after construction (the CUDA driver is thread-safe).
 */
final class JCudaDriverCalls {
    private static final MethodType CALL = MethodType.methodType(int.class, Object[].class);

    final ClassLoader loader;
    final Class<?> driver;
    final JCudaResults results;
    private final Class<?> cudaException;

    JCudaDriverCalls(Class<?> driver) throws ReflectiveOperationException {
        this.driver = driver;
        this.loader = driver.getClassLoader();
        cudaException = type("jcuda.CudaException");
        results = new JCudaResults(loader);
    }

    /** One of the app's JCuda classes, by name, not initialized. */
    Class<?> type(String name) throws ClassNotFoundException {
        return Class.forName(name, false, loader);
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
                Integer code = results.code(e.getMessage());
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
        if (code != JCudaResults.CUDA_SUCCESS) {
            throw failure(call, what, code);
        }
    }

    DeviceException failure(Call call, String what, int code) {
        return new DeviceException(call.name + (what.isEmpty() ? "" : " (" + what + ")") + " failed: "
                + results.name(code));
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
