package dev.pauser.agent.device;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuCtxPushCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.device.DeviceMemory.Allocation;
import dev.pauser.agent.device.DeviceMemory.ContextScope;
import dev.pauser.agent.device.DeviceMemory.DeviceContext;
import dev.pauser.agent.device.DeviceMemory.PinnedBuffer;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import jcuda.runtime.JCuda;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link JCudaDevice} against a real CUDA device, through the JCuda on this test's class path, as an app would hold
 * its memory: a context of its own made current on its thread, {@code cuMemAlloc}, runtime-API {@code cudaMalloc}.
 * Skipped (by assumption, with the reason) where no CUDA device can be used. Runs outside Maven too (JUnit's console
 * launcher with this class, JCuda and pauser's classes on the class path): it reads nothing but its class path.
 */
class JCudaDeviceGpuTest {
    private static final long MIB = 1 << 20;

    private static JCudaDevice device;
    private static String unusable;
    private static CUcontext appContext;
    private final List<Long> toFree = new ArrayList<>();

    @BeforeAll
    static void openDevice() throws Exception {
        DeviceMemory memory;
        try {
            memory = DeviceMemories.forLoader(JCudaDeviceGpuTest.class.getClassLoader());
        } catch (DeviceException e) {
            unusable = "no CUDA device can be used here: " + e.getMessage();
            return;
        }
        assertNotNull(memory, "JCuda is on the test class path");
        device = (JCudaDevice) memory;
        CUdevice dev = new CUdevice();
        check(cuDeviceGet(dev, 0));
        appContext = new CUcontext();
        check(cuCtxCreate(appContext, 0, dev)); // current on this thread, as in an app
        check(cuCtxPopCurrent(new CUcontext())); // each test pushes it on its own thread
    }

    @AfterAll
    static void closeDevice() {
        if (appContext != null) {
            cuCtxDestroy(appContext);
        }
    }

    @BeforeEach
    void appContextCurrent() {
        // Each test is reported as skipped with the reason, where a class-level abort would leave no trace.
        Assumptions.assumeTrue(unusable == null, unusable);
        check(cuCtxPushCurrent(appContext));
    }

    @AfterEach
    void freeAndPop() throws Exception {
        if (device == null) {
            return;
        }
        for (long address : toFree) {
            device.free(address);
        }
        CUcontext popped = new CUcontext();
        check(cuCtxPopCurrent(popped));
        assertEquals(handle(appContext), handle(popped), "the test's context was still on top");
    }

    @Test
    void theSameInstanceServesEveryLoaderThatSeesThisJCuda() throws Exception {
        assertSame(device, DeviceMemories.forLoader(JCudaDeviceGpuTest.class.getClassLoader()));
        assertSame(device, DeviceMemories.forLoader(new ClassLoader(JCudaDeviceGpuTest.class.getClassLoader()) { }));
    }

    @Test
    void findsTheAllocationOfAnAddressAtItsStartAndInItsMiddle() throws Exception {
        long bytes = 3 * MIB + 123;
        CUdeviceptr ptr = new CUdeviceptr();
        check(cuMemAlloc(ptr, bytes));
        long base = device.address(ptr);
        toFree.add(base);

        Allocation atStart = device.allocationAt(base);
        assertNotNull(atStart);
        assertEquals(base, atStart.base());
        assertEquals(new DeviceContext(handle(appContext), 0), atStart.context());
        // The driver reports the allocation's extent, which may be the size asked for rounded up to its alignment.
        assertTrue(atStart.bytes() >= bytes && atStart.bytes() < bytes + 2 * MIB, () -> atStart + " for " + bytes);
        assertEquals(atStart, device.allocationAt(base + 2 * MIB + 7), "an address inside the allocation");
        assertEquals(atStart, device.allocationAt(device.address(ptr.withByteOffset(4096))));

        // From a thread with no context current, as Pauser's own threads are; none is left on it.
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                seen.set(List.of(device.allocationAt(base + 5), device.currentContext()));
            } catch (Throwable e) {
                seen.set(e);
            }
        });
        t.start();
        t.join();
        assertEquals(List.of(atStart, 0L), seen.get());
    }

    @Test
    void hostMemoryFreedMemoryAndNullAreNoAllocation() throws Exception {
        Pointer host = new Pointer();
        check(cuMemAllocHost(host, MIB));
        try {
            long hostAddress = device.address(host);
            assertTrue(hostAddress != 0, "cuMemAllocHost's address is in the pointer");
            assertNull(device.allocationAt(hostAddress), "page-locked host memory");
        } finally {
            check(cuMemFreeHost(host));
        }
        assertNull(device.allocationAt(0));
        long freed = device.allocate(MIB);
        device.free(freed);
        assertNull(device.allocationAt(freed), "freed device memory");
    }

    @Test
    @SuppressWarnings("try") // scopes opened for their effect on the thread
    void runtimeApiMemoryIsFoundThroughUnifiedAddressing() throws Exception {
        Pointer p = new Pointer();
        checkRuntime(JCuda.cudaMalloc(p, 2 * MIB));
        try {
            long address = device.address(p);
            Allocation a = device.allocationAt(address + 100);
            assertNotNull(a, "cudaMalloc memory");
            assertEquals(address, a.base());
            assertEquals(2 * MIB, a.bytes());
            // The runtime API allocates in the context current on the thread (the test's), else the primary one.
            assertFalse(a.context().handle() == 0);
            try (ContextScope scope = device.enter(a.context())) {
                ByteBuffer data = randomDirect(4096, 1);
                device.copyToDevice(address, data.duplicate());
                ByteBuffer back = ByteBuffer.allocateDirect(4096);
                device.copyToHost(back, address);
                assertEquals(data.rewind(), back.flip());
            }
        } finally {
            checkRuntime(JCuda.cudaFree(p));
        }
    }

    @Test
    @SuppressWarnings("try") // scopes opened for their effect on the thread
    void enteringAContextPushesItAndClosingPutsBackWhatWasCurrent() throws Exception {
        long mine = handle(appContext);
        assertEquals(mine, device.currentContext());
        CUcontext other = new CUcontext();
        CUdevice dev = new CUdevice();
        check(cuDeviceGet(dev, 0));
        check(cuCtxCreate(other, 0, dev)); // pushed on this thread by the driver
        check(cuCtxPopCurrent(new CUcontext()));
        try {
            try (ContextScope outer = device.enter(new DeviceContext(handle(other), 0))) {
                assertEquals(handle(other), device.currentContext());
                try (ContextScope inner = device.enter(new DeviceContext(mine, 0))) {
                    assertEquals(mine, device.currentContext());
                }
                assertEquals(handle(other), device.currentContext());
            }
            assertEquals(mine, device.currentContext(), "back to the thread's own context");
        } finally {
            cuCtxDestroy(other);
        }

        // A thread with no context gets none back.
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                long before = device.currentContext();
                long inside;
                try (ContextScope scope = device.enter(new DeviceContext(mine, 0))) {
                    inside = device.currentContext();
                }
                seen.set(new long[] {before, inside, device.currentContext()});
            } catch (Throwable e) {
                seen.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(seen.get() instanceof long[], () -> String.valueOf(seen.get()));
        assertArrayEquals(new long[] {0, mine, 0}, (long[]) seen.get());
    }

    @Test
    void copiesRoundTripFromAndToTheBuffersPositions() throws Exception {
        int n = 1_000_003;
        long a = device.allocate(n);
        toFree.add(a);
        long b = device.allocate(n);
        toFree.add(b);
        ByteBuffer src = ByteBuffer.allocateDirect(n + 64);
        ByteBuffer data = randomDirect(n, 7);
        src.position(40).put(data.duplicate()).flip().position(40);
        device.copyToDevice(a, src);
        assertEquals(src.limit(), src.position(), "the source was consumed");
        device.copyDeviceToDevice(b, a, n);
        device.synchronize();
        ByteBuffer dst = ByteBuffer.allocateDirect(n + 32);
        dst.position(16).limit(16 + n);
        device.copyToHost(dst, b);
        assertEquals(16 + n, dst.position(), "the destination was filled");
        assertEquals(data, dst.flip().position(16), "the bytes came back where they were asked for");
    }

    @Test
    @SuppressWarnings("try") // scopes opened for their effect on the thread
    void pinnedBuffersCarryCopiesAndAreFreedOnce() throws Exception {
        long a = device.allocate(MIB);
        toFree.add(a);
        ByteBuffer data = randomDirect((int) MIB, 3);
        try (PinnedBuffer up = device.allocatePinned(MIB); PinnedBuffer down = device.allocatePinned(MIB)) {
            assertTrue(up.buffer().isDirect());
            assertEquals(MIB, up.buffer().capacity());
            up.buffer().put(data.duplicate()).flip();
            device.copyToDevice(a, up.buffer());
            device.copyToHost(down.buffer(), a);
            assertEquals(data, down.buffer().flip());
            down.close(); // and again by try-with-resources: no double free
        }
    }

    @Test
    void pinnedBuffersWorkOnAThreadWithoutAContext() throws Exception {
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (PinnedBuffer p = device.allocatePinned(64 * 1024)) {
                p.buffer().putLong(0, 42);
                outcome.set(new long[] {p.buffer().getLong(0), device.currentContext()});
            } catch (Throwable e) {
                outcome.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(outcome.get() instanceof long[], () -> String.valueOf(outcome.get()));
        assertArrayEquals(new long[] {42, 0}, (long[]) outcome.get(), "no context left behind on the thread");
    }

    @Test
    void allocateAtAnAddressJustFreedAndFreeTheMapping() throws Exception {
        long bytes = 8 * MIB + 5;
        long address = device.allocate(bytes);
        ByteBuffer data = randomDirect((int) bytes, 11);
        device.free(address);

        boolean placed = device.allocateAt(address, bytes);
        System.out.println("JCudaDeviceGpuTest: allocateAt at the address cuMemFree just gave back: "
                + (placed ? "placed there" : "the driver could not give that range") + " (0x"
                + Long.toHexString(address) + ")");
        if (!placed) {
            assertNull(device.allocationAt(address), "nothing is held after a refused allocateAt");
            return;
        }
        assertEquals(new Allocation(address, bytes, new DeviceContext(handle(appContext), 0)),
                device.allocationAt(address + bytes - 1));
        device.copyToDevice(address, data.duplicate());
        ByteBuffer back = ByteBuffer.allocateDirect((int) bytes);
        device.copyToHost(back, address);
        assertEquals(data, back.flip());

        // The app's own JCuda calls see the memory too.
        CUdeviceptr appPointer = new CUdeviceptr();
        device.setAddress(appPointer, address);
        byte[] first = new byte[16];
        check(cuMemcpyDtoH(Pointer.to(first), appPointer, 16));
        byte[] expected = new byte[16];
        data.get(0, expected);
        assertArrayEquals(expected, first);

        device.free(address);
        assertNull(device.allocationAt(address), "unmapped, released and the range freed");
        long again = device.allocate(MIB);
        device.free(again);
    }

    @Test
    void allocateAtATakenAddressHoldsNothing() throws Exception {
        long taken = device.allocate(4 * MIB);
        toFree.add(taken);
        assertFalse(device.allocateAt(taken, 4 * MIB));
        assertEquals(taken, device.allocationAt(taken).base(), "the app's allocation is untouched");
    }

    @Test
    void setAddressRepointsTheAppsOwnPointerObjects() throws Exception {
        long a = device.allocate(MIB);
        toFree.add(a);
        long b = device.allocate(MIB);
        toFree.add(b);

        CUdeviceptr shifted = new CUdeviceptr();
        device.setAddress(shifted, a);
        CUdeviceptr view = shifted.withByteOffset(256);
        assertEquals(a + 256, device.address(view), "address + byte offset");
        device.setAddress(view, b);
        assertEquals(b, device.address(view), "offset reset");
        byte[] bytes = {1, 2, 3, 4, 5, 6, 7, 8};
        check(cuMemcpyHtoD(view, Pointer.to(bytes), bytes.length)); // JCuda uses the new address
        ByteBuffer back = ByteBuffer.allocateDirect(8);
        device.copyToHost(back, b);
        assertEquals(ByteBuffer.wrap(bytes), back.flip());

        Pointer runtimeStyle = new Pointer();
        device.setAddress(runtimeStyle, a);
        assertEquals(a, device.address(runtimeStyle));
        assertEquals(a, device.allocationAt(device.address(runtimeStyle)).base());

        DeviceException refused = assertThrows(DeviceException.class,
                () -> device.setAddress(Pointer.to(new byte[4]), a));
        assertTrue(refused.getMessage().contains("Java memory"), refused.getMessage());
    }

    @Test
    void readsResultsTheSameWhenTheAppMadeJCudaThrow() throws Exception {
        JCudaDriver.setExceptionsEnabled(true);
        try {
            assertNull(device.allocationAt(0x1000), "an address the driver does not know");
            DeviceException e = assertThrows(DeviceException.class, () -> device.allocate(1L << 60));
            assertTrue(e.getMessage().startsWith("cuMemAlloc (") && e.getMessage().contains("CUDA_ERROR_"),
                    e.getMessage());
        } finally {
            JCudaDriver.setExceptionsEnabled(false);
        }
    }

    private static ByteBuffer randomDirect(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return ByteBuffer.allocateDirect(n).put(b).flip();
    }

    private static long handle(NativePointerObject o) throws ReflectiveOperationException {
        Field f = NativePointerObject.class.getDeclaredField("nativePointer");
        f.setAccessible(true);
        return f.getLong(o);
    }

    private static void check(int result) {
        assertEquals(0, result, () -> jcuda.driver.CUresult.stringFor(result));
    }

    private static void checkRuntime(int result) {
        assertEquals(0, result, () -> jcuda.runtime.cudaError.stringFor(result));
    }
}
