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
}
