package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.CheckpointOutcome;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.fixture.TinyStateTrainer;
import dev.pauser.fixture.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.Attribute;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanServerConnection;
import javax.management.Notification;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What JMX clients (JConsole, Jolokia, jmxterm) see of the MXBean: values, refusals, waits and notifications. */
class JmxSemanticsIT {
    private static final String[] ENDLESS = {"100000", "5"};

    @TempDir
    Path dir;

    @Test
    void invalidWritesAndTimeoutsAreRefusedWithAMessageNamingTheValuesAccepted() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir)
                .main(Trainer.class, "--steps", "100000", "--delay-ms", "5", "--log").start()) {
            child.awaitLine("done step=2", Duration.ofSeconds(60));
            MBeanServerConnection jmx = child.jmx();
            ObjectName name = new ObjectName(PauserMXBean.OBJECT_NAME);
            PauserMXBean pauser = child.pauser();

            for (long bad : new long[] {0, -2, Long.MIN_VALUE}) {
                // as JConsole and Jolokia write it: the refusal arrives wrapped, its cause names the attribute
                RuntimeMBeanException e = assertThrows(RuntimeMBeanException.class,
                        () -> jmx.setAttribute(name, new Attribute("PauseAtStep", bad)), "PauseAtStep=" + bad);
                assertInstanceOf(IllegalArgumentException.class, e.getTargetException());
                assertEquals("PauseAtStep must be a step number of 1 or more, or -1 for none; got " + bad,
                        e.getTargetException().getMessage());
            }
            IllegalArgumentException everyRefused = assertThrows(IllegalArgumentException.class,
                    () -> pauser.setCheckpointEverySteps(-1));
            assertTrue(everyRefused.getMessage().startsWith("CheckpointEverySteps must be"), everyRefused.getMessage());
            IllegalArgumentException pauseWait = assertThrows(IllegalArgumentException.class,
                    () -> pauser.pauseAndWait(-1));
            assertTrue(pauseWait.getMessage().startsWith("pauseAndWait: timeoutMillis must be 0"), pauseWait.getMessage());
            IllegalArgumentException checkpointWait = assertThrows(IllegalArgumentException.class,
                    () -> pauser.checkpointAndWait(-1));
            assertTrue(checkpointWait.getMessage().startsWith("checkpointAndWait: timeoutMillis must be 0"),
                    checkpointWait.getMessage());
            IllegalArgumentException outcomeWait = assertThrows(IllegalArgumentException.class,
                    () -> pauser.checkpointAndWaitForOutcome(-1));
            assertTrue(outcomeWait.getMessage().startsWith("checkpointAndWaitForOutcome: timeoutMillis must be 0"),
                    outcomeWait.getMessage());

            // nothing refused took effect: no pause, the settings unchanged, training goes on
            assertEquals(-1, pauser.getPauseAtStep());
            assertEquals(0, pauser.getCheckpointEverySteps());
            assertEquals("RUNNING", pauser.getState());
            Steps.awaitStepAfter(pauser, pauser.getStep());
            assertEquals("RUNNING", pauser.getState());

            // the values that mean "none" are accepted
            pauser.setPauseAtStep(-1);
            pauser.setCheckpointEverySteps(0);
            assertEquals(-1, pauser.getPauseAtStep());
            assertEquals(0, pauser.getCheckpointEverySteps());
        }
    }

    @Test
    void zeroTimeoutAsksAndReturnsAtOnceAndTheCheckpointAndPauseStillHappen() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",checkpointOnPause=false")
                .main(TinyStateTrainer.class, ENDLESS).start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 3);
            long asked = pauser.getStep();
            // JConsole's default parameter value is 0
            String answer = pauser.checkpointAndWait(0);
            assertFalse(answer.startsWith("checkpoint failed"), answer);
            assertTrue(answer.startsWith("checkpoint requested at step ") || answer.contains("(step "), answer);
            Steps.await("a checkpoint at or after step " + asked, 60_000,
                    () -> pauser.getLastCheckpointStep() >= asked);
            assertTrue(CheckpointReader.verify(Path.of(pauser.getLastCheckpointPath())).ok());

            String state = pauser.pauseAndWait(0);
            assertTrue(state.equals("PAUSING") || state.equals("PAUSED"), state);
            Steps.await("PAUSED", 60_000, pauser::isPaused);
            pauser.resume();
        }
    }

    @Test
    void theTypedOutcomeSaysDurableThenAlreadyDurableWhileNoStepRunsAndJmxClientsReadItAsOpenData() throws Exception {
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + dir + ",checkpointOnPause=false")
                .main(TinyStateTrainer.class, ENDLESS).start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 3);
            assertEquals("PAUSED", pauser.pauseAndWait(60_000));
            long pausedStep = pauser.getStep();

            CheckpointOutcome written = pauser.checkpointAndWaitForOutcome(60_000);
            assertEquals(CheckpointOutcome.Status.DURABLE, written.status(), written.toString());
            assertTrue(written.succeeded(), written.toString());
            assertEquals(pausedStep, written.step());
            assertEquals(pauser.getLastCheckpointPath(), written.path());
            assertEquals(pauser.getLastCheckpointBytes(), written.bytes());
            assertEquals("", written.error());
            assertTrue(written.message().startsWith(written.path() + " (step " + pausedStep + ", "), written.message());
            assertTrue(CheckpointReader.verify(Path.of(written.path())).ok(), "durable and complete on return");

            // no step since: nothing to write, and the outcome names the checkpoint that holds the state
            CheckpointOutcome again = pauser.checkpointAndWaitForOutcome(60_000);
            assertEquals(CheckpointOutcome.Status.ALREADY_DURABLE, again.status(), again.toString());
            assertEquals(written.path(), again.path());
            assertEquals(pausedStep, again.step());
            assertEquals(again.message(), pauser.checkpointAndWait(60_000), "the string operation says the same");

            // as JConsole or jmxterm see it, without Pauser's classes: composite data, the status by name
            CompositeData raw = (CompositeData) child.jmx().invoke(new ObjectName(PauserMXBean.OBJECT_NAME),
                    "checkpointAndWaitForOutcome", new Object[] {60_000L}, new String[] {"long"});
            assertEquals("ALREADY_DURABLE", raw.get("status"));
            assertEquals(written.path(), raw.get("path"));
            assertEquals(pausedStep, raw.get("step"));
            assertEquals("PAUSED", pauser.getState());
            pauser.resume();
        }
    }

    @Test
    void aCheckpointWhilePausedLeavesThePauseUnbroken() throws Exception {
        Path recording = dir.resolve("run.jfr");
        Path ckpts = Files.createDirectory(dir.resolve("ckpt"));
        long pausedStep;
        try (ChildJvm child = ChildJvm.builder().agent("dir=" + ckpts + ",checkpointOnPause=false")
                .jvmArg("-XX:StartFlightRecording=filename=" + recording + ",settings=default")
                .main(TinyStateTrainer.class, ENDLESS).start()) {
            child.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = child.pauser();
            Steps.awaitStepAfter(pauser, 3);
            assertEquals("PAUSED", pauser.pauseAndWait(60_000));
            pausedStep = pauser.getStep();
            long pausedSince = pauser.getPausedSinceMillis();
            String pausedSinceText = pauser.getPausedSince();
            assertEquals(pausedSince, OffsetDateTime.parse(pausedSinceText).toInstant().toEpochMilli(), pausedSinceText);

            BlockingQueue<Notification> seen = new LinkedBlockingQueue<>();
            child.jmx().addNotificationListener(new ObjectName(PauserMXBean.OBJECT_NAME),
                    (n, handback) -> seen.add(n), null, null);
            String written = pauser.checkpointAndWait(60_000);
            Path path = ckpts.resolve(String.format("ckpt-%012d", pausedStep));
            assertEquals(path + " (step " + pausedStep + ", ", written.substring(0, written.indexOf(", ") + 2), written);

            assertEquals("PAUSED", pauser.getState());
            assertEquals(pausedSince, pauser.getPausedSinceMillis(), "the pause goes on from when it took effect");
            assertEquals(pausedSinceText, pauser.getPausedSince());
            assertEquals(pausedStep, pauser.getStep());
            assertEquals(pausedStep, pauser.getLastCheckpointStep());

            pauser.resume();
            // The notifications arrive in the order they were sent: everything the checkpoint announced comes before
            // the resume's state change.
            Notification n = poll(seen);
            while (!(n instanceof AttributeChangeNotification)) {
                assertEquals(PauserMXBean.CHECKPOINT_WRITTEN, n.getType(), n.getMessage());
                CompositeData data = (CompositeData) n.getUserData();
                assertEquals(pausedStep, data.get("step"));
                assertEquals(path.toString(), data.get("path"));
                assertEquals(pauser.getLastCheckpointBytes(), data.get("bytes"));
                assertTrue((Long) data.get("bytes") > 0, data.toString());
                assertEquals("requested over JMX", data.get("reason"));
                assertEquals("", data.get("error"));
                n = poll(seen);
            }
            AttributeChangeNotification change = (AttributeChangeNotification) n;
            assertEquals("PAUSED", change.getOldValue(), "the checkpoint sent no state change: " + change.getMessage());
            assertEquals("RUNNING", change.getNewValue());
            CompositeData data = (CompositeData) change.getUserData();
            assertEquals(pausedStep, data.get("step"));
            assertEquals("PAUSED", data.get("oldState"));
            assertEquals("RUNNING", data.get("newState"));
            assertEquals(false, data.get("beforeFirstStep"));
            assertTrue((Long) data.get("millisInOldState") >= 0, data.toString());
            assertEquals(pausedStep, pauser.getLastCheckpointStep(), "the written notification came before the resume");

            Steps.awaitStepAfter(pauser, pausedStep);
            pauser.stop();
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
            String out = child.output();
            assertFalse(out.contains("PAUSED -> CHECKPOINTING"), out);
            assertEquals(1, count(out, "state PAUSED -> RUNNING"), out);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(recording).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.pauser.")).collect(Collectors.toList());
        List<RecordedEvent> resumes = named(events, "dev.pauser.Resume");
        assertEquals(1, resumes.size(), "one resume, none for the checkpoint: " + resumes);
        assertEquals(pausedStep, resumes.get(0).getLong("step"));
        assertEquals(1, named(events, "dev.pauser.Pause").size(), events.toString());
    }

    @Test
    void aResumedRunReportsTheCheckpointItResumedFromWithItsTimeAndSize() throws Exception {
        long step;
        try (ChildJvm first = ChildJvm.builder().agent("dir=" + dir).main(TinyStateTrainer.class, ENDLESS).start()) {
            first.awaitLine("^ready$", Duration.ofSeconds(60));
            PauserMXBean pauser = first.pauser();
            Steps.awaitStepAfter(pauser, 3);
            assertEquals("PAUSED", pauser.pauseAndWait(60_000)); // checkpointOnPause: durable once PAUSED
            step = pauser.getLastCheckpointStep();
            assertEquals(pauser.getStep(), step);
            first.process().destroyForcibly();
            first.process().waitFor();
        }
        Path ckpt = dir.resolve(String.format("ckpt-%012d", step));
        long wallTime = CheckpointReader.readManifest(ckpt).wallTime().toEpochMilli();
        long bytes;
        try (Stream<Path> files = Files.list(ckpt)) {
            bytes = files.mapToLong(f -> f.toFile().length()).sum();
        }
        // held right after its first step, with no checkpoint of its own (checkpointOnPause=false)
        try (ChildJvm again = ChildJvm.builder().agent("dir=" + dir + ",checkpointOnPause=false,pauseAtStep=" + (step + 1))
                .main(TinyStateTrainer.class, ENDLESS).start()) {
            again.awaitLine("^ready$", Duration.ofSeconds(60)); // main runs once the agent and its MBean are up
            assertTrue(again.output().contains("resuming from " + ckpt + " at step " + step), again.output());
            PauserMXBean pauser = again.pauser();
            Steps.await("the pause at step " + (step + 1), 60_000, pauser::isPaused);
            assertEquals(step, pauser.getLastCheckpointStep());
            assertEquals(ckpt.toString(), pauser.getLastCheckpointPath());
            assertEquals(wallTime, pauser.getLastCheckpointTimeMillis());
            assertEquals(wallTime, OffsetDateTime.parse(pauser.getLastCheckpointTime()).toInstant().toEpochMilli());
            assertEquals(bytes, pauser.getLastCheckpointBytes());
            assertEquals(0, pauser.getLastCheckpointMillis(), "not taken by this run");
        }
    }

    private static Notification poll(BlockingQueue<Notification> seen) throws InterruptedException {
        Notification n = seen.poll(60, TimeUnit.SECONDS);
        assertNotNull(n, "no notification within 60 s");
        return n;
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).collect(Collectors.toList());
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
