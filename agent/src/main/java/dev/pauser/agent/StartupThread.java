package dev.pauser.agent;

import dev.pauser.agent.contract.AgentProperties;
import dev.pauser.agent.log.Log;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the start-up work that the program's {@code main} need not wait for on a daemon thread, {@code pauser-start}:
 * the JMX MBean, the control socket and the announcement properties. The instrumentation is not among it: a class
 * loaded before the transformer is installed would miss its safe points.
 *
 * <p>No JMX client may see the platform MBean server without Pauser's MBean in it (a program's {@code main}, or a
 * tool that attaches the moment the JVM is up, looks it up straight away). The JDK creates that server in
 * {@link ManagementFactory#getPlatformMBeanServer()}, a {@code static synchronized} method, for its own JMX agent
 * (JConsole, {@code jcmd ManagementAgent.start}) as for anyone else; this thread holds that lock from before
 * {@code premain} returns until the MBean is registered, so every other caller waits for it, as if it had been
 * registered before {@code main}. The command line waits while {@link AgentProperties#STARTING} is set.
 */
final class StartupThread {
    private StartupThread() {
    }

    /**
     * Starts the thread: {@code mbean} under the platform MBean server's lock, then {@code rest}. Returns once the lock
     * is held. Runs on the thread that loads the agent.
     */
    static void start(Runnable mbean, Runnable rest) {
        boolean jmx = ModuleLayer.boot().findModule("java.management").isPresent();
        CountDownLatch holding = new CountDownLatch(1);
        Thread thread = new Thread(() -> {
            try {
                if (jmx) {
                    synchronized (ManagementFactory.class) {
                        holding.countDown();
                        mbean.run();
                    }
                } else {
                    holding.countDown();
                    mbean.run();
                }
                rest.run();
            } catch (RuntimeException | Error e) {
                Log.error("start-up of the JMX MBean and control socket failed: " + e);
            } finally {
                holding.countDown();
                // A tool waiting for the announcement stops waiting, whatever became of it.
                System.clearProperty(AgentProperties.STARTING);
            }
        }, "pauser-start");
        thread.setDaemon(true);
        thread.start();
        try {
            holding.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
