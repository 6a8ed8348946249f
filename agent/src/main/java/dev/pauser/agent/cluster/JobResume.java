package dev.pauser.agent.cluster;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.store.CheckpointNames;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * Which checkpoint a worker resumes from: the newest step the whole job committed, so that all workers start at the
 * same step. Its newer checkpoints never committed and are set aside by the checkpoint wiring, as any checkpoint newer
 * than the resume point is. On the thread that loads the agent.
 */
final class JobResume {
    private JobResume() {
    }

    static String choose(CuratorFramework client, JobNodes nodes, JobWorker.Settings s, String configured)
            throws JobWorker.Refused {
        if (!configured.equals("auto")) {
            Log.warn("job " + s.address() + ": resume=" + configured + " given, so this worker does not resume from "
                    + "the job's committed step; every worker must start from the same step");
            return configured;
        }
        OptionalLong committed;
        try {
            JobCommits.commitComplete(client, nodes, s);
            committed = newestCommitted(client, nodes);
        } catch (Exception e) {
            throw new JobWorker.Refused("pauser: job " + s.address() + ": cannot read its committed steps: " + e
                    + " (check ZooKeeper and its ACLs)");
        }
        if (committed.isEmpty()) {
            Log.info("job " + s.address() + ": no job checkpoint committed yet; starting afresh");
            return "never";
        }
        long step = committed.getAsLong();
        Path ckpt = s.dir().resolve(CheckpointNames.dirName(step));
        if (!Files.isDirectory(ckpt, LinkOption.NOFOLLOW_LINKS)) {
            throw new JobWorker.Refused("pauser: job " + s.address() + " committed step " + step + ", but this worker"
                    + " (rank " + s.rank() + ") has no " + ckpt + "; start it with the dir= it wrote its checkpoints"
                    + " to, or start the whole job afresh under a new job path");
        }
        Log.info("job " + s.address() + ": resuming from committed step " + step);
        return ckpt.toString();
    }

    static OptionalLong newestCommitted(CuratorFramework client, JobNodes nodes) throws Exception {
        List<String> steps;
        try {
            steps = client.getChildren().forPath(nodes.committed());
        } catch (KeeperException.NoNodeException none) {
            return OptionalLong.empty();
        }
        OptionalLong newest = OptionalLong.empty();
        for (String name : steps) {
            OptionalLong n = JobNodes.number(name);
            if (n.isPresent() && (newest.isEmpty() || n.getAsLong() > newest.getAsLong())) {
                newest = n;
            }
        }
        return newest;
    }
}
