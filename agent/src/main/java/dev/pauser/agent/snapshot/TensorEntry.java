package dev.pauser.agent.snapshot;

/** data: little-endian element bytes from position() to limit(); never modified by the store */
public record TensorEntry(String key, String declaringClass, String javaType, DType dtype, long[] shape,
        java.nio.ByteBuffer data) implements Entry {
}
