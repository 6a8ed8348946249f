package dev.pauser.agent.device;

import dev.pauser.agent.log.Log;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gives the GPU memory of the {@code @TrainState} fields back to the device while the run is paused, and takes it again
 * before the run resumes ({@code releaseGpuOnPause=true}).
 *
 * <p>{@link #release}: each allocation the fields point at is copied to pinned host memory (its context current, after a
 * synchronize), then freed, and so are Pauser's shadows. {@link #reacquire}: each allocation is made again, at its old
 * address where the driver can map it there ({@link DeviceMemory#allocateAt}), so raw addresses the app copied elsewhere
 * (kernel arguments, structs) stay valid; else anywhere, and the pointer objects are set to the new address (one log
 * line each). Then the bytes are copied back and the pinned copies freed. A failed {@code reacquire} frees what it
 * allocated, keeps the host copies, and throws: a later call tries again.
 *
 * <p>Threads: both on the gate's control thread {@code pauser-gate} while every step thread is held (the pause in
 * effect). Not thread-safe.
 */
public final class DeviceRelease {

    /** A GPU field's pointer object, what it is called in messages, and the device memory it lives in. */
    public record Target(String name, Object pointer, DeviceMemory memory) {
    }

    /** One released allocation: the pointer objects that held it, its old place, and its bytes on the host. */
    private static final class Held {
        final DeviceMemory memory;
        final List<Object> pointers = new ArrayList<>();
        final String name;
        final long address;
        final long bytes;
        final DeviceMemory.DeviceContext context;
        final DeviceMemory.PinnedBuffer copy;
        long newAddress;

        Held(DeviceMemory memory, String name, long address, long bytes, DeviceMemory.DeviceContext context,
                DeviceMemory.PinnedBuffer copy) {
            this.memory = memory;
            this.name = name;
            this.address = address;
            this.bytes = bytes;
            this.context = context;
            this.copy = copy;
        }
    }

    private final List<Held> held = new ArrayList<>();

    /** True while memory is released (host copies held). */
    public boolean holding() {
        return !held.isEmpty();
    }

    /** The device bytes released now; 0 when none. */
    public long releasedBytes() {
        long n = 0;
        for (Held h : held) {
            n += h.bytes;
        }
        return n;
    }

    /**
     * Copies every target's allocation to pinned host memory and frees it, then frees the shadows. Returns the bytes
     * given back. On a failure before anything was freed nothing is released (the copies are dropped) and it throws.
     */
    public long release(List<Target> targets, List<DeviceStaging> stagings) throws DeviceException {
        if (holding()) {
            return 0;
        }
        Map<Long, Held> byAddress = new java.util.HashMap<>();
        List<Held> copies = new ArrayList<>();
        try {
            for (Target t : targets) {
                long address = t.memory().address(t.pointer());
                if (address == 0) {
                    continue;
                }
                Held same = byAddress.get(address);
                if (same != null) {
                    same.pointers.add(t.pointer()); // two fields holding one allocation: one copy, both set back
                    continue;
                }
                DeviceMemory.Allocation a = t.memory().allocationAt(address);
                if (a == null || a.base() != address || a.bytes() <= 0) {
                    throw new DeviceException(t.name() + ": " + Long.toHexString(address) + " is not the start of a"
                            + " device allocation of known size; nothing was released");
                }
                DeviceMemory.PinnedBuffer copy = t.memory().allocatePinned(a.bytes());
                Held h = new Held(t.memory(), t.name(), address, a.bytes(), a.context(), copy);
                h.pointers.add(t.pointer());
                copies.add(h);
                byAddress.put(address, h);
                try (DeviceMemory.ContextScope scope = t.memory().enter(a.context())) {
                    t.memory().synchronize();
                    ByteBuffer dst = copy.buffer().duplicate();
                    dst.clear().limit((int) a.bytes());
                    t.memory().copyToHost(dst.slice(), address);
                }
            }
        } catch (DeviceException | RuntimeException e) {
            closeAll(copies);
            throw e;
        }
        // Every byte is on the host now: free. What was freed before a failure is held (and comes back on resume).
        for (int i = 0; i < copies.size(); i++) {
            Held h = copies.get(i);
            try (DeviceMemory.ContextScope scope = h.memory.enter(h.context)) {
                h.memory.free(h.address);
            } catch (DeviceException | RuntimeException e) {
                closeAll(copies.subList(i, copies.size()));
                throw e;
            }
            held.add(h);
        }
        long freed = releasedBytes();
        for (DeviceStaging s : stagings) {
            freed += s.freeShadows();
        }
        return freed;
    }

    /**
     * Allocates every released allocation again (at its old address where possible), copies the bytes back, sets the
     * pointer objects that had to move, and drops the host copies. On a failure everything this call allocated is freed
     * again, the host copies are kept, and it throws; {@link #holding} stays true.
     */
    public void reacquire() throws DeviceException {
        List<Held> placed = new ArrayList<>();
        try {
            for (Held h : held) {
                try (DeviceMemory.ContextScope scope = h.memory.enter(h.context)) {
                    h.newAddress = h.memory.allocateAt(h.address, h.bytes) ? h.address : h.memory.allocate(h.bytes);
                    placed.add(h);
                    ByteBuffer src = h.copy.buffer().duplicate();
                    src.clear().limit((int) h.bytes);
                    h.memory.copyToDevice(h.newAddress, src.slice());
                    h.memory.synchronize();
                }
            }
        } catch (DeviceException | RuntimeException e) {
            for (Held h : placed) {
                try (DeviceMemory.ContextScope scope = h.memory.enter(h.context)) {
                    h.memory.free(h.newAddress);
                } catch (DeviceException again) {
                    Log.warn("freeing the GPU memory of " + h.name + " after a failed resume failed too: "
                            + again.getMessage());
                }
            }
            throw e;
        }
        for (Held h : held) {
            if (h.newAddress != h.address) {
                for (Object p : h.pointers) {
                    h.memory.setAddress(p, h.newAddress);
                }
                Log.info("the GPU memory of " + h.name + " came back at 0x" + Long.toHexString(h.newAddress)
                        + ", not at its old address 0x" + Long.toHexString(h.address) + ": its pointer object now"
                        + " holds the new address; copies of the old raw address made by the program are stale");
            }
        }
        closeAll(held);
        held.clear();
    }

    private static void closeAll(List<Held> hs) {
        Map<DeviceMemory.PinnedBuffer, Boolean> closed = new IdentityHashMap<>();
        for (Held h : hs) {
            if (closed.put(h.copy, Boolean.TRUE) == null) {
                try {
                    h.copy.close();
                } catch (DeviceException e) {
                    Log.warn("freeing the pinned host copy of " + h.name + " failed: " + e.getMessage());
                }
            }
        }
    }
}
