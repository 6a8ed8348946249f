package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.Trainer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServerConnection;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JmxPauseIT {
    @TempDir
    Path dir;

    @Test
    void pauseOverJmxHoldsEveryStepThreadAtABoundaryAndResumeContinues() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir).main(Trainer.class, "--steps", "100000", "--delay-ms", "5", "--log")
                .start()) {
            child.awaitLine("done step=5", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            assertEquals("PAUSED", pauser.pauseAndWait(60_000));
            assertTrue(pauser.isPaused());
            assertTrue(pauser.getPausedSinceMillis() > 0);
            long step = pauser.getStep();
            Thread.sleep(300);
            assertEquals(step, pauser.getStep(), "Step moved while paused");
            assertEquals(1, pauser.getTrainerThreads());
            assertParkedInGate(child.jmx(), "worker-0");

            pauser.resume();
            Steps.awaitStepAfter(pauser, step);
            assertEquals("RUNNING", pauser.getState());
            assertEquals(-1, pauser.getPausedSinceMillis());

            pauser.stop(); // the in-flight step finishes, then the JVM exits with 0
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
            assertTrue(child.output().contains("stop requested over JMX: finishing in-flight steps"), child.output());
        }
    }

    @Test
    void jconsoleSeesDescriptionsImpactsParameterNamesAndStateNotifications() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir).main(Trainer.class, "--steps", "100000", "--delay-ms", "5", "--log")
                .start()) {
            child.awaitLine("done step=2", Duration.ofSeconds(60));
            MBeanServerConnection jmx = child.jmx();
            ObjectName name = new ObjectName(PauserMXBean.OBJECT_NAME);
            MBeanInfo info = jmx.getMBeanInfo(name);
            for (MBeanAttributeInfo a : info.getAttributes()) {
                assertNotEquals(a.getName(), a.getDescription());
                assertTrue(a.getDescription().length() > 20, a.getName() + ": " + a.getDescription());
            }
            List<String> attributes = Arrays.stream(info.getAttributes()).map(MBeanAttributeInfo::getName)
                    .collect(Collectors.toList());
            assertEquals(List.of("State", "Step", "Paused", "PausedSince", "PausedSinceMillis"), attributes.subList(0, 5));
            assertTrue(attributes.containsAll(List.of("StepsPerSecond", "TrainerThreads", "PauseAtStep",
                    "LastCheckpointTime", "LastCheckpointTimeMillis")), attributes.toString());
            assertTrue(Arrays.stream(info.getAttributes()).anyMatch(a -> a.getName().equals("PauseAtStep") && a.isWritable()));
            // JConsole lists the operations in this order: stop, which ends the JVM, not between resume and pause
            assertEquals(List.of("pause", "pauseAndWait", "resume", "checkpoint", "checkpointAndWait",
                    "checkpointAndWaitForOutcome", "stop"),
                    Arrays.stream(info.getOperations()).map(MBeanOperationInfo::getName).collect(Collectors.toList()));
            for (MBeanOperationInfo op : info.getOperations()) {
                assertEquals(op.getName().contains("AndWait") ? MBeanOperationInfo.ACTION_INFO : MBeanOperationInfo.ACTION,
                        op.getImpact(), op.getName());
                assertFalse(op.getDescription().startsWith("Operation exposed"), op.getName());
                for (MBeanParameterInfo p : op.getSignature()) {
                    assertEquals("timeoutMillis", p.getName(), op.getName());
                    assertTrue(p.getDescription().startsWith("Milliseconds to wait at most")
                            && p.getDescription().contains("0 returns at once"), op.getName() + ": " + p.getDescription());
                }
            }
            MBeanOperationInfo stop = info.getOperations()[info.getOperations().length - 1];
            assertTrue(stop.getDescription().startsWith("Ends the JVM"), stop.getDescription());
            assertTrue(Arrays.stream(info.getNotifications()).anyMatch(
                    n -> Arrays.asList(n.getNotifTypes()).contains(AttributeChangeNotification.ATTRIBUTE_CHANGE)));
            double rate = (Double) jmx.getAttribute(name, "StepsPerSecond");
            assertEquals(Math.round(rate * 10) / 10.0, rate, "rounded to 0.1");

            BlockingQueue<AttributeChangeNotification> seen = new LinkedBlockingQueue<>();
            NotificationListener listener = (n, handback) -> seen.add((AttributeChangeNotification) n);
            jmx.addNotificationListener(name, listener, null, null);
            jmx.invoke(name, "pauseAndWait", new Object[] {60_000L}, new String[] {"long"});
            jmx.invoke(name, "resume", new Object[0], new String[0]);
            // PAUSING shows only when a step is in flight at the request; a thread between steps pauses at once.
            List<String> changes = new ArrayList<>();
            String last = "RUNNING";
            while (!changes.contains("PAUSED->RUNNING")) {
                AttributeChangeNotification n = seen.poll(60, TimeUnit.SECONDS);
                assertNotNull(n, "state notifications so far: " + changes);
                assertEquals("State", n.getAttributeName());
                assertEquals(last, n.getOldValue(), "notifications out of order: " + changes);
                last = (String) n.getNewValue();
                changes.add(n.getOldValue() + "->" + n.getNewValue());
            }
            assertTrue(changes.equals(List.of("RUNNING->PAUSING", "PAUSING->PAUSED", "PAUSED->RUNNING"))
                    || changes.equals(List.of("RUNNING->PAUSED", "PAUSED->RUNNING")), changes.toString());
        }
    }

    /**
     * The thread is parked (WAITING, not spinning) inside the gate, called from a step hook. A thread that was between
     * two steps when the pause took effect parks at its next entry, which on a busy machine may take a while: waits for it.
     */
    static void assertParkedInGate(MBeanServerConnection jmx, String threadName) throws Exception {
        ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(jmx, ManagementFactory.THREAD_MXBEAN_NAME,
                ThreadMXBean.class);
        String[] last = {"no thread " + threadName};
        Steps.await(() -> last[0], 60_000, () -> {
            for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
                if (info.getThreadName().equals(threadName)) {
                    boolean inGate = false;
                    for (StackTraceElement e : info.getStackTrace()) {
                        if (e.getClassName().equals("dev.pauser.gate.StepHooks")) {
                            inGate = true;
                        }
                    }
                    last[0] = threadName + " parked in a step hook; it is " + info.getThreadState() + " at "
                            + Arrays.toString(info.getStackTrace());
                    return info.getThreadState() == Thread.State.WAITING && inGate;
                }
            }
            last[0] = "no thread " + threadName;
            return false;
        });
    }
}
