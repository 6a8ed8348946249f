package dev.pauser.agent.checkpoint;

import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.StateException;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.MemoryLimits;
import dev.pauser.gate.Gate;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Captures a checkpoint: copies every registered trainer's {@code @TrainState} into its reusable staging buffers, each
 * trainer's fields under its own entry names. Runs where every step thread is held at a boundary: on the gate's control
 * thread "pauser-gate" at a safe point, or on the thread of a held checkpoint (pause, stop, exit).
 */
final class CheckpointCapture {

    /** What one capture took: the entries (views of the staging buffers) and where they belong. */
    static final class Snapshot {
        final long step;
        final List<Entry> entries;
        final Map<String, String> info;
        /** How long the capture held the steps: from the start of the safe point's work to the end of the copy. */
        final long captureNanos;
        final String reason;
        /** What the GPU fields took: {@code none}, {@code device} or {@code host}; their bytes; the hold for their copy. */
        final DeviceStaging.Report device;
        /** The steps stay held until this snapshot is durable, for the write's sake (async=false). */
        boolean heldForWrite;
        /** The JFR event spanning capture and write, begun when the capture began; null without JFR. */
        final CheckpointEvents.CheckpointEvent event;

        Snapshot(long step, List<Entry> entries, Map<String, String> info, long captureNanos, String reason,
                DeviceStaging.Report device, CheckpointEvents.CheckpointEvent event) {
            this.event = event;
            this.step = step;
            this.entries = entries;
            this.info = info;
            this.captureNanos = captureNanos;
            this.reason = reason;
            this.device = device;
        }
    }

    private final TrainerRegistry registry;
    private final TrainerRestorer restorer;
    private final CheckpointStatus status;
    /** Turns checkpoints off for good; called before a capture that would drop state is refused. */
    private final Runnable disableCheckpoints;
    /** True while the GPU fields' memory is given back for a pause: it can't be read then. */
    private final BooleanSupplier deviceReleased;

    CheckpointCapture(TrainerRegistry registry, TrainerRestorer restorer, CheckpointStatus status,
            Runnable disableCheckpoints, BooleanSupplier deviceReleased) {
        this.registry = registry;
        this.restorer = restorer;
        this.status = status;
        this.disableCheckpoints = disableCheckpoints;
        this.deviceReleased = deviceReleased;
    }

    /**
     * Null when there is nothing new to save. Throws when the state can't be captured (a field that fails, trainers
     * that no longer match the checkpoint resumed from); the caller fails that checkpoint only.
     */
    Snapshot capture(String reason) {
        CheckpointEvents.CheckpointEvent event = CheckpointEvents.begin(); // first: the event covers the whole hold
        return capture(reason, System.nanoTime(), event);
    }

    /**
     * As {@link #capture(String)}, for a capture whose hold began at {@code heldSince} ({@link System#nanoTime}), with
     * the JFR event begun then ({@code event}, null without JFR).
     */
    Snapshot capture(String reason, long heldSince, CheckpointEvents.CheckpointEvent event) {
        long step = Gate.steps();
        List<RegisteredTrainer> regs = registry.registered();
        if (regs.isEmpty() || step == status.durableStep()) {
            return null;
        }
        if (deviceReleased.getAsBoolean()) {
            throw new IllegalStateException("the GPU memory of the @TrainState fields is given back during this pause"
                    + " (releaseGpuOnPause): checkpoint before pausing (checkpointOnPause=true does), or after resuming");
        }
        String instances = restorer.instancesMismatch();
        if (instances != null) {
            // A run with fewer trainers than the checkpoint it resumed from: writing would drop the others' state.
            disableCheckpoints.run();
            restorer.reportLater(instances);
            throw new IllegalStateException("the trainers of the code do not match the checkpoint resumed from");
        }
        // The checkpoint this run resumed from holds as much direct memory as the staging needs: once every trainer is
        // restored, its buffers become the staging, so a resumed run never holds both.
        Map<String, ByteBuffer> loaded = restorer.releaseResumeSource();
        if (!loaded.isEmpty()) {
            long taken = 0;
            for (RegisteredTrainer r : regs) {
                taken += r.adopt(loaded);
            }
            Log.debug("reusing " + MemoryLimits.mib(taken) + " of the resumed checkpoint's buffers as capture staging");
        }
        List<Entry> entries = new ArrayList<>();
        // every registered trainer, each instance under its own entry names
        for (RegisteredTrainer r : regs) {
            try {
                entries.addAll(r.captureEntries());
            } catch (StateException e) {
                throw new IllegalStateException(e.getMessage().replace(System.lineSeparator(), " "), e);
            }
        }
        DeviceStaging.Report device = deviceReport(regs);
        status.deviceCaptured(device);
        Map<String, String> info = TrainerRegistry.info(regs);
        info.put("reason", reason);
        return new Snapshot(step, entries, info, System.nanoTime() - heldSince, reason, device, event);
    }

    /** The GPU fields of every trainer together: {@code host} if any went to host memory, else {@code device} if any. */
    private static DeviceStaging.Report deviceReport(List<RegisteredTrainer> regs) {
        boolean host = false;
        boolean device = false;
        long bytes = 0;
        long nanos = 0;
        for (RegisteredTrainer r : regs) {
            DeviceStaging.Report one = r.capture.deviceReport();
            host |= one.path() == DeviceStaging.Path.HOST;
            device |= one.path() == DeviceStaging.Path.DEVICE;
            bytes += one.bytes();
            nanos += one.copyNanos();
        }
        DeviceStaging.Path path = host ? DeviceStaging.Path.HOST : device ? DeviceStaging.Path.DEVICE
                : DeviceStaging.Path.NONE;
        return new DeviceStaging.Report(path, bytes, nanos);
    }
}
