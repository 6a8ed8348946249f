package dev.pauser.agent.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Test;

/**
 * What {@link JCudaDevice} does without a device: reading and setting the address JCuda's own pointer objects hold
 * (JCuda's {@code toString} shows the two fields it passes to the driver), and {@link DeviceMemories#forLoader} for a
 * loader without JCuda. The driver calls are in {@link JCudaDeviceGpuTest}.
 */
class JCudaDeviceTest {
    private final JCudaDevice device = jcudaDeviceWithoutStartingTheDriver();

    private static JCudaDevice jcudaDeviceWithoutStartingTheDriver() {
        try {
            return new JCudaDevice(Class.forName(DeviceMemories.JCUDA_DRIVER, false,
                    JCudaDeviceTest.class.getClassLoader()));
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theAddressIsTheNativePointerPlusTheByteOffset() throws Exception {
        CUdeviceptr base = new CUdeviceptr();
        device.setAddress(base, 0x7f00_0020_0000L);
        assertEquals("CUdeviceptr[nativePointer=0x7f0000200000,byteOffset=0]", base.toString());
        CUdeviceptr view = base.withByteOffset(4096);
        assertEquals(0x7f00_0020_1000L, device.address(view));
        assertEquals(0x7f00_0020_0000L, device.address(base), "withByteOffset makes a new object");
    }

    @Test
    void settingAnAddressResetsTheOffsetOfThatSameObject() throws Exception {
        CUdeviceptr view = new CUdeviceptr().withByteOffset(256);
        device.setAddress(view, 0x5000_0000L);
        assertEquals("CUdeviceptr[nativePointer=0x50000000,byteOffset=0]", view.toString());
        assertEquals(0x5000_0000L, device.address(view));

        Pointer runtimePointer = new Pointer(); // cudaMalloc fills a plain Pointer
        device.setAddress(runtimePointer, 0x6000_0000L);
        assertEquals("Pointer[nativePointer=0x60000000,byteOffset=0]", runtimePointer.toString());
        assertEquals(0x6000_0000L, device.address(runtimePointer));
    }

    @Test
    void aPointerToJavaMemoryIsNotRepointed() {
        Pointer host = Pointer.to(new float[4]);
        DeviceException e = assertThrows(DeviceException.class, () -> device.setAddress(host, 0x1000));
        assertTrue(e.getMessage().contains("points to Java memory"), e.getMessage());
        assertTrue(host.toString().startsWith("Pointer[buffer="), "left as it was: " + host);
    }

    @Test
    void onlyJCudaPointersHaveAddresses() {
        assertTrue(device.isPointer(new CUdeviceptr()));
        assertTrue(device.isPointer(new Pointer()));
        assertFalse(device.isPointer(new long[1]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> device.address("0x1000"));
        assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
    }

    @Test
    void aLoaderWithoutJCudaHasNoDeviceMemory() throws Exception {
        URL runtimeOnly = dev.pauser.TrainState.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader noJCuda = new URLClassLoader(new URL[] {runtimeOnly},
                ClassLoader.getPlatformClassLoader())) {
            assertFalse(DeviceMemories.jcudaVisible(noJCuda));
            assertNull(DeviceMemories.forLoader(noJCuda));
        }
        assertTrue(DeviceMemories.jcudaVisible(JCudaDriver.class.getClassLoader()));
    }
}
