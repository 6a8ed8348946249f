package dev.pauser.agent.checkpoint;

import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.agent.store.Crc32c;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.Manifest;
import dev.pauser.agent.store.TensorEntry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The record of the newest checkpoint and of the last attempt: its step, path, size, how long it took and held
 * training, when it was written, the last error, and the step whose state is durable. Written by the thread that
 * finishes a checkpoint (the gate's control thread "pauser-gate", the writer "pauser-writer", the stop hook on
 * "pauser-stop", the exit hook on "pauser-exit") and once at start-up, on the thread loading the agent, for a resumed
 * run; read lock-free (every field is volatile) by JMX and by the checkpoint triggers.
 */
public final class CheckpointStatus {
    private volatile long lastStep = -1;
    private volatile String lastPath = "";
    private volatile long lastBytes;
    private volatile long lastMillis;
    private volatile long lastStallNanos;
    private volatile long lastTimeMillis = -1;
    private volatile String lastError = "";
    /** The step whose state is already durable (a resumed run starts with the checkpoint it resumed from). */
    private volatile long durableStep = -1;
    private volatile String deviceStaging = DeviceStaging.Path.NONE.label();
    private volatile long deviceBytes;
    private volatile long deviceCopyMillis;
    /** Field CRCs of the checkpoint this run resumed from, until this run commits one; null otherwise. */
    private volatile Map<String, Integer> resumedCrcs;

    CheckpointStatus() {
    }

    /**
     * A resumed run: the state of {@code from} is already durable ({@code bytes} of files). It is the newest checkpoint
     * until this run writes one; how long it took is unknown here, so those figures stay 0.
     */
    void resumedFrom(LoadedCheckpoint from, long bytes) {
        Map<String, Integer> crcs = new HashMap<>();
        for (Manifest.Field f : from.manifest().fields()) {
            crcs.put(f.key(), f.crc32c());
        }
        durableStep = from.step();
        lastStep = from.step();
        lastPath = from.dir().toString();
        lastTimeMillis = from.wallTime().toEpochMilli();
        lastBytes = bytes;
        resumedCrcs = crcs;
    }

    /** A checkpoint is durable: it took {@code millis} in all and held training {@code stallNanos}. */
    void committed(CheckpointStore.CommitResult c, long millis, long stallNanos) {
        lastStep = c.step();
        lastPath = c.dir().toString();
        lastBytes = c.bytes();
        lastMillis = millis;
        lastStallNanos = stallNanos;
        lastTimeMillis = System.currentTimeMillis();
        lastError = "";
        durableStep = c.step();
        resumedCrcs = null;
    }

    /** The last capture's GPU fields: which path they took, their bytes, how long their copy held the steps. */
    void deviceCaptured(DeviceStaging.Report report) {
        deviceStaging = report.path().label();
        deviceBytes = report.bytes();
        deviceCopyMillis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(report.copyNanos());
    }

    /** {@code device}, {@code host} or {@code none}: where the last snapshot's GPU fields were copied to. */
    public String deviceStaging() {
        return deviceStaging;
    }

    /** The GPU fields' bytes in the last snapshot. */
    public long deviceBytes() {
        return deviceBytes;
    }

    /** How long the last snapshot's GPU copies held the steps, in milliseconds. */
    public long deviceCopyMillis() {
        return deviceCopyMillis;
    }

    /** A checkpoint failed with this one-line message; the newest durable one stands. */
    void failed(String line) {
        lastError = line;
    }

    /** The result of a checkpoint found unnecessary: the newest durable one, nothing written. */
    CheckpointResult unchanged() {
        return new CheckpointResult(durableStep, lastPath, lastBytes, 0, false, "");
    }

    /** The step whose state is already durable; -1 before the first checkpoint of a fresh run. */
    long durableStep() {
        return durableStep;
    }

    /** Every captured entry has the same key and CRC32C as in the checkpoint this run resumed from. */
    boolean sameAsResumed(List<Entry> entries) {
        Map<String, Integer> crcs = resumedCrcs;
        if (crcs == null || crcs.size() != entries.size()) {
            return false;
        }
        for (Entry e : entries) {
            if (e instanceof TensorEntry t && t.streamed()) {
                return false; // a GPU field streamed from the device: its CRC is known only once written
            }
            Integer stored = crcs.get(e.key());
            if (stored == null || stored != Crc32c.ofField(e)) {
                return false;
            }
        }
        return true;
    }

    public long lastStep() {
        return lastStep;
    }

    public String lastPath() {
        return lastPath;
    }

    public long lastBytes() {
        return lastBytes;
    }

    public long lastMillis() {
        return lastMillis;
    }

    /** How long the newest checkpoint of this run held the training threads, in whole milliseconds (rounded down). */
    public long lastStallMillis() {
        return java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(lastStallNanos);
    }

    /** {@link #lastStallMillis} in microseconds (rounded down). */
    public long lastStallMicros() {
        return java.util.concurrent.TimeUnit.NANOSECONDS.toMicros(lastStallNanos);
    }

    public long lastTimeMillis() {
        return lastTimeMillis;
    }

    public String lastError() {
        return lastError;
    }
}
