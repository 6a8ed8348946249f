package dev.pauser.agent.control;

/** A management interface for the control channel's tests: attributes and operations of the kinds an MXBean offers. */
public interface SampleMXBean {
    long getCount();

    /** Refuses a negative count with an IllegalArgumentException. */
    void setCount(long count);

    String getName();

    boolean isReady();

    double getRate();

    long[] getHistory();

    String echo(String text, int times);

    /** Throws an IllegalStateException carrying {@code message}. */
    void fail(String message);

    /** Waits until {@link Sample#release()} is called; returns "released". */
    String block();
}
