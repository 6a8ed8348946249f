package dev.pauser.agent.control;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/** The tests' MBean, registered as {@link #NAME} on an MBean server of its own. */
public final class Sample implements SampleMXBean {
    public static final String NAME = "dev.pauser.test:type=Sample";

    private volatile long count = 7;
    private final CountDownLatch released = new CountDownLatch(1);
    private final MBeanServer server = MBeanServerFactory.newMBeanServer();
    private final ObjectName name;

    public Sample() throws Exception {
        name = new ObjectName(NAME);
        server.registerMBean(new StandardMBean(this, SampleMXBean.class, true), name);
    }

    public MBeanServer server() {
        return server;
    }

    public ObjectName name() {
        return name;
    }

    @Override
    public long getCount() {
        return count;
    }

    @Override
    public void setCount(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be 0 or more, not " + count);
        }
        this.count = count;
    }

    @Override
    public String getName() {
        return "sample";
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public double getRate() {
        return 2.5;
    }

    @Override
    public long[] getHistory() {
        return new long[] {1, 2, 3};
    }

    @Override
    public String echo(String text, int times) {
        return text.repeat(times);
    }

    @Override
    public void fail(String message) {
        throw new IllegalStateException(message);
    }

    @Override
    public String block() {
        try {
            return released.await(2, TimeUnit.MINUTES) ? "released" : "not released";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    public void release() {
        released.countDown();
    }
}
