package dev.pauser.agent.jmx;

import dev.pauser.boot.Gate;
import dev.pauser.boot.GateState;
import dev.pauser.agent.checkpoint.Checkpointer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;

/** The MXBean's implementation: every operation is a request to the gate or the stopper, none blocks but pauseAndWait. */
public final class PauserControl implements PauserMXBean {
    private final String directory;
    private final String pauseFile;
    private final String onSignal;
    private final int graceSeconds;
    private final String version;
    private final DoubleSupplier stepsPerSecond;
    private final Runnable stop;
    private final Checkpointer checkpointer;

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
    public double getStepsPerSecond() {
        return stepsPerSecond.getAsDouble();
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
        Gate.pauseAtStep(step);
    }

    @Override
    public String getDirectory() {
        return directory;
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
        Gate.pause();
    }

    @Override
    public void resume() {
        Gate.resume();
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
        try {
            return checkpointer.request("requested over JMX").get(Math.max(0, timeoutMillis), TimeUnit.MILLISECONDS)
                    .describe();
        } catch (TimeoutException e) {
            return "checkpoint failed: not durable within " + timeoutMillis + " ms (state " + Gate.state()
                    + "); it is still requested";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "checkpoint failed: interrupted";
        } catch (ExecutionException e) {
            return "checkpoint failed: " + e.getCause();
        }
    }

    @Override
    public long getLastCheckpointStep() {
        return checkpointer.lastStep();
    }

    @Override
    public String getLastCheckpointPath() {
        return checkpointer.lastPath();
    }

    @Override
    public long getLastCheckpointBytes() {
        return checkpointer.lastBytes();
    }

    @Override
    public long getLastCheckpointMillis() {
        return checkpointer.lastMillis();
    }

    @Override
    public long getLastCheckpointStallMillis() {
        return checkpointer.lastStallMillis();
    }

    @Override
    public long getLastCheckpointTimeMillis() {
        return checkpointer.lastTimeMillis();
    }

    @Override
    public String getLastError() {
        return checkpointer.lastError();
    }

    @Override
    public long getCheckpointEverySteps() {
        return checkpointer.everySteps();
    }

    @Override
    public void setCheckpointEverySteps(long steps) {
        checkpointer.setEverySteps(steps);
    }

    @Override
    public String pauseAndWait(long timeoutMillis) {
        Gate.pause();
        try {
            return Gate.awaitState(timeoutMillis, GateState.PAUSED, GateState.STOPPING).name();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Gate.state().name();
        }
    }
}
