package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceStaging;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The reusable host staging set: one direct, page-aligned, little-endian buffer per tensor key, kept across checkpoints
 * and grown only when a value got bigger. {@link ByteBuffer#allocateDirect} zero-fills new memory, which touches every
 * page, so the first capture into a fresh slot doesn't pay page faults while the steps are held. Its methods are
 * synchronized: the checkpoint preparation grows the slots in the background ({@link #prepare}) while a capture may
 * begin; the buffers handed out are used by one capture at a time.
 */
final class Staging {
    static final int ALIGN = 4096;
    /**
     * The most one tensor can hold: the shared model carries it in one ByteBuffer, and the checkpoint reader reads it
     * into one ({@link Json#MAX_VALUE_BYTES}, which this stays below so whatever is written reads back).
     */
    static final long MAX_BYTES = Json.MAX_VALUE_BYTES / ALIGN * ALIGN;

    private final Map<String, ByteBuffer> slots = new HashMap<>();
    private long totalBytes;
    /** Makes the staging of GPU fields, once their device memory is known. */
    private final Function<DeviceMemory, DeviceStaging> deviceStagingFactory;
    private DeviceStaging device;

    Staging() {
        this(DeviceStaging::new);
    }

    Staging(Function<DeviceMemory, DeviceStaging> deviceStagingFactory) {
        this.deviceStagingFactory = deviceStagingFactory;
    }

    /** The staging of GPU fields (shadows on the device, pinned host buffers), made at the first GPU field. */
    DeviceStaging device(DeviceMemory memory) {
        if (device == null) {
            device = deviceStagingFactory.apply(memory);
        } else if (device.memory() != memory) {
            throw new IllegalStateException("one trainer's GPU fields must use one device memory");
        }
        return device;
    }

    /** The staging of GPU fields, or null when no GPU field was captured yet. */
    DeviceStaging deviceOrNull() {
        return device;
    }

    /** A buffer with position 0 and limit {@code bytes}, little-endian, for the key; reused when big enough. */
    synchronized ByteBuffer slot(String key, long bytes) {
        if (bytes > MAX_BYTES) {
            throw new IllegalStateException("'" + key + "' holds " + bytes + " bytes; one tensor can hold at most "
                    + MAX_BYTES + " (split it into several fields)");
        }
        ByteBuffer b = slots.get(key);
        if (b == null || b.capacity() < bytes) {
            if (b != null) {
                totalBytes -= b.capacity();
            }
            long capacity = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
            b = ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE, capacity + ALIGN)).alignedSlice(ALIGN);
            slots.put(key, b);
            totalBytes += b.capacity();
        }
        ByteBuffer view = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        view.clear().limit((int) bytes);
        return view;
    }

    /**
     * Takes {@code buffer} as the key's slot when the key has none yet and the buffer is direct and page-aligned (a
     * checkpoint's tensor buffer after the restore), so the first capture after a resume needs no new direct memory.
     * Returns whether it was taken; the caller must not use the buffer afterwards.
     */
    synchronized boolean adopt(String key, ByteBuffer buffer) {
        if (slots.containsKey(key) || !buffer.isDirect() || buffer.isReadOnly() || buffer.capacity() < ALIGN
                || buffer.alignmentOffset(0, ALIGN) != 0) {
            return false;
        }
        ByteBuffer b = buffer.duplicate().clear();
        slots.put(key, b);
        totalBytes += b.capacity();
        return true;
    }

    /**
     * Bytes that {@link #prepare} would allocate for these keys and sizes: those of slots that don't exist or are too
     * small, as page-aligned capacities; sizes a slot can't hold are left out (their capture fails, naming them).
     */
    synchronized long missingBytes(Map<String, Long> sizes) {
        long missing = 0;
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            long bytes = e.getValue();
            ByteBuffer b = slots.get(e.getKey());
            if (bytes >= 0 && bytes <= MAX_BYTES && (b == null || b.capacity() < bytes)) {
                missing += Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
            }
        }
        return missing;
    }

    /** Allocates (and so touches) the slots of {@link #missingBytes} ahead of the first capture. */
    void prepare(Map<String, Long> sizes) {
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            long bytes = e.getValue();
            if (bytes >= 0 && bytes <= MAX_BYTES) {
                slot(e.getKey(), bytes);
            }
        }
    }

    /** Bytes held by all slots. */
    synchronized long totalBytes() {
        return totalBytes;
    }
}
