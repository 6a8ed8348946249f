package dev.pauser.agent.jmx;

import dev.pauser.agent.checkpoint.CheckpointResult;
import dev.pauser.boot.Gate;
import dev.pauser.boot.GateListener;
import dev.pauser.boot.GateState;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;
import javax.management.StandardEmitterMBean;

/**
 * The registered MBean: the {@link PauserMXBean} with real descriptions, impacts and parameter names (JConsole shows
 * "Operation exposed for management" and {@code p0} otherwise), and a notification on every state change.
 * {@link StandardEmitterMBean} rather than StandardMBean: the latter drops notifications.
 */
public final class PauserMBean extends StandardEmitterMBean implements GateListener {

    private static final Map<String, String> ATTRIBUTES = Map.ofEntries(
            Map.entry("State", "RUNNING, PAUSING (asked, waiting for a step boundary), PAUSED, CHECKPOINTING or STOPPING"),
            Map.entry("Step", "Completed outermost @TrainStep calls, summed over all threads"),
            Map.entry("Paused", "True once every thread inside a step is parked at a boundary"),
            Map.entry("PausedSinceMillis", "When the pause took effect, in milliseconds since 1970-01-01 UTC; -1 when not paused"),
            Map.entry("StepsPerSecond", "Steps per second over the last ten seconds"),
            Map.entry("TrainerThreads", "Live threads that have run at least one @TrainStep"),
            Map.entry("BeforeFirstStep", "True until a thread enters a @TrainStep method in this JVM: a pause then holds no thread "
                    + "(the first step will wait). If the program trains while this stays true, its step method is not instrumented"),
            Map.entry("PauseAtStep", "Pause once Step reaches this number (the pauseAtStep option); -1 for never. Writable"),
            Map.entry("Directory", "Where checkpoints and the pause file live (the dir option)"),
            Map.entry("PauseFile", "While this file exists the run is paused: creating it pauses, deleting it resumes"),
            Map.entry("OnSignal", "What SIGTERM and SIGINT do: STOP (finish the step, run the stop hook, exit) or EXIT"),
            Map.entry("GraceSeconds", "How long a stop waits for in-flight steps before exiting anyway"),
            Map.entry("Version", "The Pauser agent's version"),
            Map.entry("LastCheckpointStep", "The step of the newest durable checkpoint (of this run, or the one it resumed from); -1 for none"),
            Map.entry("LastCheckpointPath", "The directory of the newest durable checkpoint; empty for none"),
            Map.entry("LastCheckpointBytes", "The size of the newest checkpoint written by this run, in bytes"),
            Map.entry("LastCheckpointMillis", "How long the newest checkpoint took, capture and durable write, in milliseconds"),
            Map.entry("LastCheckpointStallMillis", "How long the newest checkpoint held the training threads (the copy into staging), in milliseconds"),
            Map.entry("LastCheckpointTimeMillis", "When the newest checkpoint became durable, ms since 1970-01-01 UTC; -1 for none in this run"),
            Map.entry("LastError", "The last checkpoint error (full disk, a field that can't be captured); empty after a success"),
            Map.entry("CheckpointEverySteps", "Checkpoint every this many steps (the every option); 0 for none. Writable"));

    private static final Map<String, String> OPERATIONS = Map.of(
            "checkpoint", "Ask for a checkpoint at the next step boundary; returns at once. Watch LastCheckpointStep",
            "checkpointAndWait", "Ask for a checkpoint and wait until it is durable or the timeout ends; returns where it is",
            "pause", "Ask for a pause at the next step boundary; returns at once. Watch State for PAUSED",
            "resume", "Let steps run again; returns at once",
            "stop", "Finish in-flight steps, run the stop hook, then exit the JVM with status 0; returns at once",
            "pauseAndWait", "Ask for a pause and wait until it has taken effect or the timeout ends; returns the state reached");

    private final NotificationBroadcasterSupport emitter;
    private final AtomicLong sequence = new AtomicLong();
    private final ObjectName name;

    public PauserMBean(PauserMXBean impl, NotificationBroadcasterSupport emitter) throws Exception {
        super(impl, PauserMXBean.class, true, emitter);
        this.emitter = emitter;
        this.name = new ObjectName(PauserMXBean.OBJECT_NAME);
    }

    /** The emitter announcing state changes; its notification info is what JConsole lists. */
    public static NotificationBroadcasterSupport newEmitter() {
        MBeanNotificationInfo state = new MBeanNotificationInfo(
                new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
                AttributeChangeNotification.class.getName(),
                "Sent on every change of State (old and new value, and the step in the message)");
        MBeanNotificationInfo checkpoints = new MBeanNotificationInfo(
                new String[] {PauserMXBean.CHECKPOINT_WRITTEN, PauserMXBean.CHECKPOINT_FAILED},
                Notification.class.getName(),
                "Sent when a checkpoint is durable (the message names it) or failed (the message says why)");
        return new NotificationBroadcasterSupport(state, checkpoints);
    }

    /** Announces a checkpoint written or failed. */
    public void checkpointed(CheckpointResult result, String reason) {
        if (!result.written() && result.ok()) {
            return;
        }
        Notification n = new Notification(result.ok() ? PauserMXBean.CHECKPOINT_WRITTEN : PauserMXBean.CHECKPOINT_FAILED,
                name, sequence.incrementAndGet(), System.currentTimeMillis(), result.describe() + " [" + reason + "]");
        n.setUserData(result.ok() ? result.path() : result.error());
        emitter.sendNotification(n);
    }

    public ObjectName objectName() {
        return name;
    }

    @Override
    public void stateChanged(GateState from, GateState to, long step, long millisInPrevious) {
        AttributeChangeNotification n = new AttributeChangeNotification(name, sequence.incrementAndGet(),
                System.currentTimeMillis(), from + " -> " + to + " at step " + step + nothingHeld(to),
                "State", String.class.getName(),
                from.name(), to.name());
        emitter.sendNotification(n);
    }

    /** The note on a change to PAUSED while no step has run: such a pause holds no thread. */
    private static String nothingHeld(GateState to) {
        return to == GateState.PAUSED && Gate.beforeFirstStep()
                ? " (" + PauserMXBean.BEFORE_FIRST_STEP + PauserMXBean.NOTHING_HELD + ")" : "";
    }

    @Override
    protected String getDescription(javax.management.MBeanInfo info) {
        return "Pauser: pause, resume and stop a training run at @TrainStep boundaries";
    }

    @Override
    protected String getDescription(MBeanAttributeInfo info) {
        return ATTRIBUTES.getOrDefault(info.getName(), info.getDescription());
    }

    @Override
    protected String getDescription(MBeanOperationInfo info) {
        return OPERATIONS.getOrDefault(info.getName(), info.getDescription());
    }

    @Override
    protected int getImpact(MBeanOperationInfo info) {
        return MBeanOperationInfo.ACTION;
    }

    @Override
    protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        if ("pauseAndWait".equals(op.getName()) || "checkpointAndWait".equals(op.getName())) {
            return "timeoutMillis";
        }
        return super.getParameterName(op, param, sequence);
    }

    @Override
    protected String getDescription(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        if ("pauseAndWait".equals(op.getName())) {
            return "How long to wait for the pause to take effect, in milliseconds";
        }
        if ("checkpointAndWait".equals(op.getName())) {
            return "How long to wait for the checkpoint to be durable, in milliseconds";
        }
        return super.getDescription(op, param, sequence);
    }
}
