package dev.pauser.agent.cluster;

import dev.pauser.agent.control.Stopper;
import dev.pauser.agent.log.Log;
import dev.pauser.gate.Gate;
import dev.pauser.gate.GateState;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The job's pause, resume and stop, as one worker takes part in them.
 *
 * <p>A request is a new epoch of {@code J/control}. For a pause or stop, each worker promises a step it will not pass:
 * the step its running steps can still reach before it holds them ({@link Gate#holdAtNextStep}), or the step it is
 * paused at. It publishes the promise at once, from this thread, never waiting for a step to end: so a worker whose
 * step waits for a peer's data still answers, and no worker's promise depends on another's progress. When all
 * {@code worldSize} promises are in, the agreed step S is the largest ({@code J/decided/<e>}, created once, the same for
 * everyone since promises never change): no worker has passed it, and each runs on to S and pauses (or stops) at its
 * end. Workers that exchange data every step meet again at S: none waits on a paused peer. The hold lasts one ZooKeeper
 * round trip; it is lifted without an agreement when ZooKeeper is lost or after {@code jobTimeout}, and training goes on.
 *
 * <p>Threads: everything runs on {@code pauser-job}, except {@link #connectionLost} (Curator's connection thread) and
 * the timeout ({@code pauser-job-timer}), which only lift the hold, or stop this worker alone when it waits to stop.
 */
final class JobAgreement {
    private final CuratorFramework client;
    private final JobNodes nodes;
    private final JobWorker.Settings s;
    /** How log lines name the job. */
    private final String job;
    private final ScheduledExecutorService timer;
    private Stopper stopper;

    // On pauser-job.
    /** Requests up to this epoch were acted on, or came before this worker joined. */
    private long handledEpoch;
    private long pendingEpoch = -1;
    private String pendingAction;
    private int pendingStatus;
    /** The epoch whose hold is in place; -1 once lifted (agreed, timed out, ZooKeeper lost). */
    private volatile long holdEpoch = -1;
    /** The epoch of a job stop this worker waits to see agreed; -1 for none. */
    private volatile long stopEpoch = -1;
    private volatile int stopStatus;
    /** The agreed step this worker armed a pause at; -1 for none. */
    private volatile long armedPause = -1;

    JobAgreement(CuratorFramework client, JobNodes nodes, JobWorker.Settings s, ScheduledExecutorService timer) {
        this.client = client;
        this.nodes = nodes;
        this.s = s;
        this.job = "job " + s.address().path();
        this.timer = timer;
    }

    void setStopper(Stopper stopper) {
        this.stopper = stopper;
    }

    /** Before the job's nodes are followed: requests made before this worker joined are not its business. */
    void startAfter(long epoch) {
        handledEpoch = epoch;
    }

    /**
     * Asks the job to pause, resume or stop: writes the next epoch of {@code J/control}. When ZooKeeper can't be
     * reached, this worker does it alone, and says so.
     */
    void request(String action, String source, int exitStatus) {
        try {
            for (int attempt = 0; attempt < 10; attempt++) {
                Stat stat = new Stat();
                Map<String, Object> current;
                try {
                    current = JobNodes.parse(client.getData().storingStatIn(stat).forPath(nodes.control()));
                } catch (KeeperException.NoNodeException none) {
                    current = null;
                }
                if (current != null && action.equals("pause") && action.equals(JobNodes.textOf(current, "action"))
                        && Gate.state() == GateState.PAUSED) {
                    Log.info(job + ": already paused (" + source + " asked again)");
                    return;
                }
                long epoch = (current == null ? 0 : JobNodes.longOf(current, "epoch", 0)) + 1;
                Map<String, Object> next = new LinkedHashMap<>();
                next.put("epoch", epoch);
                next.put("action", action);
                next.put("status", exitStatus);
                next.put("by", "rank " + s.rank() + " (" + source + ")");
                try {
                    if (current == null) {
                        client.create().creatingParentContainersIfNeeded().forPath(nodes.control(), JobNodes.json(next));
                    } else {
                        client.setData().withVersion(stat.getVersion()).forPath(nodes.control(), JobNodes.json(next));
                    }
                    Log.info(job + ": " + source + " asked to " + action + " the job (request " + epoch
                            + ")");
                    return;
                } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException raced) {
                    // another request came first: read it and ask again on top of it
                }
            }
            throw new IllegalStateException("too many requests at once");
        } catch (Exception e) {
            aloneBecause(action, source, exitStatus, e);
        }
    }

    private void aloneBecause(String action, String source, int exitStatus, Exception e) {
        Log.warn(job + ": cannot reach ZooKeeper to " + action + " the job (" + e.getMessage()
                + "); " + (action.equals("resume") ? "resuming" : action.equals("stop") ? "stopping" : "pausing")
                + " this worker alone, as " + source + " asked");
        switch (action) {
            case "pause":
                Gate.pause();
                break;
            case "resume":
                withdrawArmedPause();
                Gate.resume();
                break;
            default:
                stopper.stop(source, exitStatus);
                break;
        }
    }

    /** On {@code pauser-job}: acts on a new request, and on the agreed step once all promises are in. */
    void lookAgain(JobTree tree) {
        byte[] control = tree.data(nodes.control());
        if (control != null) {
            Map<String, Object> c = JobNodes.parse(control);
            long epoch = JobNodes.longOf(c, "epoch", 0);
            if (epoch > handledEpoch) {
                handledEpoch = epoch;
                act(epoch, JobNodes.textOf(c, "action"), (int) JobNodes.longOf(c, "status", 0));
            }
        }
        if (pendingEpoch >= 0) {
            decide(tree);
        }
    }

    private void act(long epoch, String action, int exitStatus) {
        if (action.equals("resume")) {
            pendingEpoch = -1;
            liftHold();
            withdrawArmedPause();
            Gate.resume();
            return;
        }
        if (!action.equals("pause") && !action.equals("stop")) {
            Log.warn(job + ": ignoring request " + epoch + " with the unknown action '" + action + "'");
            return;
        }
        long promise;
        if (Gate.state() == GateState.PAUSED) {
            promise = Gate.steps();
        } else {
            holdEpoch = epoch;
            promise = Gate.holdAtNextStep();
        }
        long waitMillis = s.timeout().toMillis();
        if (action.equals("stop")) {
            // a stop has the grace period to finish in: keep half of it for the checkpoint and the exit
            stopStatus = exitStatus;
            stopEpoch = epoch;
            waitMillis = Math.min(waitMillis, s.graceSeconds() * 500L);
        }
        timer.schedule(() -> timedOut(epoch, exitStatus), waitMillis, TimeUnit.MILLISECONDS);
        pendingEpoch = epoch;
        pendingAction = action;
        pendingStatus = exitStatus;
        try {
            byte[] data = JobNodes.json(Map.of("step", promise));
            try {
                client.create().creatingParentContainersIfNeeded().forPath(nodes.proposal(epoch, s.rank()), data);
            } catch (KeeperException.NodeExistsException again) {
                client.setData().forPath(nodes.proposal(epoch, s.rank()), data);
            }
        } catch (Exception e) {
            pendingEpoch = -1;
            liftHold();
            if (stopEpoch == epoch) {
                stopEpoch = -1;
                aloneBecause(action, "the job's request " + epoch, exitStatus, e);
                return;
            }
            Log.warn(job + ": cannot take part in request " + epoch + " (" + action + "): " + e
                    + "; this worker goes on");
        }
    }

    private void decide(JobTree tree) {
        long epoch = pendingEpoch;
        byte[] decided = tree.data(nodes.decided(epoch));
        long agreed;
        if (decided != null) {
            agreed = JobNodes.longOf(JobNodes.parse(decided), "step", -1);
        } else {
            Map<String, byte[]> promises = tree.children(nodes.agree(epoch));
            long max = -1;
            int ranks = 0;
            for (Map.Entry<String, byte[]> p : promises.entrySet()) {
                OptionalLong rank = JobNodes.number(p.getKey());
                if (rank.isPresent() && rank.getAsLong() < s.worldSize()) {
                    ranks++;
                    max = Math.max(max, JobNodes.longOf(JobNodes.parse(p.getValue()), "step", -1));
                }
            }
            if (ranks < s.worldSize()) {
                return; // wait for the others
            }
            agreed = max;
            try {
                client.create().creatingParentContainersIfNeeded().forPath(nodes.decided(epoch),
                        JobNodes.json(Map.of("step", agreed)));
            } catch (KeeperException.NodeExistsException another) {
                return; // another worker wrote it first: it arrives through the cache, the same step
            } catch (Exception e) {
                Log.warn(job + ": cannot record the agreed step of request " + epoch + ": " + e);
                return;
            }
        }
        pendingEpoch = -1;
        stopEpoch = -1;
        apply(epoch, agreed);
    }

    /** Runs on to {@code step} and pauses or stops there, then lets the steps go. */
    private void apply(long epoch, long step) {
        boolean stop = pendingAction.equals("stop");
        boolean holdInPlace = holdEpoch == epoch;
        long now = Gate.steps();
        boolean paused = Gate.state() == GateState.PAUSED;
        if (now > step || (now == step && !holdInPlace && !paused)) {
            liftHold();
            Log.warn(job + ": request " + epoch + " agreed on step " + step + ", but this worker "
                    + "went on to step " + now + " meanwhile (its hold was lifted: ZooKeeper was away or jobTimeout="
                    + s.timeout().toSeconds() + "s passed); it does not " + pendingAction);
            return;
        }
        Log.info(job + ": " + (stop ? "stopping" : "pausing") + " at step " + step
                + ", agreed by all " + s.worldSize() + " workers (request " + epoch + ")");
        int status = pendingStatus;
        String reason = "job stop at step " + step;
        if (now == step) {
            if (stop) {
                Gate.stop(); // closed before the hold is lifted below: the stop starts on a thread of its own
                stopper.stop(reason, status);
            } else {
                Gate.pause();
            }
        } else {
            if (stop) {
                Gate.stopAtStep(step, () -> stopper.stop(reason, status));
            } else {
                Gate.pauseAtStep(step);
                armedPause = step;
            }
            if (paused) {
                Gate.resume();
            }
        }
        liftHold();
        if (s.rank() == 0) {
            forgetBefore(epoch);
        }
    }

    /** The promises and agreed steps of earlier requests are of no more use. */
    private void forgetBefore(long epoch) {
        for (String parent : new String[] {nodes.agree(), nodes.decided()}) {
            try {
                for (String name : client.getChildren().forPath(parent)) {
                    OptionalLong e = JobNodes.number(name);
                    if (e.isPresent() && e.getAsLong() < epoch) {
                        client.delete().deletingChildrenIfNeeded().forPath(parent + "/" + name);
                    }
                }
            } catch (Exception e) {
                Log.debug(job + ": cannot clean " + parent + ": " + e);
            }
        }
    }

    /** A resume withdraws the pause at an agreed step not reached yet, but not one the user set (pauseAtStep). */
    private void withdrawArmedPause() {
        long armed = armedPause;
        armedPause = -1;
        if (armed >= 0 && Gate.pauseAtStep() == armed) {
            Gate.pauseAtStep(-1);
        }
    }

    private void liftHold() {
        holdEpoch = -1;
        Gate.releaseHold();
    }

    /** On {@code pauser-job-timer}. A stop that can't be agreed in time stops this worker alone. */
    private void timedOut(long epoch, int exitStatus) {
        if (stopEpoch == epoch) {
            stopEpoch = -1;
            holdEpoch = -1;
            Log.warn(job + ": the workers did not agree on a step to stop at in time; stopping this "
                    + "worker alone");
            stopper.stop("job stop (not agreed in time)", exitStatus);
            Gate.releaseHold();
            return;
        }
        if (holdEpoch == epoch) {
            holdEpoch = -1;
            Gate.releaseHold();
            Log.warn(job + ": the workers did not agree on a step for request " + epoch + " within "
                    + "jobTimeout=" + s.timeout().toSeconds() + "s (is every worker running and connected?); this "
                    + "worker goes on");
        }
    }

    /** On Curator's connection thread: never hold the steps while the job can't be reached. */
    void connectionLost() {
        long stop = stopEpoch;
        if (stop >= 0) {
            stopEpoch = -1;
            holdEpoch = -1;
            stopper.stop("job stop (ZooKeeper lost)", stopStatus);
            Gate.releaseHold();
            return;
        }
        if (holdEpoch >= 0) {
            holdEpoch = -1;
            Gate.releaseHold();
        }
    }
}
