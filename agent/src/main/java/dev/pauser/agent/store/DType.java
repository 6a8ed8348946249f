package dev.pauser.agent.store;

/**
 * Element types of a {@link TensorEntry}. Every one has the same name in the safetensors format, so a Python reader maps
 * them one to one (F64 = float64, I16 = int16, U16 = uint16, F16 = float16, BF16 = bfloat16, BOOL = bool, one byte, 0
 * or 1). F16, BF16, U32 and U64 come only from GPU fields, whose dtype the app names.
 */
public enum DType {
    F64(8), F32(4), I64(8), U64(8), I32(4), U32(4), I16(2), U16(2), F16(2), BF16(2), I8(1), U8(1), BOOL(1);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The safetensors name, e.g. {@code "F32"}. */
    public String safetensorsName() {
        return name();
    }

    /** The type for a safetensors name, or {@code null} when it is not one Pauser writes. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
