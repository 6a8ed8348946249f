package dev.pauser.agent.jmx;

/**
 * Pauser's management interface, registered on the platform MBean server as {@link #OBJECT_NAME}. Open types only, so
 * JConsole, jmxterm and Jolokia need none of Pauser's classes. Descriptions shown by JConsole live in
 * {@link PauserMBean}.
 */
public interface PauserMXBean {
    String OBJECT_NAME = "dev.pauser:type=Pauser";

    /** The notification type sent on every state change (an {@code AttributeChangeNotification} of {@code State}). */
    String STATE_CHANGE = "jmx.attribute.change";

    String getState();

    long getStep();

    boolean isPaused();

    long getPausedSinceMillis();

    double getStepsPerSecond();

    int getTrainerThreads();

    /**
     * True until a thread enters a {@code @TrainStep} method in this JVM. A pause taken meanwhile holds no thread: the
     * first step will wait at its entry, but a program training in a method that is not instrumented runs on.
     */
    boolean isBeforeFirstStep();

    /** The note reporters add to the state while {@link #isBeforeFirstStep()} holds. */
    String BEFORE_FIRST_STEP = "before the first step: no @TrainStep method has run in this JVM yet";

    /** Added to {@link #BEFORE_FIRST_STEP} where the state is PAUSED. */
    String NOTHING_HELD = ", so no thread is held";

    long getPauseAtStep();

    void setPauseAtStep(long step);

    String getDirectory();

    String getPauseFile();

    String getOnSignal();

    int getGraceSeconds();

    String getVersion();

    void pause();

    void resume();

    void stop();

    String pauseAndWait(long timeoutMillis);

    // ---- checkpoints

    /** The notification type sent when a checkpoint is durable. */
    String CHECKPOINT_WRITTEN = "dev.pauser.checkpoint.written";

    /** The notification type sent when a checkpoint could not be taken or written. */
    String CHECKPOINT_FAILED = "dev.pauser.checkpoint.failed";

    /** Asks for a checkpoint at the next safe point; returns at once. */
    void checkpoint();

    /** Asks for a checkpoint and waits until it is durable; returns a line naming it, or starting "checkpoint failed". */
    String checkpointAndWait(long timeoutMillis);

    long getLastCheckpointStep();

    String getLastCheckpointPath();

    long getLastCheckpointBytes();

    /** How long the last checkpoint took, capture and durable write, in milliseconds. */
    long getLastCheckpointMillis();

    /** How long the last checkpoint held the training threads (the capture), in milliseconds. */
    long getLastCheckpointStallMillis();

    /** When the last checkpoint became durable, ms since the epoch; -1 for none in this run. */
    long getLastCheckpointTimeMillis();

    String getLastError();

    long getCheckpointEverySteps();

    void setCheckpointEverySteps(long steps);
}
