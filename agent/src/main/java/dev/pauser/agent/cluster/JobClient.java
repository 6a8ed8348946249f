package dev.pauser.agent.cluster;

import dev.pauser.agent.config.JobAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A job seen from outside, for the {@code pauser job} commands: who is registered, what was committed, and requests to
 * pause or resume every worker. On the caller's thread; every call reads ZooKeeper afresh.
 */
public final class JobClient implements AutoCloseable {
    /** One registered worker, as it last reported itself. */
    public record Worker(int rank, String host, long pid, String state, long step) {
    }

    /** A request ZooKeeper refused or could not answer; the message is one line with the fix. */
    public static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The job at one moment. {@code worldSize} is -1 when no worker ever joined it. */
    public record Status(int worldSize, List<Worker> workers, OptionalLong committed) {
    }

    private final JobAddress address;
    private final CuratorFramework client;
    private final JobNodes nodes;

    private JobClient(JobAddress address, CuratorFramework client) {
        this.address = address;
        this.client = client;
        this.nodes = new JobNodes(address.path());
    }

    /**
     * @param authFile the password file of the job's ZooKeeper user ({@code user:password}); null for none
     * @throws JobConnection.Unreachable when the ensemble does not answer within {@code timeout}
     * @throws IllegalArgumentException when the password file can't be used, in one line
     */
    public static JobClient connect(JobAddress address, Duration timeout, java.nio.file.Path authFile)
            throws JobConnection.Unreachable {
        return new JobClient(address, JobConnection.open(address, timeout, "pauser-zk", authFile));
    }

    public Status status() throws Failure {
        return call(this::readStatus);
    }

    private Status readStatus() throws Exception {
        int worldSize;
        try {
            worldSize = (int) JobNodes.longOf(JobNodes.parse(client.getData().forPath(nodes.world())), "worldSize", -1);
        } catch (KeeperException.NoNodeException none) {
            return new Status(-1, List.of(), OptionalLong.empty());
        }
        List<Worker> workers = new ArrayList<>();
        List<String> ranks;
        try {
            ranks = client.getChildren().forPath(nodes.workers());
        } catch (KeeperException.NoNodeException none) {
            ranks = List.of();
        }
        for (String rank : ranks) {
            try {
                Map<String, Object> w = JobNodes.parse(client.getData().forPath(nodes.workers() + "/" + rank));
                workers.add(new Worker((int) JobNodes.longOf(w, "rank", -1), JobNodes.textOf(w, "host"),
                        JobNodes.longOf(w, "pid", -1), JobNodes.textOf(w, "state"), JobNodes.longOf(w, "step", -1)));
            } catch (KeeperException.NoNodeException gone) {
                // it left while we listed
            }
        }
        workers.sort(Comparator.comparingInt(Worker::rank));
        return new Status(worldSize, List.copyOf(workers), JobResume.newestCommitted(client, nodes));
    }

    /** Asks every worker to pause at one agreed step; returns the request's epoch. */
    public long requestPause() throws Failure {
        return call(() -> request("pause"));
    }

    /** Asks every worker to resume; returns the request's epoch. */
    public long requestResume() throws Failure {
        return call(() -> request("resume"));
    }

    /** The step the workers agreed on for request {@code epoch}, once all have answered. */
    public OptionalLong agreedStep(long epoch) throws Failure {
        return call(() -> readAgreedStep(epoch));
    }

    private OptionalLong readAgreedStep(long epoch) throws Exception {
        try {
            return OptionalLong.of(JobNodes.longOf(JobNodes.parse(client.getData().forPath(nodes.decided(epoch))),
                    "step", -1));
        } catch (KeeperException.NoNodeException notYet) {
            return OptionalLong.empty();
        }
    }

    /** The ranks that have answered request {@code epoch}. */
    public List<String> answered(long epoch) throws Failure {
        return call(() -> readAnswered(epoch));
    }

    private List<String> readAnswered(long epoch) throws Exception {
        try {
            return client.getChildren().forPath(nodes.agree(epoch));
        } catch (KeeperException.NoNodeException none) {
            return List.of();
        }
    }

    private long request(String action) throws Exception {
        while (true) {
            Stat stat = new Stat();
            long epoch;
            try {
                epoch = JobNodes.longOf(JobNodes.parse(client.getData().storingStatIn(stat).forPath(nodes.control())),
                        "epoch", 0) + 1;
            } catch (KeeperException.NoNodeException none) {
                stat = null;
                epoch = 1;
            }
            Map<String, Object> next = new LinkedHashMap<>();
            next.put("epoch", epoch);
            next.put("action", action);
            next.put("status", 0);
            next.put("by", "pauser job " + action + " (pid " + ProcessHandle.current().pid() + ")");
            try {
                if (stat == null) {
                    client.create().creatingParentContainersIfNeeded().forPath(nodes.control(), JobNodes.json(next));
                } else {
                    client.setData().withVersion(stat.getVersion()).forPath(nodes.control(), JobNodes.json(next));
                }
                return epoch;
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException raced) {
                // another request came first: ask again on top of it
            }
        }
    }

    private <T> T call(java.util.concurrent.Callable<T> work) throws Failure {
        try {
            return work.call();
        } catch (KeeperException.NoAuthException e) {
            throw new Failure("ZooKeeper refused access to " + e.getPath() + " (its ACL): give this command the "
                    + "password file the workers have (--zk-auth-file, or PAUSER_ZK_AUTH_FILE)", e);
        } catch (KeeperException e) {
            throw new Failure("ZooKeeper at " + address.connect() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted", e);
        } catch (Exception e) {
            throw new Failure("ZooKeeper at " + address.connect() + " failed: " + e, e);
        }
    }

    public JobAddress address() {
        return address;
    }

    @Override
    public void close() {
        client.close();
    }
}
