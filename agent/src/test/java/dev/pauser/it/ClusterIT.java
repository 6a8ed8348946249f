package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.fixture.LockStepTrainer;
import java.io.IOException;
import java.lang.reflect.UndeclaredThrowableException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.management.InstanceNotFoundException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several worker JVMs as one job, end to end: a real ZooKeeper ensemble of three servers (Curator's
 * {@link TestingCluster}) in the test JVM, three {@link LockStepTrainer} workers started with the built agent and
 * {@code cluster=<connect>/<job>,rank=R,worldSize=3,dir=<own>}, driven as a user would: {@code pauser job ...}, JMX,
 * {@code kill -9}, ZooKeeper servers going away. Curator in the test JVM only reads the job's nodes.
 *
 * <p>The workers exchange values every step and fail at once where one resumed from another step than its peers, and
 * a worker paused at another step than its peers would leave them waiting forever: every check below rests on that.
 * The expected results are those of the same three workers run once to the end <em>without</em> the agent: the
 * program's own answer, which a run paused, killed and resumed under Pauser must reproduce bit for bit (a reference
 * taken with the agent could share a fault with the runs it checks).
 *
 * <p>While a test acts, its workers sleep 2-5 ms per step (a few hundred steps per second; one test runs them at full
 * speed throughout) and run to their end at full speed once it deletes their {@code --delay-while} file.
 */
class ClusterIT {
    private static final int WORLD = 3;
    private static final long STEPS = 12_000;
    private static final Duration LONG = Duration.ofSeconds(120);
    private static final Pattern RESULT = Pattern.compile("RESULT rank=\\d+ step=\\d+ value=\\p{XDigit}+");
    private static final String RESUMING = "resuming from committed step (\\d+)";
    /** How often {@code kill -9} ends all workers before the run may finish. */
    private static final int KILL_ROUNDS = 4;
    /** The kill moments' seed; {@code -Dpauser.test.seed=} repeats a failed run's moments. */
    private static final long SEED = Long.getLong("pauser.test.seed", 20261201L);

    /** The three RESULT lines of the uninterrupted run without the agent, by rank; made once per test JVM. */
    private static List<String> reference;

    @TempDir
    Path tmp;

    private TestingCluster ensemble;
    private CuratorFramework reader;
    private final List<Job> jobs = new ArrayList<>();

    @BeforeEach
    void startEnsemble() throws Exception {
        ensemble = new TestingCluster(3);
        ensemble.start();
        reader = CuratorFrameworkFactory.newClient(ensemble.getConnectString(), 10_000, 5_000, new RetryOneTime(200));
        reader.start();
    }

    @AfterEach
    void stopAll() throws IOException {
        for (Job job : jobs) {
            job.close();
        }
        if (reader != null) {
            reader.close();
        }
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @Test
    void jobPausesStopEveryWorkerAtOneStepFiftyTimesAndTheRunEndsAsAnUninterruptedOne() throws Exception {
        Job job = new Job("pause-cycles", "", 5);
        job.startAll();
        PauserMXBean[] mx = job.mxBeans();
        for (int cycle = 0; cycle < 50; cycle++) {
            // every tenth cycle through `pauser job` (a JVM of its own, a second each); the others through JMX on a
            // different worker each time, which the worker turns into a pause of the job
            boolean cli = cycle % 10 == 0;
            long printed = -1;
            if (cli) {
                CliIT.Result r = CliIT.pauser("job", "pause", job.address(), "--wait=60s");
                assertEquals(0, r.exit(), r + job.describe());
                Matcher m = Pattern.compile("^job " + Pattern.quote(job.path) + ": paused at step (\\d+) \\(3 of 3 "
                        + "workers\\)$").matcher(r.out().strip());
                assertTrue(m.matches(), r.toString());
                printed = Long.parseLong(m.group(1));
            } else {
                mx[cycle % WORLD].pause();
            }
            await(job, "cycle " + cycle + ": every worker PAUSED", () -> Arrays.stream(mx)
                    .allMatch(b -> "PAUSED".equals(b.getState())));
            long step = mx[0].getStep();
            for (int r = 0; r < WORLD; r++) {
                assertEquals(step, mx[r].getStep(), "cycle " + cycle + ": rank " + r + " paused at another step than "
                        + "rank 0" + job.describe());
                assertTrue(mx[r].isPaused());
            }
            if (cli) {
                assertEquals(printed, step, "the step job pause printed" + job.describe());
                awaitStatus(job, step);
                CliIT.Result r = CliIT.pauser("job", "resume", job.address());
                assertEquals(0, r.exit(), r + job.describe());
                assertEquals("job " + job.path + ": resumed (3 workers)", r.out().strip(), r.toString());
            } else {
                mx[(cycle + 1) % WORLD].resume();
            }
            await(job, "cycle " + cycle + ": every worker past step " + step, () -> Arrays.stream(mx)
                    .allMatch(b -> b.getStep() > step));
        }
        assertEquals(reference(), job.results());
    }

    @Test
    void killedAtRandomMomentsEveryWorkerResumesFromTheCommittedStepAndTheRunEndsAsAnUninterruptedOne()
            throws Exception {
        Random random = new Random(SEED);
        Job job = new Job("kill-all", "every=100", 2);
        long committed = -1;
        for (int round = 0; round <= KILL_ROUNDS; round++) {
            if (round == KILL_ROUNDS) {
                job.startAll();
            } else {
                // one rank's checkpoints take 300 ms longer to capture (a slower disk, a bigger shard), so that many
                // moments fall between the other ranks' checkpoint of a step and its own, where their newest differ
                for (int r = 0; r < WORLD; r++) {
                    if (r == round % WORLD) {
                        job.start(r, "-Dlockstep.slowCheckpointFromStep=0", "-Dlockstep.slowCheckpointMillis=300");
                    } else {
                        job.start(r);
                    }
                }
            }
            // the step every worker starts from: the newest committed one, or afresh (0) where none is
            long from = 0;
            if (committed >= 0) {
                from = job.awaitSameResumeStep();
                assertEquals(committed, from, "the newest step every worker had recorded before the kill"
                        + job.describe());
            } else {
                for (int r = 0; r < WORLD; r++) {
                    job.awaitOutput(r, "no job checkpoint committed yet; starting afresh");
                }
            }
            if (round == KILL_ROUNDS) {
                break;
            }
            PauserMXBean rank0 = job.mxBean(0);
            long trained = from + 150;
            await(job, "round " + round + ": step " + trained, () -> rank0.getStep() >= trained);
            // the kill moment itself, not a wait for anything: up to two checkpoint intervals later
            Thread.sleep(random.nextInt(1500));
            job.killAll();
            long resumedFrom = committed;
            committed = newestCommittable(job);
            assertTrue(committed >= resumedFrom, "a commit went missing: newest " + committed + ", resumed from "
                    + resumedFrom + " (seed " + SEED + ")");
        }
        assertEquals(reference(), job.results());
    }

    @Test
    void killedWhileCheckpointingManyTimesASecondEveryWorkerStillHasTheCommittedCheckpoint() throws Exception {
        // at full speed with every=20, each worker writes dozens of checkpoints a second and keeps its newest three:
        // the committed step must be one every worker still has when all are killed at once
        Job job = new Job("kill-fast", "every=20", 0);
        job.startAll();
        await(job, "a committed job checkpoint", () -> !committedSteps(job).isEmpty());
        job.killAll();
        long committed = newestCommittable(job);
        job.startAll();
        assertEquals(committed, job.awaitSameResumeStep(), job.describe());
        assertEquals(reference(), job.results());
    }

    @Test
    void aWorkerKilledWhileWritingItsCheckpointLeavesThatStepUncommittedAndTheJobResumesFromThePreviousOne()
            throws Exception {
        Job job = new Job("kill-one", "every=100", 2);
        job.start(0);
        job.start(1);
        job.start(2, "-Dlockstep.slowCheckpointFromStep=300");
        long s = Long.parseLong(job.awaitOutput(2, "slow checkpoint of step (\\d+)").group(1));
        String records = job.path + "/checkpoints/" + s;
        await(job, "ranks 0 and 1 recording their checkpoints of step " + s,
                () -> exists(records + "/0") && exists(records + "/1"));
        assertFalse(exists(records + "/2"), "rank 2 is still writing its checkpoint of step " + s);
        job.workers[2].signal("KILL");
        job.workers[2].awaitExit(LONG);
        // its peers fail at their next exchange (or wait on it): kill them as well
        job.killAll();
        assertNull(reader.checkExists().forPath(job.path + "/committed/" + s),
                "step " + s + " committed without rank 2" + job.describe());
        List<Long> committed = committedSteps(job);
        long previous = committed.stream().mapToLong(Long::longValue).max().orElse(-1);
        assertTrue(previous >= 0 && previous < s, "committed " + committed + job.describe());

        job.startAll();
        assertEquals(previous, job.awaitSameResumeStep(), job.describe());
        assertEquals(reference(), job.results());
    }

    @Test
    void aZooKeeperServerDownChangesNothingAndWithTheEnsembleDownTrainingGoesOnUntilItIsBack() throws Exception {
        Job job = new Job("zookeeper", "every=100", 2);
        job.startAll();
        PauserMXBean[] mx = job.mxBeans();
        await(job, "three registered workers", () -> children(job.path + "/workers").size() == WORLD);
        List<InstanceSpec> servers = new ArrayList<>(ensemble.getInstances());

        assertTrue(ensemble.killServer(servers.get(0)));
        jobPauseAndResume(job, mx);
        long newest = committedSteps(job).stream().mapToLong(Long::longValue).max().orElse(-1);
        await(job, "a job checkpoint committed after " + newest + " with one server down",
                () -> committedSteps(job).stream().anyMatch(c -> c > newest));

        assertTrue(ensemble.killServer(servers.get(1)));
        assertTrue(ensemble.killServer(servers.get(2)));
        long[] atOutage = new long[WORLD];
        for (int r = 0; r < WORLD; r++) {
            atOutage[r] = mx[r].getStep();
        }
        await(job, "training going on without ZooKeeper", () -> {
            for (int r = 0; r < WORLD; r++) {
                if (mx[r].getStep() < atOutage[r] + 200) {
                    return false;
                }
            }
            return true;
        });
        CliIT.Result refused = CliIT.pauser("job", "pause", job.address(), "--wait=60s");
        assertEquals(1, refused.exit(), refused.toString());
        assertTrue(refused.oneErrorLine().startsWith("pauser: cannot reach ZooKeeper at "), refused.toString());

        for (InstanceSpec server : servers) {
            assertTrue(ensemble.restartServer(server));
        }
        long outage = Arrays.stream(atOutage).max().getAsLong();
        await(job, "every worker registered again, with its pid and a step after the outage", () -> {
            List<String> ranks = children(job.path + "/workers");
            if (ranks.size() != WORLD) {
                return false;
            }
            for (int r = 0; r < WORLD; r++) {
                String data = data(job.path + "/workers/" + r);
                Matcher step = Pattern.compile("\"step\":(\\d+)").matcher(data);
                if (!data.contains("\"pid\":" + job.workers[r].pid()) || !step.find()
                        || Long.parseLong(step.group(1)) <= outage) {
                    return false;
                }
            }
            return true;
        });
        jobPauseAndResume(job, mx);
        assertEquals(reference(), job.results());
    }

    /**
     * {@code pauser job status} shows every worker (its pid) PAUSED at {@code step}; asked again until it does, as each
     * worker's registration follows its state change from its own thread.
     */
    private void awaitStatus(Job job, long step) throws Exception {
        List<String> expected = new ArrayList<>();
        for (int r = 0; r < WORLD; r++) {
            expected.add("rank " + r + "  host \\S+  pid " + job.workers[r].pid() + "  PAUSED  step " + step);
        }
        await(job, "job status showing every worker PAUSED at step " + step, () -> {
            CliIT.Result status;
            try {
                status = CliIT.pauser("job", "status", job.address());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            List<String> lines = List.of(status.out().strip().split("\\R"));
            return status.exit() == 0 && lines.size() == WORLD + 1
                    && lines.get(WORLD).matches("committed step (\\d+|none)")
                    && IntStream.range(0, WORLD).allMatch(r -> lines.get(r).matches(expected.get(r)));
        });
    }

    /** {@code pauser job pause}, every worker paused at the step it printed, {@code pauser job resume}, steps move. */
    private void jobPauseAndResume(Job job, PauserMXBean[] mx) throws Exception {
        CliIT.Result paused = CliIT.pauser("job", "pause", job.address(), "--wait=60s");
        assertEquals(0, paused.exit(), paused + job.describe());
        Matcher m = Pattern.compile("paused at step (\\d+) \\(3 of 3 workers\\)").matcher(paused.out());
        assertTrue(m.find(), paused.toString());
        long step = Long.parseLong(m.group(1));
        for (int r = 0; r < WORLD; r++) {
            assertEquals("PAUSED", mx[r].getState(), "rank " + r + job.describe());
            assertEquals(step, mx[r].getStep(), "rank " + r + job.describe());
        }
        CliIT.Result resumed = CliIT.pauser("job", "resume", job.address());
        assertEquals(0, resumed.exit(), resumed + job.describe());
        await(job, "every worker past step " + step, () -> Arrays.stream(mx).allMatch(b -> b.getStep() > step));
    }

    /** The three workers of one job: its path, ports and directories, and the JVMs running them now. */
    private final class Job implements AutoCloseable {
        final String path;
        final int basePort;
        final String options;
        final long delayMillis;
        /** While it exists the workers sleep {@link #delayMillis} per step. */
        final Path slow;
        final ChildJvm[] workers = new ChildJvm[WORLD];
        /** Every JVM started for this job, so that none outlives the test. */
        final List<ChildJvm> started = new ArrayList<>();

        Job(String name, String options, long delayMillis) throws IOException {
            this.path = "/pauser/it/" + name + "-" + System.nanoTime();
            this.basePort = freeBasePort();
            this.options = options;
            this.delayMillis = delayMillis;
            this.slow = Files.createFile(tmp.resolve(name + ".slow"));
            jobs.add(this);
        }

        String address() {
            return ensemble.getConnectString() + path;
        }

        ChildJvm start(int rank, String... jvmArgs) throws IOException {
            ChildJvm.Builder b = ChildJvm.builder().agent("cluster=" + address() + ",rank=" + rank + ",worldSize="
                    + WORLD + ",dir=" + tmp.resolve("rank-" + rank) + (options.isEmpty() ? "" : "," + options));
            for (String arg : jvmArgs) {
                b.jvmArg(arg);
            }
            ChildJvm w = b.main(LockStepTrainer.class, workerArgs(rank, basePort, "--delay-ms",
                    Long.toString(delayMillis), "--delay-while", slow.toString())).start();
            workers[rank] = w;
            started.add(w);
            return w;
        }

        void startAll() throws IOException {
            for (int r = 0; r < WORLD; r++) {
                start(r);
            }
        }

        PauserMXBean[] mxBeans() throws Exception {
            PauserMXBean[] mx = new PauserMXBean[WORLD];
            for (int r = 0; r < WORLD; r++) {
                mx[r] = mxBean(r);
            }
            return mx;
        }

        /** The worker's Pauser MXBean, once registered (the agent registers it beside the program's start). */
        PauserMXBean mxBean(int rank) throws Exception {
            // attached once the program runs (an attach while the JVM is still starting can fail)
            awaitOutput(rank, "connected rank=" + rank);
            PauserMXBean mx = workers[rank].pauser();
            await(this, "rank " + rank + "'s Pauser MXBean", () -> {
                try {
                    mx.getStep();
                    return true;
                } catch (UndeclaredThrowableException e) {
                    if (e.getCause() instanceof InstanceNotFoundException) {
                        return false;
                    }
                    throw e;
                }
            });
            return mx;
        }

        /** {@code kill -9} of every worker still running, in one command, and waits for them to be gone. */
        void killAll() throws Exception {
            List<String> cmd = new ArrayList<>(List.of("kill", "-KILL"));
            for (ChildJvm w : workers) {
                if (w.process().isAlive()) {
                    cmd.add(Long.toString(w.pid()));
                }
            }
            if (cmd.size() > 2) {
                new ProcessBuilder(cmd).inheritIO().start().waitFor();
            }
            for (ChildJvm w : workers) {
                w.awaitExit(LONG);
                w.close();
            }
        }

        /** Every worker's {@code resuming from committed step S} line; they must name the same S, returned. */
        long awaitSameResumeStep() throws InterruptedException {
            long[] steps = new long[WORLD];
            for (int r = 0; r < WORLD; r++) {
                steps[r] = Long.parseLong(awaitOutput(r, RESUMING).group(1));
            }
            for (int r = 1; r < WORLD; r++) {
                assertEquals(steps[0], steps[r], "rank " + r + " resumed from another step than rank 0" + describe());
            }
            return steps[0];
        }

        /** The first match of {@code regex} in what the worker printed; fails at once where a worker exits first. */
        Matcher awaitOutput(int rank, String regex) throws InterruptedException {
            Pattern p = Pattern.compile(regex);
            Matcher[] found = new Matcher[1];
            await(this, "rank " + rank + " printing /" + regex + "/", () -> {
                Matcher m = p.matcher(workers[rank].output());
                found[0] = m;
                return m.find();
            });
            return found[0];
        }

        /** Lets the workers run to their end at full speed; their RESULT lines by rank, each having exited 0. */
        List<String> results() throws Exception {
            Files.deleteIfExists(slow);
            List<String> lines = new ArrayList<>();
            for (ChildJvm w : workers) {
                assertEquals(0, w.awaitExit(LONG), w.describe());
                lines.add(w.awaitLine(RESULT.pattern(), LONG).group());
            }
            return lines;
        }

        String describe() {
            StringBuilder sb = new StringBuilder();
            for (int r = 0; r < WORLD; r++) {
                if (workers[r] != null) {
                    sb.append("\n--- rank ").append(r).append(": ").append(workers[r].describe());
                }
            }
            return sb.toString();
        }

        @Override
        public void close() {
            for (ChildJvm w : started) {
                w.close();
            }
        }
    }

    /** The fixture's arguments for one worker of this test's job size and step count. */
    private static String[] workerArgs(int rank, int basePort, String... more) {
        List<String> args = new ArrayList<>(List.of("--rank", Integer.toString(rank), "--world",
                Integer.toString(WORLD), "--base-port", Integer.toString(basePort), "--steps", Long.toString(STEPS)));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** The three workers run once to their end, without the agent and without delay. */
    private static synchronized List<String> reference() throws Exception {
        if (reference == null) {
            int basePort = freeBasePort();
            List<ChildJvm> workers = new ArrayList<>();
            try {
                for (int r = 0; r < WORLD; r++) {
                    workers.add(ChildJvm.builder().noAgent().main(LockStepTrainer.class, workerArgs(r, basePort))
                            .start());
                }
                List<String> lines = new ArrayList<>();
                for (ChildJvm w : workers) {
                    assertEquals(0, w.awaitExit(LONG), w.describe());
                    lines.add(w.awaitLine(RESULT.pattern(), LONG).group());
                }
                reference = lines;
            } finally {
                workers.forEach(ChildJvm::close);
            }
        }
        return reference;
    }

    /**
     * A base port with the {@code WORLD} ports from it free on the loopback interface, below the ephemeral range
     * (32768 and up here) so that no outgoing connection of the workers takes one of them meanwhile.
     */
    private static int freeBasePort() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 32_000 - WORLD);
            List<ServerSocket> held = new ArrayList<>();
            try {
                for (int r = 0; r < WORLD; r++) {
                    ServerSocket s = new ServerSocket();
                    held.add(s);
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), base + r));
                }
                return base;
            } catch (IOException taken) {
                // try another
            } finally {
                for (ServerSocket s : held) {
                    s.close();
                }
            }
        }
        throw new IOException("no " + WORLD + " free ports in a row between 20000 and 32000");
    }

    /**
     * Polls {@code condition} until it holds; fails with every worker's output after {@link #LONG}, or as soon as a
     * worker has exited (a JMX call to it then fails too: that is reported as the exit).
     */
    private void await(Job job, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + LONG.toNanos();
        while (true) {
            RuntimeException failed = null;
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                failed = e;
            }
            for (ChildJvm w : job.workers) {
                // after a failed call, give a worker that is going a moment to be seen gone
                if (w != null && (failed == null ? !w.process().isAlive() : w.process().waitFor(1, TimeUnit.SECONDS))) {
                    fail("a worker exited before " + what + job.describe());
                }
            }
            if (failed != null) {
                throw failed;
            }
            if (System.nanoTime() > deadline) {
                fail("not within " + LONG + ": " + what + job.describe());
            }
            Thread.sleep(20);
        }
    }

    private boolean exists(String path) {
        try {
            return reader.checkExists().forPath(path) != null;
        } catch (Exception e) {
            return false;
        }
    }

    /** The children of a node; none where it is missing or ZooKeeper does not answer (the caller waits). */
    private List<String> children(String path) {
        try {
            return reader.getChildren().forPath(path);
        } catch (Exception e) {
            return List.of();
        }
    }

    private String data(String path) {
        try {
            return new String(reader.getData().forPath(path), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "";
        }
    }

    private List<Long> committedSteps(Job job) {
        return children(job.path + "/committed").stream().map(Long::parseLong).sorted().collect(Collectors.toList());
    }

    /**
     * The step the job resumes from after every worker was killed: the newest committed one, or a newer one every rank
     * recorded (its checkpoint durable on every worker) that nobody lived to commit, which the next start commits;
     * -1 for none.
     */
    private long newestCommittable(Job job) {
        long newest = committedSteps(job).stream().mapToLong(Long::longValue).max().orElse(-1);
        for (String step : children(job.path + "/checkpoints")) {
            if (children(job.path + "/checkpoints/" + step).size() == WORLD) {
                newest = Math.max(newest, Long.parseLong(step));
            }
        }
        return newest;
    }
}
