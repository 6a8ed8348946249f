package dev.pauser.agent.device;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code CUresult} codes and their names, both ways, as the app's JCuda spells them ({@code jcuda.driver.CUresult}):
 * the name of a code for messages, the code of a name for a {@code CudaException} (whose message is the name), and what
 * a failed {@code cuInit} means for the user.
 *
 * <p>Threads: any; nothing changes after construction.
 */
final class JCudaResults {
    /** {@code CUresult} values used by name (cuda.h; the same as JCuda's {@code CUresult} constants). */
    static final int CUDA_SUCCESS = 0;
    static final int CUDA_ERROR_INVALID_VALUE = 1;
    static final int CUDA_ERROR_STUB_LIBRARY = 34;
    static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    static final int CUDA_ERROR_NO_DEVICE = 100;

    private final Map<String, Integer> codes = new HashMap<>();
    private final MethodHandle stringFor;

    JCudaResults(ClassLoader loader) throws ReflectiveOperationException {
        Class<?> results = Class.forName("jcuda.driver.CUresult", false, loader);
        for (Field f : results.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                codes.put(f.getName(), f.getInt(null));
            }
        }
        stringFor = MethodHandles.publicLookup().findStatic(results, "stringFor",
                MethodType.methodType(String.class, int.class));
    }

    /** The {@code CUresult} name of {@code code}, as JCuda spells it ({@code CUDA_ERROR_OUT_OF_MEMORY}). */
    String name(int code) {
        try {
            return (String) stringFor.invoke(code);
        } catch (Throwable e) {
            return "CUresult " + code;
        }
    }

    /** The code a {@code CUresult} name stands for (surrounding blanks ignored); null for a name JCuda lacks. */
    Integer code(String name) {
        return codes.get(String.valueOf(name).trim());
    }

    /** Why the driver can't be used when {@code cuInit} returned {@code code}; the result's name in parentheses. */
    String initFailure(int code) {
        String name = name(code);
        switch (code) {
            case CUDA_ERROR_NO_DEVICE:
                return "no CUDA device (cuInit: " + name + ")";
            case CUDA_ERROR_STUB_LIBRARY:
                return "the libcuda.so.1 found is the CUDA toolkit's stub, not the NVIDIA driver's (cuInit: " + name
                        + "); take the stubs directory out of LD_LIBRARY_PATH";
            case CUDA_ERROR_INSUFFICIENT_DRIVER:
                return "the NVIDIA driver is older than the CUDA version of the app's JCuda (cuInit: " + name + ")";
            default:
                return "cuInit failed: " + name;
        }
    }
}
