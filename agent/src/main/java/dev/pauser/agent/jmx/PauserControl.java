package dev.pauser.agent.jmx;

import dev.pauser.boot.Gate;
import dev.pauser.boot.GateState;
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

    public PauserControl(String directory, String pauseFile, String onSignal, int graceSeconds, String version,
            DoubleSupplier stepsPerSecond, Runnable stop) {
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
