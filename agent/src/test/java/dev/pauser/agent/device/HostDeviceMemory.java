package dev.pauser.agent.device;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * {@link DeviceMemory} over host memory, for tests without a GPU. Each "device allocation" is a direct buffer; its
 * address is a made-up number in a range of its own (so a host address is never mistaken for device memory), and
 * {@link #allocationAt} finds it like the driver's {@code cuMemGetAddressRange}. Pointer objects are JCuda's real
 * {@code jcuda.Pointer}/{@code jcuda.driver.CUdeviceptr} (they load without the native library): address =
 * {@code nativePointer} + {@code byteOffset}, as the driver binding reads them.
 *
 * <p>What the tests check through it: the contexts current on each thread (a stack per thread: {@link #depth}, and every
 * in-context operation fails unless the memory it touches belongs to the current context); work queued by "kernels"
 * ({@link #queueWrite}) lands only at {@link #synchronize}, so a copy taken before synchronizing sees stale bytes; free
 * memory is {@link #capacity} minus what is allocated; {@link #failAllocate} and {@link #failAllocateAt} make those
 * fail; every operation is appended to {@link #events}, and {@link #onCopyToHost} is called at the start of each
 * device-to-host copy. Thread-safe.
 */
public final class HostDeviceMemory implements DeviceMemory {
    public static final DeviceContext CONTEXT = new DeviceContext(0xC0FFEE, 0);
    public static final DeviceContext OTHER_CONTEXT = new DeviceContext(0xBEEF, 1);
    private static final long FIRST_ADDRESS = 0x7f00_0000_0000L;
    private static final long ALIGN = 512;

    private record Block(long base, ByteBuffer bytes, DeviceContext context) {
    }

    private final TreeMap<Long, Block> blocks = new TreeMap<>();
    private final Map<Thread, Deque<DeviceContext>> current = new ConcurrentHashMap<>();
    private final List<Object[]> queued = new ArrayList<>();
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());
    private long nextAddress = FIRST_ADDRESS;
    private volatile long capacity = 1L << 30;
    private volatile boolean failAllocate;
    private volatile boolean failAllocateAt;
    private volatile boolean sizeUnknown;
    private volatile Consumer<Long> onCopyToHost = a -> { };
    private volatile int pinnedLive;

    // ------------------------------------------------------------------------------------------------- test control

    /** Device memory in all; free = this minus what is allocated. */
    public void capacity(long bytes) {
        capacity = bytes;
    }

    public void failAllocate(boolean fail) {
        failAllocate = fail;
    }

    public void failAllocateAt(boolean fail) {
        failAllocateAt = fail;
    }

    /** Makes {@link #allocationAt} report the size as unknown (-1), as for memory the driver did not allocate whole. */
    public void sizeUnknown(boolean unknown) {
        sizeUnknown = unknown;
    }

    /** Called with the source address at the start of every device-to-host copy, on the copying thread. */
    public void onCopyToHost(Consumer<Long> hook) {
        onCopyToHost = hook;
    }

    /** The operations so far, in order ("enter", "sync", "d2h 0x..", "h2d 0x..", "d2d", "alloc", "free", ...). */
    public List<String> events() {
        synchronized (events) {
            return new ArrayList<>(events);
        }
    }

    public void clearEvents() {
        events.clear();
    }

    /** How many contexts {@code thread} has current (pushed and not popped). */
    public int depth(Thread thread) {
        Deque<DeviceContext> d = current.get(thread);
        return d == null ? 0 : d.size();
    }

    /** The app's cuMemAlloc: {@code bytes} of device memory in {@code context}, filled with {@code fill}. */
    public synchronized long appAllocate(DeviceContext context, long bytes, byte fill) {
        long address = reserve(bytes);
        ByteBuffer b = ByteBuffer.allocateDirect((int) bytes);
        for (int i = 0; i < bytes; i++) {
            b.put(i, fill);
        }
        blocks.put(address, new Block(address, b, context));
        return address;
    }

    /** The app writing device memory directly (a kernel that has finished). */
    public synchronized void appWrite(long address, byte[] data) {
        Block b = block(address);
        b.bytes().put((int) (address - b.base()), data);
    }

    /** A kernel queued on a stream: its write lands at the next {@link #synchronize} in the block's context. */
    public synchronized void queueWrite(long address, byte[] data) {
        queued.add(new Object[] {address, data.clone()});
    }

    /** Reads device memory as the app would after a copy back. */
    public synchronized byte[] appRead(long address, int n) {
        Block b = block(address);
        byte[] out = new byte[n];
        b.bytes().get((int) (address - b.base()), out);
        return out;
    }

    /** Bytes allocated on the "device" (the app's and Pauser's). */
    public synchronized long allocatedBytes() {
        long n = 0;
        for (Block b : blocks.values()) {
            n += b.bytes().capacity();
        }
        return n;
    }

    public synchronized boolean isAllocated(long address) {
        return blocks.containsKey(address);
    }

    public int pinnedLive() {
        return pinnedLive;
    }

    /** A JCuda pointer object holding {@code address}. */
    public static Object devicePointer(long address) {
        Object p = new jcuda.driver.CUdeviceptr();
        setNative(p, address);
        return p;
    }

    // ------------------------------------------------------------------------------------------------ DeviceMemory

    @Override
    public long address(Object pointer) {
        try {
            return nativePointer().getLong(pointer) + byteOffset().getLong(pointer);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void setAddress(Object pointer, long address) {
        setNative(pointer, address);
        try {
            byteOffset().setLong(pointer, 0);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        events.add("setAddress 0x" + Long.toHexString(address));
    }

    @Override
    public synchronized Allocation allocationAt(long address) {
        Map.Entry<Long, Block> e = blocks.floorEntry(address);
        if (e == null || address >= e.getKey() + e.getValue().bytes().capacity()) {
            return null;
        }
        Block b = e.getValue();
        return new Allocation(b.base(), sizeUnknown ? -1 : b.bytes().capacity(), b.context());
    }

    @Override
    public ContextScope enter(DeviceContext context) {
        Deque<DeviceContext> stack = current.computeIfAbsent(Thread.currentThread(), t -> new ArrayDeque<>());
        stack.push(context);
        events.add("enter " + Thread.currentThread().getName());
        Thread owner = Thread.currentThread();
        return () -> {
            if (Thread.currentThread() != owner || stack.peek() != context) {
                throw new DeviceException("context scope closed on the wrong thread or out of order");
            }
            stack.pop();
            events.add("exit " + owner.getName());
        };
    }

    private DeviceContext currentContext() throws DeviceException {
        Deque<DeviceContext> d = current.get(Thread.currentThread());
        if (d == null || d.isEmpty()) {
            throw new DeviceException("no context current on " + Thread.currentThread().getName());
        }
        return d.peek();
    }

    @Override
    public synchronized void synchronize() throws DeviceException {
        DeviceContext ctx = currentContext();
        for (Object[] q : new ArrayList<>(queued)) {
            Block b = block((Long) q[0]);
            if (b.context().equals(ctx)) {
                b.bytes().put((int) ((Long) q[0] - b.base()), (byte[]) q[1]);
                queued.remove(q);
            }
        }
        events.add("sync");
    }

    @Override
    public synchronized long freeBytes() throws DeviceException {
        currentContext();
        return capacity - allocatedBytes();
    }

    @Override
    public synchronized long allocate(long bytes) throws DeviceException {
        DeviceContext ctx = currentContext();
        if (failAllocate || bytes > capacity - allocatedBytes()) {
            throw new DeviceException("cuMemAlloc(" + bytes + ") failed: CUDA_ERROR_OUT_OF_MEMORY");
        }
        long address = reserve(bytes);
        blocks.put(address, new Block(address, ByteBuffer.allocateDirect((int) bytes), ctx));
        events.add("alloc 0x" + Long.toHexString(address));
        return address;
    }

    @Override
    public synchronized boolean allocateAt(long address, long bytes) throws DeviceException {
        DeviceContext ctx = currentContext();
        if (failAllocateAt || bytes > capacity - allocatedBytes()) {
            return false;
        }
        Map.Entry<Long, Block> below = blocks.floorEntry(address + bytes - 1);
        if (below != null && below.getKey() + below.getValue().bytes().capacity() > address) {
            return false;
        }
        blocks.put(address, new Block(address, ByteBuffer.allocateDirect((int) bytes), ctx));
        events.add("allocAt 0x" + Long.toHexString(address));
        return true;
    }

    @Override
    public synchronized void free(long address) throws DeviceException {
        Block b = blocks.get(address);
        if (b == null) {
            throw new DeviceException("cuMemFree(0x" + Long.toHexString(address) + "): not an allocation");
        }
        checkContext(b);
        blocks.remove(address);
        events.add("free 0x" + Long.toHexString(address));
    }

    @Override
    public synchronized PinnedBuffer allocatePinned(long bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect((int) bytes);
        pinnedLive++;
        events.add("pinned " + bytes);
        return new PinnedBuffer() {
            private boolean closed;

            @Override
            public ByteBuffer buffer() {
                return b;
            }

            @Override
            public void close() {
                synchronized (HostDeviceMemory.this) {
                    if (!closed) {
                        closed = true;
                        pinnedLive--;
                    }
                }
            }
        };
    }

    @Override
    public void copyToHost(ByteBuffer dst, long src) throws DeviceException {
        onCopyToHost.accept(src);
        synchronized (this) {
            Block b = checkedRange(src, dst.remaining());
            events.add("d2h 0x" + Long.toHexString(src) + " " + Thread.currentThread().getName());
            ByteBuffer from = b.bytes().duplicate();
            from.position((int) (src - b.base())).limit((int) (src - b.base()) + dst.remaining());
            dst.put(from);
        }
    }

    @Override
    public synchronized void copyToDevice(long dst, ByteBuffer src) throws DeviceException {
        Block b = checkedRange(dst, src.remaining());
        events.add("h2d 0x" + Long.toHexString(dst));
        ByteBuffer to = b.bytes().duplicate();
        to.position((int) (dst - b.base()));
        to.put(src);
    }

    @Override
    public synchronized void copyDeviceToDevice(long dst, long src, long bytes) throws DeviceException {
        Block from = checkedRange(src, bytes);
        Block to = checkedRange(dst, bytes);
        events.add("d2d 0x" + Long.toHexString(src));
        ByteBuffer s = from.bytes().duplicate();
        s.position((int) (src - from.base())).limit((int) (src - from.base() + bytes));
        ByteBuffer d = to.bytes().duplicate();
        d.position((int) (dst - to.base()));
        d.put(s);
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    private long reserve(long bytes) {
        long address = nextAddress;
        nextAddress += (Math.max(bytes, 1) + ALIGN - 1) / ALIGN * ALIGN + ALIGN; // a gap: no two blocks touch
        return address;
    }

    private Block block(long address) {
        Map.Entry<Long, Block> e = blocks.floorEntry(address);
        if (e == null || address >= e.getKey() + e.getValue().bytes().capacity()) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not device memory");
        }
        return e.getValue();
    }

    private Block checkedRange(long address, long bytes) throws DeviceException {
        Map.Entry<Long, Block> e = blocks.floorEntry(address);
        if (e == null || address + bytes > e.getKey() + e.getValue().bytes().capacity()) {
            throw new DeviceException("0x" + Long.toHexString(address) + " + " + bytes + " is not device memory");
        }
        checkContext(e.getValue());
        return e.getValue();
    }

    private void checkContext(Block b) throws DeviceException {
        DeviceContext ctx = currentContext();
        if (!ctx.equals(b.context())) {
            throw new DeviceException("memory at 0x" + Long.toHexString(b.base()) + " belongs to another context");
        }
    }

    private static Field nativePointer() {
        return field("jcuda.NativePointerObject", "nativePointer");
    }

    private static Field byteOffset() {
        return field("jcuda.Pointer", "byteOffset");
    }

    private static Field field(String cls, String name) {
        try {
            Field f = Class.forName(cls).getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void setNative(Object pointer, long address) {
        try {
            nativePointer().setLong(pointer, address);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
