package dev.pauser.agent.control;

import dev.pauser.agent.checkpoint.CheckpointResult;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.gate.Gate;
import dev.pauser.gate.GateListener;
import dev.pauser.gate.GateState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;
import javax.management.StandardEmitterMBean;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;

/**
 * The registered MBean: the {@link PauserMXBean} with real descriptions, impacts and parameter names (JConsole shows
 * "Operation exposed for management" and {@code p0} otherwise), attributes and operations in a deliberate order (JConsole
 * lists them as the MBeanInfo gives them), and notifications on every state change and checkpoint whose
 * {@code userData} is a {@link CompositeData} (an open type: JConsole and Jolokia show its fields without our classes).
 * {@link StandardEmitterMBean} rather than StandardMBean: the latter drops notifications.
 */
public final class PauserMBean extends StandardEmitterMBean implements GateListener {

    /**
     * Every attribute's description, in the MBeanInfo's order: what a watcher reads first comes first (jmxterm and
     * Jolokia's list keep it; JConsole sorts its Attributes page by name).
     */
    private static final Map<String, String> ATTRIBUTES = ordered(
            "State", "RUNNING, PAUSING (asked, waiting for a step boundary), PAUSED, CHECKPOINTING (every step thread "
                    + "held while a checkpoint is copied) or STOPPING",
            "Step", "Completed outermost @TrainStep calls, summed over all threads",
            "Paused", "True once every thread inside a step is parked at a boundary",
            "PausedSince", "When the pause took effect, ISO-8601 in the JVM's time zone; empty when not paused",
            "PausedSinceMillis", "When the pause took effect, in milliseconds since 1970-01-01 UTC; -1 when not paused",
            "BeforeFirstStep", "True until a thread enters a @TrainStep method in this JVM: a pause then holds no thread "
                    + "(the first step will wait). If the program trains while this stays true, its step method is not "
                    + "instrumented",
            "StepsPerSecond", "Steps per second over the last ten seconds, rounded to 0.1",
            "TrainerThreads", "Live threads that have run at least one @TrainStep",
            "PauseAtStep", "Writable. Pause once Step reaches this step number (1 or more; a step already passed pauses "
                    + "at once), one-shot, as the pauseAtStep option; -1 for none. Other values are refused",
            "CheckpointEverySteps", "Writable. Checkpoint every this many steps (1 or more), as the every option; 0 for "
                    + "none. Negative values are refused",
            "LastCheckpointStep", "The step of the newest durable checkpoint (of this run, or the one it resumed "
                    + "from); -1 for none",
            "LastCheckpointPath", "The directory of the newest durable checkpoint; empty for none",
            "LastCheckpointTime", "When the newest checkpoint became durable (for the one resumed from: the time in "
                    + "its manifest), ISO-8601 in the JVM's time zone; empty for none",
            "LastCheckpointTimeMillis", "LastCheckpointTime in milliseconds since 1970-01-01 UTC; -1 for none",
            "LastCheckpointBytes", "The size of the newest checkpoint's files, in bytes; 0 for none",
            "LastCheckpointMillis", "How long the newest checkpoint took, capture and durable write, in milliseconds; "
                    + "0 until this run writes one",
            "LastCheckpointStallMillis", "How long the newest checkpoint held the training threads (the copy into "
                    + "staging; with async=false also the write), in milliseconds; 0 until this run writes one",
            "LastCheckpointStallMicros", "LastCheckpointStallMillis in microseconds",
            "LastError", "The last checkpoint error (full disk, a field that can't be captured); empty after a success",
            "DeviceStaging", "Where the last snapshot's GPU fields were copied while training was held: device (a "
                    + "shadow copy on the GPU, streamed to disk afterwards), host (pinned host memory), none (no GPU "
                    + "fields)",
            "DeviceStateBytes", "The GPU fields' bytes in the last snapshot",
            "LastDeviceCopyMillis", "How long the last snapshot's GPU copies held the training threads, in "
                    + "milliseconds",
            "DeviceBytesReleased", "GPU bytes given back to the device by the pause in effect now "
                    + "(releaseGpuOnPause); 0 when running",
            "DeviceReleaseError", "Why taking the GPU memory back at the last resume failed (the run stays paused; "
                    + "resume again to retry); empty otherwise",
            "Directory", "Where checkpoints and the pause file live (the dir option)",
            "Job", "The job of several JVMs this one is a worker of: the ZooKeeper connect string and the job's path "
                    + "(the cluster option); empty when it trains alone",
            "JobRank", "This worker's rank in its job; -1 when it trains alone",
            "JobWorkers", "Every registered worker of the job as ZooKeeper last told this one: rank, host, pid, state "
                    + "and step",
            "JobCommittedStep", "The newest step the whole job committed a checkpoint of (every worker's is "
                    + "durable); -1 for none",
            "PauseFile", "While this file exists the run is paused: creating it pauses, deleting it resumes",
            "OnSignal", "What SIGTERM and SIGINT do: STOP (finish the step, checkpoint, exit) or EXIT (the JVM's "
                    + "default)",
            "GraceSeconds", "How long a stop waits for in-flight steps before exiting anyway, in seconds",
            "Version", "The Pauser agent's version");

    /** Every operation's description, in the order JConsole lists them: stop, which ends the JVM, comes last. */
    private static final Map<String, String> OPERATIONS = ordered(
            "pause", "Ask for a pause at the next step boundary; returns at once. Watch State for PAUSED",
            "pauseAndWait", "Ask for a pause and wait until it has taken effect or timeoutMillis ends; returns the "
                    + "state reached (PAUSED, or PAUSING on timeout)",
            "resume", "Let steps run again; returns at once",
            "checkpoint", "Ask for a checkpoint at the next step boundary; returns at once. Watch LastCheckpointStep",
            "checkpointAndWait", "Ask for a checkpoint and wait until it is durable or timeoutMillis ends; returns a "
                    + "line naming it, or starting 'checkpoint requested' (timeoutMillis 0) or 'checkpoint failed'",
            "checkpointAndWaitForOutcome", "As checkpointAndWait, answered as data for programs: status (DURABLE, "
                    + "ALREADY_DURABLE, NOTHING_TO_SAVE, REQUESTED, TIMED_OUT or FAILED), step, path, bytes, millis, "
                    + "error, and message (checkpointAndWait's line)",
            "stop", "Ends the JVM: finishes the in-flight steps, writes the final checkpoint, then exits the JVM with "
                    + "status 0 (as a worker of a job, every worker stops at one agreed step). Returns at once; the run "
                    + "does not come back (start it again to resume)");

    /** What each operation's parameter means: units and special values, which JConsole shows on hovering the field. */
    private static final Map<String, String> TIMEOUTS = Map.of(
            "pauseAndWait", "Milliseconds to wait at most for the pause to take effect; 0 returns at once with the "
                    + "state (the pause stays asked for either way); negative is refused",
            "checkpointAndWait", "Milliseconds to wait at most for the checkpoint to be durable; 0 returns at once "
                    + "(the checkpoint is still taken: watch LastCheckpointStep); negative is refused",
            "checkpointAndWaitForOutcome", "Milliseconds to wait at most for the checkpoint to be durable; 0 returns "
                    + "at once (status REQUESTED unless already known; the checkpoint is still taken); negative is "
                    + "refused");

    /** The userData of every state-change notification. */
    static final CompositeType STATE_CHANGE_DATA = compositeType("dev.pauser.StateChange",
            "A change of the run's State", Map.of(
                    "step", SimpleType.LONG, "oldState", SimpleType.STRING, "newState", SimpleType.STRING,
                    "millisInOldState", SimpleType.LONG, "beforeFirstStep", SimpleType.BOOLEAN),
            Map.of("step", "Step at the change", "oldState", "The state left", "newState", "The state entered",
                    "millisInOldState", "How long the run was in the state left, in milliseconds (on a resume: how "
                            + "long it was paused)",
                    "beforeFirstStep", "No @TrainStep method has run in this JVM yet (a pause then holds no thread)"));

    /** The userData of every checkpoint written or failed notification. */
    static final CompositeType CHECKPOINT_DATA = compositeType("dev.pauser.Checkpoint",
            "A checkpoint written or failed", Map.of(
                    "step", SimpleType.LONG, "path", SimpleType.STRING, "bytes", SimpleType.LONG,
                    "millis", SimpleType.LONG, "reason", SimpleType.STRING, "error", SimpleType.STRING),
            Map.of("step", "The step checkpointed (for a failure: Step when it was attempted)",
                    "path", "The checkpoint's directory; empty on failure", "bytes", "The size of its files; 0 on failure",
                    "millis", "Capture and durable write, in milliseconds", "reason",
                    "What asked for it (every N steps, pause, stop, requested over JMX, ...)",
                    "error", "Why it failed, one line; empty when written"));

    private final NotificationBroadcasterSupport emitter;
    private final AtomicLong sequence = new AtomicLong();
    private final ObjectName name;

    public PauserMBean(PauserMXBean impl, NotificationBroadcasterSupport emitter) throws Exception {
        super(impl, PauserMXBean.class, true, emitter);
        this.emitter = emitter;
        this.name = new ObjectName(PauserMXBean.OBJECT_NAME);
    }

    /** The emitter announcing state changes and checkpoints; its notification info is what JConsole lists. */
    public static NotificationBroadcasterSupport newEmitter() {
        MBeanNotificationInfo state = new MBeanNotificationInfo(
                new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
                AttributeChangeNotification.class.getName(),
                "Sent on every change of State (old and new value); userData: step, oldState, newState, "
                        + "millisInOldState, beforeFirstStep");
        MBeanNotificationInfo checkpoints = new MBeanNotificationInfo(
                new String[] {PauserMXBean.CHECKPOINT_WRITTEN, PauserMXBean.CHECKPOINT_FAILED},
                Notification.class.getName(),
                "Sent when a checkpoint is durable (the message names it) or failed (the message says why); userData: "
                        + "step, path, bytes, millis, reason, error");
        return new NotificationBroadcasterSupport(state, checkpoints);
    }

    /** Announces a checkpoint written or failed; on the thread that finished it (pauser-writer, pauser-gate, pauser-stop or pauser-exit). */
    public void checkpointed(CheckpointResult result, String reason) {
        if (!result.written() && result.ok()) {
            return;
        }
        Notification n = new Notification(result.ok() ? PauserMXBean.CHECKPOINT_WRITTEN : PauserMXBean.CHECKPOINT_FAILED,
                name, sequence.incrementAndGet(), System.currentTimeMillis(), result.describe() + " [" + reason + "]");
        n.setUserData(composite(CHECKPOINT_DATA, Map.of("step", result.step(), "path", result.path(),
                "bytes", result.bytes(), "millis", result.millis(), "reason", reason, "error", result.error())));
        emitter.sendNotification(n);
    }

    public ObjectName objectName() {
        return name;
    }

    /** On the gate's control thread ("pauser-gate"), after the change, outside the gate's lock. */
    @Override
    public void stateChanged(GateState from, GateState to, long step, long millisInPrevious) {
        boolean beforeFirstStep = Gate.beforeFirstStep();
        AttributeChangeNotification n = new AttributeChangeNotification(name, sequence.incrementAndGet(),
                System.currentTimeMillis(), from + " -> " + to + " at step " + step + nothingHeld(to, beforeFirstStep),
                "State", String.class.getName(),
                from.name(), to.name());
        n.setUserData(composite(STATE_CHANGE_DATA, Map.of("step", step, "oldState", from.name(), "newState", to.name(),
                "millisInOldState", millisInPrevious, "beforeFirstStep", beforeFirstStep)));
        emitter.sendNotification(n);
    }

    /** The note on a change to PAUSED while no step has run: such a pause holds no thread. */
    private static String nothingHeld(GateState to, boolean beforeFirstStep) {
        return to == GateState.PAUSED && beforeFirstStep
                ? " (" + PauserMXBean.BEFORE_FIRST_STEP + PauserMXBean.NOTHING_HELD + ")" : "";
    }

    /**
     * The introspected MBeanInfo with attributes and operations in the orders of {@link #ATTRIBUTES} and
     * {@link #OPERATIONS} (introspection follows reflection, whose order is unspecified; JConsole shows the operations
     * in the order given). Anything not listed there goes after the listed ones, by name; stop stays last. Built once
     * and cached; the descriptors (the MXBean's open types) are kept.
     */
    @Override
    public MBeanInfo getMBeanInfo() {
        MBeanInfo cached = getCachedMBeanInfo();
        if (cached != null) {
            return cached;
        }
        MBeanInfo info = super.getMBeanInfo();
        MBeanAttributeInfo[] attributes = info.getAttributes().clone();
        Arrays.sort(attributes, Comparator.comparingInt((MBeanAttributeInfo a) -> rank(ATTRIBUTES, a.getName()))
                .thenComparing(MBeanAttributeInfo::getName));
        MBeanOperationInfo[] operations = info.getOperations().clone();
        Arrays.sort(operations, Comparator.comparingInt((MBeanOperationInfo o) -> operationRank(o.getName()))
                .thenComparing(MBeanOperationInfo::getName));
        MBeanInfo ordered = new MBeanInfo(info.getClassName(), info.getDescription(), attributes,
                info.getConstructors(), operations, info.getNotifications(), info.getDescriptor());
        cacheMBeanInfo(ordered);
        return ordered;
    }

    /** Listed operations in order, then unlisted ones, then stop: an operation that ends the JVM stays at the end. */
    private static int operationRank(String operation) {
        if ("stop".equals(operation)) {
            return Integer.MAX_VALUE;
        }
        return rank(OPERATIONS, operation);
    }

    private static int rank(Map<String, String> order, String name) {
        int i = 0;
        for (String key : order.keySet()) {
            if (key.equals(name)) {
                return i;
            }
            i++;
        }
        return order.size();
    }

    @Override
    protected String getDescription(MBeanInfo info) {
        return "Pauser: pause, resume, checkpoint and stop a training run at @TrainStep boundaries";
    }

    @Override
    protected String getDescription(MBeanAttributeInfo info) {
        return ATTRIBUTES.getOrDefault(info.getName(), info.getDescription());
    }

    @Override
    protected String getDescription(MBeanOperationInfo info) {
        return OPERATIONS.getOrDefault(info.getName(), info.getDescription());
    }

    /** ACTION_INFO for the operations that answer with a result (they wait), ACTION for those that only ask. */
    @Override
    protected int getImpact(MBeanOperationInfo info) {
        return info.getName().contains("AndWait") ? MBeanOperationInfo.ACTION_INFO : MBeanOperationInfo.ACTION;
    }

    @Override
    protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        if (TIMEOUTS.containsKey(op.getName())) {
            return "timeoutMillis";
        }
        return super.getParameterName(op, param, sequence);
    }

    @Override
    protected String getDescription(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        return TIMEOUTS.getOrDefault(op.getName(), super.getDescription(op, param, sequence));
    }

    private static Map<String, String> ordered(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static CompositeType compositeType(String typeName, String description, Map<String, OpenType<?>> items,
            Map<String, String> itemDescriptions) {
        List<String> names = new ArrayList<>(items.keySet());
        names.sort(null);
        try {
            return new CompositeType(typeName, description, names.toArray(new String[0]),
                    names.stream().map(itemDescriptions::get).toArray(String[]::new),
                    names.stream().map(items::get).toArray(OpenType<?>[]::new));
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static CompositeData composite(CompositeType type, Map<String, ?> values) {
        try {
            return new CompositeDataSupport(type, values);
        } catch (OpenDataException e) {
            throw new IllegalStateException("notification data does not match " + type.getTypeName() + ": " + e, e);
        }
    }
}
