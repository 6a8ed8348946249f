package dev.pauser.agent.contract;

/**
 * Pauser's management interface, registered on the platform MBean server as {@link #OBJECT_NAME}. Open types only, so
 * JConsole, jmxterm and Jolokia need none of Pauser's classes. Descriptions shown by JConsole live in the agent's
 * registered MBean ({@code dev.pauser.agent.control.PauserMBean}). Operations run on the caller's thread (a JMX connection
 * thread, or "pauser-control-call" for the command line); only the {@code ...AndWait...} ones block.
 */
public interface PauserMXBean {
    String OBJECT_NAME = "dev.pauser:type=Pauser";

    /** The notification type sent on every state change (an {@code AttributeChangeNotification} of {@code State}). */
    String STATE_CHANGE = "jmx.attribute.change";

    String getState();

    long getStep();

    boolean isPaused();

    long getPausedSinceMillis();

    /** {@link #getPausedSinceMillis()} as ISO-8601 text in the JVM's time zone; empty when not paused. */
    String getPausedSince();

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

    /** The PauseAtStep value meaning "no pause at a step" (the option's empty value). */
    long NO_STEP = -1;

    /** The step at which the run pauses once; {@link #NO_STEP} for none. */
    long getPauseAtStep();

    /**
     * Pauses once Step reaches {@code step} (1 or more; a step already passed pauses at once), or clears it with
     * {@link #NO_STEP}; anything else is an IllegalArgumentException.
     */
    void setPauseAtStep(long step);

    String getDirectory();

    /** The job of several JVMs this one is a worker of (the cluster option); empty when it trains alone. */
    String getJob();

    /** This worker's rank in its job; -1 when it trains alone. */
    int getJobRank();

    /** Every registered worker of the job, one line each: {@code rank 0 host h pid 123 PAUSED step 42}. */
    String[] getJobWorkers();

    /** The newest step the whole job committed a checkpoint of; -1 for none, or alone. */
    long getJobCommittedStep();

    String getPauseFile();

    String getOnSignal();

    int getGraceSeconds();

    String getVersion();

    void pause();

    void resume();

    void stop();

    /**
     * Asks for a pause and waits at most {@code timeoutMillis} for it to take effect (0: returns at once; negative: an
     * IllegalArgumentException); returns the state reached.
     */
    String pauseAndWait(long timeoutMillis);

    // ---- checkpoints

    /** The notification type sent when a checkpoint is durable. */
    String CHECKPOINT_WRITTEN = "dev.pauser.checkpoint.written";

    /** The notification type sent when a checkpoint could not be taken or written. */
    String CHECKPOINT_FAILED = "dev.pauser.checkpoint.failed";

    /** Asks for a checkpoint at the next safe point; returns at once. */
    void checkpoint();

    /**
     * Asks for a checkpoint and waits at most {@code timeoutMillis} until it is durable; returns a line naming it, or
     * starting "checkpoint failed" (also on timeout: "checkpoint failed: not durable within"). 0 waits not at all: the
     * line then starts "checkpoint requested" unless the answer was already known. Negative: IllegalArgumentException.
     */
    String checkpointAndWait(long timeoutMillis);

    /**
     * {@link #checkpointAndWait(long)} with a typed answer: the same request and wait, its outcome as a
     * {@link CheckpointOutcome} (its {@code message} is the line {@code checkpointAndWait} would return). Programs decide
     * on its status rather than on text. Negative {@code timeoutMillis}: IllegalArgumentException.
     */
    CheckpointOutcome checkpointAndWaitForOutcome(long timeoutMillis);

    long getLastCheckpointStep();

    String getLastCheckpointPath();

    long getLastCheckpointBytes();

    /** How long the last checkpoint took, capture and durable write, in milliseconds. */
    long getLastCheckpointMillis();

    /**
     * How long the last checkpoint held the training threads, in milliseconds: the copy into staging, and with
     * async=false the write too.
     */
    long getLastCheckpointStallMillis();

    /** {@link #getLastCheckpointStallMillis()} in microseconds, for small states whose copy takes under a millisecond. */
    long getLastCheckpointStallMicros();

    /**
     * When the newest checkpoint became durable, ms since the epoch: one of this run, or the one it resumed from (the
     * time in its manifest); -1 for none.
     */
    long getLastCheckpointTimeMillis();

    /** {@link #getLastCheckpointTimeMillis()} as ISO-8601 text in the JVM's time zone; empty for none. */
    String getLastCheckpointTime();

    String getLastError();

    /**
     * Where the last snapshot's GPU fields were copied while training was held: {@code device} (a shadow copy on the
     * device, streamed to disk afterwards), {@code host} (pinned host memory), {@code none} (no GPU fields).
     */
    String getDeviceStaging();

    /** The GPU fields' bytes in the last snapshot. */
    long getDeviceStateBytes();

    /** How long the last snapshot's GPU copies held the training threads, in milliseconds. */
    long getLastDeviceCopyMillis();

    /** GPU bytes given back by the pause in effect now ({@code releaseGpuOnPause}); 0 when running. */
    long getDeviceBytesReleased();

    /** Why taking the GPU memory back at the last resume failed (the run stays paused); empty otherwise. */
    String getDeviceReleaseError();

    /** Checkpoint every this many steps; 0 for none. */
    long getCheckpointEverySteps();

    /** 1 or more, or 0 to turn it off; negative is an IllegalArgumentException. */
    void setCheckpointEverySteps(long steps);
}
