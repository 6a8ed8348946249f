package dev.pauser.agent.cluster;

import dev.pauser.agent.checkpoint.CheckpointResult;
import dev.pauser.agent.checkpoint.Checkpointer;
import dev.pauser.agent.config.JobAddress;
import dev.pauser.agent.control.JobView;
import dev.pauser.agent.control.PauseRequests;
import dev.pauser.agent.control.Stopper;
import dev.pauser.agent.log.Log;
import dev.pauser.agent.store.HostName;
import dev.pauser.gate.Gate;
import dev.pauser.gate.GateState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;

/**
 * This JVM as one worker of a job: its registration in ZooKeeper, and the job's pause, stop and checkpoint commits as
 * they concern it. Everything that reads or writes the job's nodes runs on one thread, {@code pauser-job}, in the order
 * things happened; it follows the job's nodes through a {@link CuratorCache} and, at each change, looks at the whole
 * picture again ({@link JobAgreement}, {@link JobCommits}), so a missed or repeated event changes nothing. Training never
 * waits for ZooKeeper: the only wait a step thread ever has is the short hold of a pause agreement, lifted when the
 * step is agreed, when ZooKeeper is lost, or after {@code jobTimeout}.
 */
public final class JobWorker implements PauseRequests.Router, JobView {
    /** The options of a worker. */
    public record Settings(JobAddress address, int rank, int worldSize, Duration timeout, Path dir, int graceSeconds,
            Path authFile) {
    }

    /** The job refused this worker, or could not be reached at start; the message is one line with the fix. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** How long the stop waits for this worker's record, then for the job checkpoint to commit. */
    private static final int EXIT_WAIT_SECONDS = 5;

    private final Settings settings;
    private final CuratorFramework client;
    private final JobNodes nodes;
    private final ExecutorService jobThread = Executors.newSingleThreadExecutor(daemon("pauser-job"));
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("pauser-job-timer"));
    private final JobAgreement agreement;
    private final JobCommits commits;
    private volatile PersistentNode registration;
    private volatile CuratorCache cache;
    private volatile long lastReportedStep = -1;
    private final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean lookQueued = new java.util.concurrent.atomic.AtomicBoolean();
    /** Set as the worker leaves the job: nothing more is posted to {@code pauser-job}. */
    private volatile boolean left;
    private volatile GateState lastReportedState;

    private JobWorker(Settings settings, CuratorFramework client) {
        this.settings = settings;
        this.client = client;
        this.nodes = new JobNodes(settings.address().path());
        this.agreement = new JobAgreement(client, nodes, settings, timer);
        this.commits = new JobCommits(client, nodes, settings);
    }

    /**
     * Connects and joins the job: checks its world size, and that no live worker holds this rank. On the thread that
     * loads the agent, before the checkpoint to resume from is chosen ({@link #resumeOption}).
     *
     * @throws Refused when ZooKeeper can't be reached within the timeout, the job has another world size, or the rank is
     *         taken; nothing was registered
     */
    public static JobWorker join(Settings s) throws Refused {
        CuratorFramework client;
        try {
            client = JobConnection.open(s.address(), s.timeout(), "pauser-zk", s.authFile());
        } catch (IllegalArgumentException e) {
            throw new Refused("pauser: job " + s.address() + ": " + e.getMessage());
        } catch (JobConnection.Unreachable e) {
            throw new Refused("pauser: job " + s.address() + ": " + e.getMessage() + " (a worker needs the job's "
                    + "committed step before it starts; raise jobTimeout= to wait longer)");
        }
        JobWorker w = new JobWorker(s, client);
        try {
            JobMembership.check(client, w.nodes, s);
        } catch (Refused e) {
            client.close();
            throw e;
        }
        return w;
    }

    /**
     * The {@code resume} setting this worker runs with: with {@code auto}, the checkpoint of the newest step the whole
     * job committed (or {@code never}: none committed yet), so every worker resumes from the same step.
     *
     * @throws Refused when the job committed a step this worker has no checkpoint of
     */
    public String resumeOption(String configured) throws Refused {
        return JobResume.choose(client, nodes, settings, configured);
    }

    /**
     * Starts taking part: registers (an ephemeral node Curator re-creates after a lost session), follows the job's
     * nodes, and routes this JVM's pause and resume requests to the job. After the checkpointing is set up, before the
     * first step.
     *
     * @param resumedFrom the step this run resumed from, -1 for a fresh start
     */
    public void start(Checkpointer checkpointer, Stopper stopper, long resumedFrom) {
        commits.start(checkpointer, resumedFrom);
        checkpointer.setExactEverySteps(true);
        agreement.setStopper(stopper);
        stopper.routeTo(this::stop);
        stopper.addHook(this::finish);
        registration = new PersistentNode(client, CreateMode.EPHEMERAL, false, nodes.worker(settings.rank()),
                registrationData());
        registration.start();
        client.getConnectionStateListenable().addListener((c, state) -> connectionChanged(state));
        agreement.startAfter(currentEpoch());
        cache = CuratorCache.build(client, nodes.job());
        cache.listenable().addListener((type, before, after) -> {
            // one look covers every change before it: at most one waits in the queue
            if (lookQueued.compareAndSet(false, true)) {
                post(() -> {
                    lookQueued.set(false);
                    lookAgain();
                });
            }
        });
        cache.start();
        Gate.addListener((from, to, step, millis) -> post(this::report));
        timer.scheduleWithFixedDelay(() -> {
            if (Gate.steps() != lastReportedStep) {
                post(this::report);
            }
        }, 1, 1, TimeUnit.SECONDS);
        PauseRequests.routeTo(this);
        Log.info("job " + settings.address().path() + ": worker rank " + settings.rank() + " of " + settings.worldSize()
                + " registered");
    }

    /**
     * A checkpoint of this worker ended (on the thread that wrote it): phase one of its job checkpoint, for those every
     * worker takes at the same step ({@code every}, pause, stop, the end of the run). One asked of this worker alone (an
     * interval, {@code pauser checkpoint}) is its own.
     */
    public void checkpointed(CheckpointResult result, String reason) {
        boolean everyWorker = reason.startsWith("every ") || reason.equals("pause") || reason.equals("stop")
                || reason.equals("exit");
        if (everyWorker && result.ok() && !result.path().isEmpty()) {
            post(() -> {
                commits.prepared(result.step(), Path.of(result.path()));
                lookAgain();
            });
        }
    }

    @Override
    public void pause(String source) {
        post(() -> agreement.request("pause", source, 0));
    }

    @Override
    public void resume(String source) {
        post(() -> agreement.request("resume", source, 0));
    }

    /**
     * A stop asked of this JVM (SIGTERM, SIGINT, the stop operation) as a job stop: every worker checkpoints the same
     * step and exits with {@code exitStatus}. Falls back to stopping this worker alone when the job can't agree in time.
     */
    public void stop(String reason, int exitStatus) {
        post(() -> agreement.request("stop", reason, exitStatus));
    }

    /**
     * The JVM is about to exit, its final checkpoint durable: sends this worker's record of it, waits a little for the
     * job checkpoint to commit (so the log says whether it did; one missed here is made by the next start), and leaves
     * the job. Once; on {@code pauser-stop} (a stop) or {@code pauser-exit} (the program ended).
     */
    public void finish() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        try {
            awaitFinalCommit();
        } finally {
            close();
        }
    }

    private void awaitFinalCommit() {
        if (Gate.beforeFirstStep()) {
            return;
        }
        long step = Gate.steps();
        try {
            jobThread.submit(() -> { }).get(EXIT_WAIT_SECONDS, TimeUnit.SECONDS); // what was asked before is done
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(EXIT_WAIT_SECONDS);
            while (System.nanoTime() < deadline) {
                if (client.checkExists().forPath(nodes.committed(step)) != null) {
                    return; // the commit has its own line
                }
                Thread.sleep(100);
            }
            Log.stderr("job " + settings.address().path() + ": the job checkpoint of step " + step + " did not commit within "
                    + EXIT_WAIT_SECONDS + " s (a worker has not recorded it yet; the next start commits it if all did)");
        } catch (Exception e) {
            Log.stderr("job " + settings.address().path() + ": cannot tell whether the job checkpoint of step " + step
                    + " committed: " + e);
        }
    }

    @Override
    public String job() {
        return settings.address().toString();
    }

    @Override
    public int rank() {
        return settings.rank();
    }

    @Override
    public String[] workers() {
        CuratorCache c = cache;
        if (c == null) {
            return new String[0];
        }
        return JobTree.of(c).children(nodes.workers()).values().stream().map(JobNodes::parse)
                .map(w -> "rank " + JobNodes.textOf(w, "rank") + " host " + JobNodes.textOf(w, "host") + " pid "
                        + JobNodes.textOf(w, "pid") + " " + JobNodes.textOf(w, "state") + " step "
                        + JobNodes.textOf(w, "step"))
                .toArray(String[]::new);
    }

    @Override
    public long committedStep() {
        return commits.newestCommitted();
    }

    /** On {@code pauser-job}: the job's nodes changed, or this worker did something; see what that calls for. */
    private void lookAgain() {
        try {
            JobTree tree = JobTree.of(cache);
            agreement.lookAgain(tree);
            commits.lookAgain(tree);
        } catch (RuntimeException e) {
            Log.warn("job " + settings.address().path() + ": " + e);
        }
    }

    private long currentEpoch() {
        try {
            return JobNodes.longOf(JobNodes.parse(client.getData().forPath(nodes.control())), "epoch", 0);
        } catch (Exception e) {
            return 0; // no request yet
        }
    }

    /** On Curator's connection thread. */
    private void connectionChanged(ConnectionState state) {
        switch (state) {
            case SUSPENDED:
            case LOST:
                agreement.connectionLost();
                Log.warn("job " + settings.address().path() + ": lost ZooKeeper (" + state.name().toLowerCase()
                        + "); training goes on, job pauses and checkpoint commits wait until it is back");
                break;
            case RECONNECTED:
                Log.info("job " + settings.address().path() + ": ZooKeeper is back; rank " + settings.rank()
                        + " registers again");
                post(this::report);
                post(() -> {
                    commits.recordMissed();
                    lookAgain();
                });
                break;
            default:
                break;
        }
    }

    /** On {@code pauser-job}: this worker's state and step into its registration. */
    private void report() {
        PersistentNode r = registration;
        if (r == null) {
            return;
        }
        long step = Gate.steps();
        GateState state = Gate.state();
        if (step == lastReportedStep && state == lastReportedState) {
            return;
        }
        try {
            r.setData(registrationData());
            lastReportedStep = step;
            lastReportedState = state;
        } catch (Exception e) {
            Log.debug("job " + settings.address().path() + ": cannot update the registration: " + e);
        }
    }

    private byte[] registrationData() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rank", settings.rank());
        m.put("host", HostName.get());
        m.put("pid", ProcessHandle.current().pid());
        m.put("state", Gate.state().name());
        m.put("step", Gate.steps());
        return JobNodes.json(m);
    }

    /** Runs {@code work} on {@code pauser-job}, in order; dropped once the worker has left the job. */
    private void post(Runnable work) {
        if (!left) {
            try {
                jobThread.execute(work);
            } catch (java.util.concurrent.RejectedExecutionException leaving) {
                // the JVM exits: nothing more to tell the job
            }
        }
    }

    private void close() {
        left = true;
        jobThread.shutdown();
        try {
            if (cache != null) {
                cache.close();
            }
            if (registration != null) {
                registration.close();
            }
        } catch (Exception | LinkageError e) {
            // the JVM is exiting: the session's end removes the registration all the same
        } finally {
            client.close();
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
