package dev.pauser.agent.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The device-side staging: the shadow's chunked stream to the writer, and giving shadows back. */
class DeviceStagingTest {
    static final int CHUNK = 48;

    final HostDeviceMemory device = new HostDeviceMemory();

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 1);
        }
        return b;
    }

    @Test
    void theCopyOfTheNextChunkStartsBeforeTheWriteOfThePreviousEnds() throws Exception {
        int chunks = 5;
        int bytes = CHUNK * chunks - 10; // the last chunk is short
        long field = device.appAllocate(HostDeviceMemory.CONTEXT, bytes, (byte) 0);
        device.appWrite(field, pattern(bytes));
        DeviceStaging staging = new DeviceStaging(device, 0, CHUNK);
        DeviceStaging.Copy copy = staging.copy("w", HostDeviceMemory.CONTEXT,
                List.of(new DeviceStaging.Region(field, bytes)));
        DeviceStaging.ShadowStream shadow = copy.shadow();
        assertNotNull(shadow, "room on the device: a shadow");
        assertNull(copy.host());

        List<String> events = Collections.synchronizedList(new ArrayList<>());
        Map<Integer, CountDownLatch> copyStarted = new ConcurrentHashMap<>();
        for (int i = 0; i < chunks; i++) {
            copyStarted.put(i, new CountDownLatch(1));
        }
        long shadowBase = shadowAddress();
        List<String> copyThreads = Collections.synchronizedList(new ArrayList<>());
        device.onCopyToHost(src -> {
            int i = (int) ((src - shadowBase) / CHUNK);
            events.add("copy " + i);
            copyThreads.add(Thread.currentThread().getName());
            copyStarted.get(i).countDown();
        });
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        int[] n = {0};
        shadow.writeTo(chunk -> {
            int i = n[0]++;
            events.add("write " + i);
            byte[] b = new byte[chunk.remaining()];
            chunk.duplicate().get(b);
            written.writeBytes(b);
            if (i + 1 < chunks) {
                // The writer of chunk i waits for the copy of chunk i+1: a stream that copied only after each write
                // returned would never get there.
                try {
                    assertTrue(copyStarted.get(i + 1).await(2, TimeUnit.MINUTES), "chunk " + (i + 1) + " copy");
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            events.add("written " + i);
        });
        assertArrayEquals(pattern(bytes), written.toByteArray());
        for (int i = 0; i + 1 < chunks; i++) {
            assertTrue(events.indexOf("copy " + (i + 1)) < events.indexOf("written " + i), events.toString());
            assertTrue(events.indexOf("copy " + i) < events.indexOf("write " + i), events.toString());
        }
        assertEquals(List.of("pauser-device-copy"), copyThreads.stream().distinct().toList());
        assertEquals(0, device.depth(Thread.currentThread()));
    }

    private long shadowAddress() {
        for (String e : device.events()) {
            if (e.startsWith("alloc 0x")) {
                return Long.parseLong(e.substring("alloc 0x".length()), 16);
            }
        }
        throw new AssertionError("no shadow allocated: " + device.events());
    }

    @Test
    void aFailedDeviceCopyFailsTheStreamWithOneLine() throws Exception {
        long field = device.appAllocate(HostDeviceMemory.CONTEXT, CHUNK * 3, (byte) 1);
        DeviceStaging staging = new DeviceStaging(device, 0, CHUNK);
        DeviceStaging.ShadowStream shadow = staging.copy("w", HostDeviceMemory.CONTEXT,
                List.of(new DeviceStaging.Region(field, CHUNK * 3))).shadow();
        staging.freeShadows(); // the shadow is gone: its copy to host fails
        IOException e = assertThrows(IOException.class, () -> shadow.writeTo(chunk -> { }));
        assertTrue(e.getMessage().startsWith("copying a GPU field's shadow to host memory failed: 0x"), e.getMessage());
    }

    @Test
    void shadowsAreGivenBackAndTakenAgain() throws Exception {
        long field = device.appAllocate(HostDeviceMemory.CONTEXT, 100, (byte) 1);
        long appBytes = device.allocatedBytes();
        DeviceStaging staging = new DeviceStaging(device, 0, CHUNK);
        staging.copy("w", HostDeviceMemory.CONTEXT, List.of(new DeviceStaging.Region(field, 100)));
        assertEquals(100, staging.shadowBytes());
        assertEquals(appBytes + 100, device.allocatedBytes());
        assertEquals(100, staging.freeShadows());
        assertEquals(appBytes, device.allocatedBytes());
        assertEquals(0, staging.shadowBytes());
        assertFalse(staging.copy("w", HostDeviceMemory.CONTEXT, List.of(new DeviceStaging.Region(field, 100)))
                .shadow() == null);
        assertEquals(0, device.depth(Thread.currentThread()));
    }
}
