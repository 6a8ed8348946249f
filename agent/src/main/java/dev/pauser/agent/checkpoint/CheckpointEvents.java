package dev.pauser.agent.checkpoint;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/** JFR events for checkpoints and restores, under the "Pauser" category in JDK Mission Control. */
final class CheckpointEvents {
    private CheckpointEvents() {
    }

    /**
     * Set once the event classes are loaded ({@link CheckpointPreparation}): loading the first one registers it with
     * JFR, which takes long enough that a capture holding the steps must not be the one to do it.
     */
    private static volatile boolean loaded;

    /** The event classes are loaded and initialized. */
    static void loaded() {
        loaded = true;
    }

    /**
     * A checkpoint event begun now (its start time), to be committed by the thread that finishes the checkpoint; null
     * when this runtime has no JFR, or before the event classes were loaded in the background (the thread finishing the
     * checkpoint then records an event of its own, without the capture's start).
     */
    static CheckpointEvent begin() {
        if (!loaded) {
            return null;
        }
        try {
            CheckpointEvent e = new CheckpointEvent();
            e.begin();
            return e;
        } catch (LinkageError noJfr) {
            return null;
        }
    }

    /** A restore event begun now, committed when the restore is done; null when this runtime has no JFR. */
    static RestoreEvent beginRestore() {
        try {
            RestoreEvent e = new RestoreEvent();
            e.begin();
            return e;
        } catch (LinkageError noJfr) {
            return null;
        }
    }

    @Name("dev.pauser.Checkpoint")
    @Label("Checkpoint")
    @Category("Pauser")
    @Description("A checkpoint was written: the event spans capture and the durable write.")
    static final class CheckpointEvent extends Event {
        @Label("Step")
        long step;

        @Label("Bytes")
        @DataAmount
        long bytes;

        @Label("Capture Time")
        @Description("Training threads were held for this long for the copy into staging")
        @Timespan(Timespan.NANOSECONDS)
        long captureNanos;

        @Label("Write Time")
        @Timespan(Timespan.NANOSECONDS)
        long writeNanos;

        @Label("Path")
        String path;

        @Label("Reason")
        String reason;

        @Label("Error")
        String error;

        @Label("Device Staging")
        @Description("Where the GPU fields were copied while training was held: device (a shadow copy on the GPU, "
                + "streamed to disk afterwards), host (pinned host memory), or none (no GPU fields)")
        String deviceStaging;

        @Label("Device Bytes")
        @DataAmount
        long deviceBytes;
    }

    @Name("dev.pauser.Restore")
    @Label("Restore")
    @Category("Pauser")
    @Description("A trainer's @TrainState was restored from a checkpoint before its first step.")
    static final class RestoreEvent extends Event {
        @Label("Step")
        long step;

        @Label("Trainer")
        String trainer;

        @Label("Fields")
        int fields;

        @Label("Bytes")
        @DataAmount
        long bytes;

        @Label("Path")
        String path;
    }
}
