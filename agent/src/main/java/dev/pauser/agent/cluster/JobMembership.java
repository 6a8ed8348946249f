package dev.pauser.agent.cluster;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.store.HostName;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * Who may join a job: a worker with the job's world size, for a rank no live worker holds. On the thread that loads
 * the agent, once, before anything is registered.
 */
final class JobMembership {
    private JobMembership() {
    }

    static void check(CuratorFramework client, JobNodes nodes, JobWorker.Settings s) throws JobWorker.Refused {
        try {
            checkWorldSize(client, nodes, s);
            awaitFreeRank(client, nodes, s);
        } catch (JobWorker.Refused e) {
            throw e;
        } catch (Exception e) {
            throw new JobWorker.Refused("pauser: job " + s.address() + ": cannot join: " + e
                    + " (check ZooKeeper and its ACLs)");
        }
    }

    /** The first worker records the world size; every later one must have the same. */
    private static void checkWorldSize(CuratorFramework client, JobNodes nodes, JobWorker.Settings s) throws Exception {
        try {
            client.create().creatingParentContainersIfNeeded()
                    .forPath(nodes.world(), JobNodes.json(Map.of("worldSize", s.worldSize())));
            return;
        } catch (KeeperException.NodeExistsException e) {
            // another worker was first: compare
        }
        long recorded = JobNodes.longOf(JobNodes.parse(client.getData().forPath(nodes.world())), "worldSize", -1);
        if (recorded != s.worldSize()) {
            throw new JobWorker.Refused("pauser: job " + s.address() + " has worldSize=" + recorded
                    + ", but this worker (rank " + s.rank() + ") was started with worldSize=" + s.worldSize()
                    + "; start every worker with the same worldSize, or give a new job path to start another job");
        }
    }

    /**
     * A registration left by a killed worker of this host is removed at once; one from another host lives until its
     * session expires ({@link JobConnection#SESSION_TIMEOUT_MS}), which is waited for; a live worker's is a refusal.
     */
    private static void awaitFreeRank(CuratorFramework client, JobNodes nodes, JobWorker.Settings s) throws Exception {
        String path = nodes.worker(s.rank());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JobConnection.SESSION_TIMEOUT_MS * 2L)
                + s.timeout().toNanos();
        boolean said = false;
        while (true) {
            byte[] data;
            try {
                data = client.getData().forPath(path);
            } catch (KeeperException.NoNodeException free) {
                return;
            }
            Map<String, Object> holder = JobNodes.parse(data);
            String host = JobNodes.textOf(holder, "host");
            long pid = JobNodes.longOf(holder, "pid", -1);
            if (host.equals(HostName.get())) {
                if (pid == ProcessHandle.current().pid()) {
                    return;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    throw new JobWorker.Refused("pauser: job " + s.address() + ": rank " + s.rank()
                            + " is already taken by pid " + pid + " on this host; give each worker its own rank");
                }
                try {
                    client.delete().forPath(path);
                    Log.info("job " + s.address() + ": removed the registration of rank " + s.rank()
                            + " left by pid " + pid + ", which is gone");
                } catch (KeeperException.NoNodeException alreadyGone) {
                    // its session ended meanwhile
                }
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new JobWorker.Refused("pauser: job " + s.address() + ": rank " + s.rank()
                        + " is taken by pid " + pid + " on " + host + "; give each worker its own rank (a worker "
                        + "killed there frees it " + JobConnection.SESSION_TIMEOUT_MS / 1000 + " s after it died)");
            }
            if (!said) {
                Log.info("job " + s.address() + ": rank " + s.rank() + " is still registered by pid " + pid + " on "
                        + host + "; waiting for that session to end");
                said = true;
            }
            Thread.sleep(250);
        }
    }
}
