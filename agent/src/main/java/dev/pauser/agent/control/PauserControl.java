package dev.pauser.agent.control;

import dev.pauser.agent.checkpoint.CheckpointResult;
import dev.pauser.agent.checkpoint.Checkpointer;
import dev.pauser.agent.contract.CheckpointOutcome;
import dev.pauser.agent.contract.CheckpointOutcome.Status;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.gate.Gate;
import dev.pauser.gate.GateState;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;

/**
 * The MXBean's implementation: every operation is a request to the gate, the checkpointer or the stopper; only the
 * {@code ...AndWait} operations block, and only their caller (a JMX connection thread). Written values and parameters
 * are checked here, at the boundary users reach: a bad one is an {@link IllegalArgumentException} whose message names
 * it and the values it takes, which JConsole and Jolokia show.
 */
public final class PauserControl implements PauserMXBean {
    /** ISO-8601 with the JVM's offset, to the millisecond, always with seconds (a reader sorts and parses them alike). */
    private static final DateTimeFormatter ISO_TIME = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss.SSS").appendOffsetId().toFormatter();

    private final String directory;
    private final String pauseFile;
    private final String onSignal;
    private final int graceSeconds;
    private final String version;
    private final DoubleSupplier stepsPerSecond;
    private final Runnable stop;
    private final Checkpointer checkpointer;

    private volatile JobView job = JobView.ALONE;

    public PauserControl(String directory, String pauseFile, String onSignal, int graceSeconds, String version,
            DoubleSupplier stepsPerSecond, Runnable stop, Checkpointer checkpointer) {
        this.checkpointer = checkpointer;
        this.directory = directory;
        this.pauseFile = pauseFile;
        this.onSignal = onSignal;
        this.graceSeconds = graceSeconds;
        this.version = version;
        this.stepsPerSecond = stepsPerSecond;
        this.stop = stop;
    }

    @Override
    public String getState() {
        return Gate.state().name();
    }

    @Override
    public long getStep() {
        return Gate.steps();
    }

    @Override
    public boolean isPaused() {
        return Gate.state() == GateState.PAUSED;
    }

    @Override
    public long getPausedSinceMillis() {
        return Gate.pausedSinceMillis();
    }

    @Override
    public String getPausedSince() {
        return isoTime(Gate.pausedSinceMillis());
    }

    /** Rounded to 0.1: the rate is an average over ten seconds, more digits would only be noise. */
    @Override
    public double getStepsPerSecond() {
        return Math.round(stepsPerSecond.getAsDouble() * 10) / 10.0;
    }

    @Override
    public int getTrainerThreads() {
        return Gate.trainerThreads();
    }

    @Override
    public boolean isBeforeFirstStep() {
        return Gate.beforeFirstStep();
    }

    @Override
    public long getPauseAtStep() {
        return Gate.pauseAtStep();
    }

    @Override
    public void setPauseAtStep(long step) {
        if (step != NO_STEP && step < 1) {
            throw new IllegalArgumentException("PauseAtStep must be a step number of 1 or more, or -1 for none; got "
                    + step);
        }
        Gate.pauseAtStep(step);
    }

    @Override
    public String getDirectory() {
        return directory;
    }

    /** Shows the job this JVM is a worker of. */
    public void showJob(JobView view) {
        job = view;
    }

    @Override
    public String getJob() {
        return job.job();
    }

    @Override
    public int getJobRank() {
        return job.rank();
    }

    @Override
    public String[] getJobWorkers() {
        return job.workers();
    }

    @Override
    public long getJobCommittedStep() {
        return job.committedStep();
    }

    @Override
    public String getPauseFile() {
        return pauseFile;
    }

    @Override
    public String getOnSignal() {
        return onSignal;
    }

    @Override
    public int getGraceSeconds() {
        return graceSeconds;
    }

    @Override
    public String getVersion() {
        return version;
    }

    @Override
    public void pause() {
        PauseRequests.pause("JMX");
    }

    @Override
    public void resume() {
        PauseRequests.resume("JMX");
    }

    @Override
    public void stop() {
        stop.run();
    }

    @Override
    public void checkpoint() {
        checkpointer.request("requested over JMX");
    }

    @Override
    public String checkpointAndWait(long timeoutMillis) {
        return awaitCheckpoint("checkpointAndWait", timeoutMillis).message();
    }

    @Override
    public CheckpointOutcome checkpointAndWaitForOutcome(long timeoutMillis) {
        return awaitCheckpoint("checkpointAndWaitForOutcome", timeoutMillis);
    }

    /** Asks for a checkpoint and waits for it; {@code operation} names the caller in the error on a bad timeout. */
    private CheckpointOutcome awaitCheckpoint(String operation, long timeoutMillis) {
        checkTimeout(operation, timeoutMillis);
        long step = Gate.steps();
        CompletableFuture<CheckpointResult> done = checkpointer.request("requested over JMX");
        if (timeoutMillis == 0) {
            CheckpointResult now = done.getNow(null);
            return now != null ? outcome(now) : notDurable(Status.REQUESTED, step, "", "checkpoint requested at step "
                    + step + ", not waited for (timeoutMillis 0); watch LastCheckpointStep or the "
                    + CHECKPOINT_WRITTEN + " notification");
        }
        try {
            return outcome(done.get(timeoutMillis, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            String error = "not durable within " + timeoutMillis + " ms (state " + Gate.state()
                    + "); it is still requested";
            return notDurable(Status.TIMED_OUT, step, error, "checkpoint failed: " + error);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return notDurable(Status.FAILED, step, "interrupted", "checkpoint failed: interrupted");
        } catch (ExecutionException e) {
            String error = String.valueOf(e.getCause());
            return notDurable(Status.FAILED, step, error, "checkpoint failed: " + error);
        }
    }

    /** The typed outcome of a finished request; its message is the checkpointer's own line for it. */
    static CheckpointOutcome outcome(CheckpointResult r) {
        Status status;
        if (!r.ok()) {
            status = Status.FAILED;
        } else if (r.written()) {
            status = Status.DURABLE;
        } else {
            status = r.path().isEmpty() ? Status.NOTHING_TO_SAVE : Status.ALREADY_DURABLE;
        }
        return new CheckpointOutcome(status, r.step(), r.path(), r.bytes(), r.millis(), r.error(), r.describe());
    }

    private static CheckpointOutcome notDurable(Status status, long step, String error, String message) {
        return new CheckpointOutcome(status, step, "", 0, 0, error, message);
    }

    @Override
    public long getLastCheckpointStep() {
        return checkpointer.status().lastStep();
    }

    @Override
    public String getLastCheckpointPath() {
        return checkpointer.status().lastPath();
    }

    @Override
    public long getLastCheckpointBytes() {
        return checkpointer.status().lastBytes();
    }

    @Override
    public long getLastCheckpointMillis() {
        return checkpointer.status().lastMillis();
    }

    @Override
    public long getLastCheckpointStallMillis() {
        return checkpointer.status().lastStallMillis();
    }

    @Override
    public long getLastCheckpointStallMicros() {
        return checkpointer.status().lastStallMicros();
    }

    @Override
    public long getLastCheckpointTimeMillis() {
        return checkpointer.status().lastTimeMillis();
    }

    @Override
    public String getLastError() {
        return checkpointer.status().lastError();
    }

    @Override
    public String getDeviceStaging() {
        return checkpointer.status().deviceStaging();
    }

    @Override
    public long getDeviceStateBytes() {
        return checkpointer.status().deviceBytes();
    }

    @Override
    public long getLastDeviceCopyMillis() {
        return checkpointer.status().deviceCopyMillis();
    }

    @Override
    public long getDeviceBytesReleased() {
        return checkpointer.deviceBytesReleased();
    }

    @Override
    public String getDeviceReleaseError() {
        return checkpointer.deviceReleaseError();
    }

    @Override
    public long getCheckpointEverySteps() {
        return checkpointer.everySteps();
    }

    @Override
    public void setCheckpointEverySteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("CheckpointEverySteps must be a number of steps, 1 or more, or 0 for none; "
                    + "got " + steps);
        }
        checkpointer.setEverySteps(steps);
    }

    @Override
    public String getLastCheckpointTime() {
        return isoTime(checkpointer.status().lastTimeMillis());
    }

    @Override
    public String pauseAndWait(long timeoutMillis) {
        checkTimeout("pauseAndWait", timeoutMillis);
        PauseRequests.pause("JMX");
        try {
            return Gate.awaitState(timeoutMillis, GateState.PAUSED, GateState.STOPPING).name();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Gate.state().name();
        }
    }

    private static void checkTimeout(String operation, long timeoutMillis) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException(operation + ": timeoutMillis must be 0 (return at once) or more "
                    + "(milliseconds to wait at most); got " + timeoutMillis);
        }
    }

    /** {@code millis} since the epoch as ISO-8601 text in the JVM's time zone; empty for -1 (none). */
    static String isoTime(long millis) {
        return millis < 0 ? "" : ISO_TIME.format(Instant.ofEpochMilli(millis).atZone(ZoneId.systemDefault()));
    }
}
