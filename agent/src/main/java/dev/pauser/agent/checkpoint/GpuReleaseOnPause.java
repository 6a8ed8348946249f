package dev.pauser.agent.checkpoint;

import dev.pauser.agent.device.DeviceRelease;
import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.store.MemoryLimits;
import dev.pauser.gate.ResumeHook;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code releaseGpuOnPause=true}: the GPU memory of every registered trainer's {@code @TrainState} fields, and Pauser's
 * shadows, given back to the device while the run is paused, and taken again before it resumes.
 *
 * <p>{@link #release} runs in the pause hook on the gate's control thread {@code pauser-gate}, after the pause checkpoint
 * is durable (the caller skips it when that checkpoint failed), with every step thread held. {@link #beforeResume} is
 * the gate's resume hook, on the same thread, before any step runs: when the memory can't be had again, the run stays
 * PAUSED, the reason is in the log and {@link #error} (JMX {@code DeviceReleaseError}), the state stays in host memory
 * (and on disk), and the next resume tries again. Read by JMX from any thread (volatile fields).
 */
final class GpuReleaseOnPause implements ResumeHook {
    private final TrainerRegistry registry;
    private final DeviceRelease release = new DeviceRelease();
    private volatile long releasedBytes;
    private volatile String error = "";

    GpuReleaseOnPause(TrainerRegistry registry) {
        this.registry = registry;
    }

    /** Device bytes freed by the pause in effect now; 0 when running. */
    long releasedBytes() {
        return releasedBytes;
    }

    /** Why taking the memory back failed at the last resume; empty otherwise. */
    String error() {
        return error;
    }

    /** True when a registered trainer has GPU fields: only then has a pause anything to give back. */
    boolean wanted() {
        for (RegisteredTrainer r : registry.registered()) {
            if (r.capture.schema().hasDeviceFields()) {
                return true;
            }
        }
        return false;
    }

    /** True while the fields' memory is given back: a capture now would read freed memory. */
    boolean holding() {
        return release.holding();
    }

    /** Copies the fields' device memory to pinned host memory and frees it, with Pauser's shadows. */
    void release() {
        List<DeviceRelease.Target> targets = new ArrayList<>();
        List<DeviceStaging> stagings = new ArrayList<>();
        try {
            for (RegisteredTrainer r : registry.registered()) {
                StateCapture c = r.capture;
                targets.addAll(c.deviceTargets(r.self));
                if (c.deviceStaging() != null) {
                    stagings.add(c.deviceStaging());
                }
            }
            if (targets.isEmpty() && stagings.isEmpty()) {
                return;
            }
            long freed = release.release(targets, stagings);
            releasedBytes = freed;
            Log.info("gave " + MemoryLimits.mib(freed) + " of GPU memory back for the pause (releaseGpuOnPause); it is"
                    + " taken again before the run resumes");
        } catch (Exception e) {
            Log.error("giving the GPU memory back for the pause failed, it stays allocated: " + e.getMessage());
        }
    }

    @Override
    public boolean beforeResume() {
        if (!release.holding()) {
            releasedBytes = 0; // only shadows were freed: they are made again at the next capture that has room
            return true;
        }
        try {
            long bytes = release.releasedBytes();
            release.reacquire();
            releasedBytes = 0;
            error = "";
            Log.info("took " + MemoryLimits.mib(bytes) + " of GPU memory back; resuming");
            return true;
        } catch (Exception e) {
            error = "taking the GPU memory back failed: " + e.getMessage();
            Log.error(error + "; the run stays paused, its state is kept in host memory (and in the pause checkpoint);"
                    + " resume again to retry, once the device has room");
            return false;
        }
    }
}
