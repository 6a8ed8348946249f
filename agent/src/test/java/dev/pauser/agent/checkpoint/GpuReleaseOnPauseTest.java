package dev.pauser.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.device.HostDeviceMemory;
import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.state.StateSchema;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code releaseGpuOnPause}: the GPU fields' memory and Pauser's shadows freed during a pause, taken back on resume into
 * the same pointer objects (at the same address where the driver allows it), and a failed take-back keeping the pause.
 */
class GpuReleaseOnPauseTest {
    static final class Trainer {
        @TrainState(dtype = "F32")
        CUdeviceptr weights = new CUdeviceptr();

        @TrainState
        CUdeviceptr[] moments = {new CUdeviceptr(), new CUdeviceptr()};
    }

    final HostDeviceMemory device = new HostDeviceMemory();
    final Trainer trainer = new Trainer();
    final TrainerRegistry registry = new TrainerRegistry();
    final GpuReleaseOnPause release = new GpuReleaseOnPause(registry);
    long appBytes;

    @BeforeEach
    void register() {
        device.setAddress(trainer.weights, device.appAllocate(HostDeviceMemory.CONTEXT, 4096, (byte) 0));
        device.appWrite(device.address(trainer.weights), pattern(4096, 1));
        for (int i = 0; i < trainer.moments.length; i++) {
            device.setAddress(trainer.moments[i], device.appAllocate(HostDeviceMemory.CONTEXT, 256, (byte) 0));
            device.appWrite(device.address(trainer.moments[i]), pattern(256, 10 + i));
        }
        appBytes = device.allocatedBytes();
        StateSchema schema = StateSchema.of(Trainer.class, loader -> device);
        StateCapture capture = new StateCapture(schema, m -> new DeviceStaging(m, 0, 1024));
        registry.add(new RegisteredTrainer(new TrainerId(Trainer.class.getName(), 0), Trainer.class, trainer, capture));
        capture.capture(trainer); // a checkpoint before the pause: the shadows exist now
        assertEquals(2 * appBytes, device.allocatedBytes());
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * seed + seed);
        }
        return b;
    }

    void assertStateBack() {
        assertArrayEquals(pattern(4096, 1), device.appRead(device.address(trainer.weights), 4096));
        for (int i = 0; i < trainer.moments.length; i++) {
            assertArrayEquals(pattern(256, 10 + i), device.appRead(device.address(trainer.moments[i]), 256));
        }
        assertEquals(0, device.depth(Thread.currentThread()));
    }

    @Test
    void memoryIsFreedWhilePausedAndComesBackAtTheSameAddresses() {
        long weights = device.address(trainer.weights);
        CUdeviceptr weightsObject = trainer.weights;
        assertTrue(release.wanted());
        assertFalse(new GpuReleaseOnPause(new TrainerRegistry()).wanted(), "no GPU fields: the pause has no work");
        release.release();
        assertEquals(0, device.allocatedBytes(), "the app's allocations and the shadows are freed");
        assertEquals(2 * appBytes, release.releasedBytes());
        assertTrue(release.holding());

        String log = stderrOf(() -> assertTrue(release.beforeResume()));
        assertFalse(log.contains("came back at"), log);
        assertSame(weightsObject, trainer.weights);
        assertEquals(weights, device.address(trainer.weights));
        assertEquals(appBytes, device.allocatedBytes(), "the shadows come back at the next capture, not now");
        assertEquals(0, release.releasedBytes());
        assertFalse(release.holding());
        assertStateBack();
        assertEquals(2, device.pinnedLive(), "the host copies are freed; the shadow stream's two chunk buffers stay");
    }

    @Test
    void whereTheOldAddressCantBeHadThePointerObjectsGetTheNewOneAndTheLogSaysSo() {
        long weights = device.address(trainer.weights);
        release.release();
        device.failAllocateAt(true);
        String log = stderrOf(() -> assertTrue(release.beforeResume()));
        assertNotEquals(weights, device.address(trainer.weights));
        assertTrue(log.contains("the GPU memory of " + Trainer.class.getName() + ".weights came back at 0x"
                + Long.toHexString(device.address(trainer.weights)) + ", not at its old address 0x"
                + Long.toHexString(weights)), log);
        assertStateBack();
    }

    @Test
    void aFailedTakeBackKeepsThePauseAndTheStateAndALaterResumeSucceeds() {
        long weights = device.address(trainer.weights);
        release.release();
        device.failAllocateAt(true);
        device.failAllocate(true);
        String log = stderrOf(() -> assertFalse(release.beforeResume()));
        assertTrue(log.contains("taking the GPU memory back failed: cuMemAlloc(") && log.contains("stays paused"), log);
        assertTrue(release.error().startsWith("taking the GPU memory back failed: cuMemAlloc("), release.error());
        assertTrue(release.holding());
        assertEquals(0, device.allocatedBytes(), "what the failed attempt allocated is freed again");
        assertEquals(0, device.depth(Thread.currentThread()));

        device.failAllocateAt(false);
        device.failAllocate(false);
        assertTrue(release.beforeResume());
        assertEquals("", release.error());
        assertEquals(weights, device.address(trainer.weights));
        assertStateBack();
    }

    @Test
    void aPauseBeforeAnyCheckpointStillGivesTheFieldsMemoryBack() {
        Trainer fresh = new Trainer();
        device.setAddress(fresh.weights, device.appAllocate(HostDeviceMemory.CONTEXT, 64, (byte) 9));
        device.setAddress(fresh.moments[0], device.appAllocate(HostDeviceMemory.CONTEXT, 32, (byte) 8));
        device.setAddress(fresh.moments[1], device.appAllocate(HostDeviceMemory.CONTEXT, 32, (byte) 7));
        long before = device.allocatedBytes();
        TrainerRegistry uncaptured = new TrainerRegistry();
        uncaptured.add(new RegisteredTrainer(new TrainerId(Trainer.class.getName(), 0), Trainer.class, fresh,
                new StateCapture(StateSchema.of(Trainer.class, loader -> device))));
        GpuReleaseOnPause r = new GpuReleaseOnPause(uncaptured);
        r.release();
        assertEquals(128, r.releasedBytes());
        assertEquals(before - 128, device.allocatedBytes());
        assertTrue(r.beforeResume());
        assertArrayEquals(filled(64, 9), device.appRead(device.address(fresh.weights), 64));
        assertArrayEquals(filled(32, 7), device.appRead(device.address(fresh.moments[1]), 32));
    }

    static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void aCaptureWhileReleasedIsRefusedWithTheReason() {
        release.release();
        CheckpointCapture capture = new CheckpointCapture(registry, null, new CheckpointStatus(), () -> { },
                release::holding);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> capture.capture("test"));
        assertTrue(e.getMessage().contains("given back during this pause (releaseGpuOnPause)"), e.getMessage());
        assertTrue(release.beforeResume());
    }

    static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
