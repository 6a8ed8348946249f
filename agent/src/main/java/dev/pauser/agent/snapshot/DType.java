package dev.pauser.agent.snapshot;

/** Element types of tensors, named as in the safetensors format. */
public enum DType {
    F64(8), F32(4), I64(8), I32(4), I16(2), U16(2), I8(1), U8(1), BOOL(1);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** bytes per element */
    public int size() {
        return size;
    }

    /** safetensors name, e.g. "F32" */
    public String safetensorsName() {
        return name();
    }
}
