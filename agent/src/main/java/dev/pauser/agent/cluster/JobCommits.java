package dev.pauser.agent.cluster;

import dev.pauser.agent.checkpoint.Checkpointer;
import dev.pauser.agent.log.Log;
import dev.pauser.agent.store.CheckpointNames;
import dev.pauser.agent.store.HostName;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.KeeperException;

/**
 * Job checkpoints, in two phases. Phase one: each worker writes its own checkpoint of step S as it always does
 * (durable before it is visible), then records it in {@code J/checkpoints/<S>/<rank>}. Phase two: once all
 * {@code worldSize} ranks have, any worker creates {@code J/committed/<S>} (created once; the others find it there).
 * Each worker then pins its checkpoint of S through retention and writes {@code job-commit.json} beside its checkpoints.
 * A worker killed before its record means S never commits, and the previous commit stands: at start every worker
 * resumes from the newest committed step. On {@code pauser-job}, except {@link #start}.
 */
final class JobCommits {
    /** Beside a worker's checkpoints: the newest job checkpoint it saw committed. */
    static final String RECORD_FILE = "job-commit.json";

    private final CuratorFramework client;
    private final JobNodes nodes;
    private final JobWorker.Settings s;
    /** How log lines name the job. */
    private final String job;
    private Checkpointer checkpointer;
    /** Written on {@code pauser-job}, read by JMX. */
    private volatile long newestCommitted = -1;
    /** Steps this worker recorded that no commit has settled yet (each pinned), with when (System.nanoTime). */
    private final java.util.TreeMap<Long, Long> recorded = new java.util.TreeMap<>();
    /** Said that records wait longer than jobTimeout; said again only after a commit. */
    private boolean saidWaiting;
    /** Checkpoints written while ZooKeeper was away, by step: recorded when it is back. */
    private final Map<Long, Path> unrecorded = new java.util.TreeMap<>();
    /** The newest step refused for differing state, said once. */
    private long refusedStep = -1;

    JobCommits(CuratorFramework client, JobNodes nodes, JobWorker.Settings s) {
        this.client = client;
        this.nodes = nodes;
        this.s = s;
        this.job = "job " + s.address().path();
    }

    /**
     * On the thread that loads the agent. Keeps the checkpoint this worker resumed from, and withdraws its records of
     * newer steps: those checkpoints were set aside, and must never be counted towards a commit of the new timeline.
     */
    void start(Checkpointer cp, long resumedFrom) {
        this.checkpointer = cp;
        if (resumedFrom >= 0) {
            cp.pin(resumedFrom);
            newestCommitted = resumedFrom;
        }
        try {
            for (String name : client.getChildren().forPath(nodes.checkpoints())) {
                OptionalLong step = JobNodes.number(name);
                if (step.isPresent() && step.getAsLong() > resumedFrom) {
                    try {
                        client.delete().forPath(nodes.prepared(step.getAsLong(), s.rank()));
                    } catch (KeeperException.NoNodeException notOurs) {
                        // this worker had no record of that step
                    }
                }
            }
        } catch (KeeperException.NoNodeException none) {
            // no job checkpoint yet
        } catch (Exception e) {
            Log.warn(job + ": cannot withdraw this worker's records of checkpoints newer than step "
                    + resumedFrom + ": " + e);
        }
    }

    long newestCommitted() {
        return newestCommitted;
    }

    /** Phase one: this worker's checkpoint of {@code step} is durable. */
    void prepared(long step, Path checkpoint) {
        if (!record(step, checkpoint)) {
            unrecorded.put(step, checkpoint);
        }
    }

    /**
     * ZooKeeper is back: records the checkpoints written meanwhile that are still on disk and newer than the last
     * commit, so they can still commit once every worker has recorded them.
     */
    void recordMissed() {
        unrecorded.entrySet().removeIf(e -> e.getKey() <= newestCommitted || !Files.isDirectory(e.getValue())
                || record(e.getKey(), e.getValue()));
    }

    /**
     * Pinned before the record is made: once recorded the step may commit at any moment, and this worker must still
     * have the checkpoint then. Unpinned when a newer step commits, or when the record can't be made.
     */
    private boolean record(long step, Path checkpoint) {
        checkpointer.pin(step);
        if (!Files.isDirectory(checkpoint)) {
            // retention took it before the pin: it can't be part of a job checkpoint any more
            checkpointer.unpin(step);
            Log.debug(job + ": " + checkpoint + " is gone; not recorded");
            return true;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("checkpoint", checkpoint.getFileName().toString());
        m.put("schema", StateDigest.of(checkpoint));
        m.put("host", HostName.get());
        m.put("pid", ProcessHandle.current().pid());
        byte[] data = JobNodes.json(m);
        try {
            try {
                client.create().creatingParentContainersIfNeeded().forPath(nodes.prepared(step, s.rank()), data);
            } catch (KeeperException.NodeExistsException again) {
                client.setData().forPath(nodes.prepared(step, s.rank()), data);
            }
            long now = System.nanoTime();
            recorded.put(step, now);
            long oldest = recorded.firstEntry().getValue();
            if (!saidWaiting && now - oldest > s.timeout().toNanos()) {
                saidWaiting = true;
                Log.warn(job + ": this worker's checkpoints since step " + recorded.firstKey() + " (" + recorded.size()
                        + ") have waited over jobTimeout=" + s.timeout().toSeconds() + "s for the other workers to record"
                        + " theirs, and are kept until then; is every worker running and checkpointing at the same"
                        + " steps? (pauser job status)");
            }
            return true;
        } catch (Exception e) {
            checkpointer.unpin(step);
            Log.warn(job + ": cannot record this worker's checkpoint of step " + step
                    + " in ZooKeeper (" + e.getMessage() + "); the job checkpoint of step " + step
                    + " commits only once ZooKeeper is back and every worker has recorded it");
            return false;
        }
    }

    /** Phase two for every step all ranks recorded, then what a new commit means to this worker. */
    void lookAgain(JobTree tree) {
        for (String name : tree.children(nodes.checkpoints()).keySet()) {
            OptionalLong step = JobNodes.number(name);
            if (step.isEmpty() || step.getAsLong() <= newestCommitted
                    || tree.data(nodes.committed(step.getAsLong())) != null) {
                continue;
            }
            Map<String, byte[]> records = tree.children(nodes.checkpoints(step.getAsLong()));
            if (allRanks(records.keySet(), s.worldSize()) && sameState(step.getAsLong(), records)) {
                commit(client, nodes, s, step.getAsLong());
            }
        }
        long newest = -1;
        for (String name : tree.children(nodes.committed()).keySet()) {
            newest = Math.max(newest, JobNodes.number(name).orElse(-1));
        }
        if (newest > newestCommitted) {
            committed(newest, tree);
        }
    }

    /**
     * Whether every rank's checkpoint of {@code step} holds the same {@code @TrainState} fields: workers of one job run
     * one program. Said once per step when not: such a step never commits.
     */
    private boolean sameState(long step, Map<String, byte[]> records) {
        String first = null;
        String firstRank = null;
        for (Map.Entry<String, byte[]> r : records.entrySet()) {
            String schema = JobNodes.textOf(JobNodes.parse(r.getValue()), "schema");
            if (first == null) {
                first = schema;
                firstRank = r.getKey();
            } else if (!first.equals(schema)) {
                if (step > refusedStep) {
                    refusedStep = step;
                    Log.error(job + ": the checkpoints of step " + step + " hold other @TrainState fields at rank "
                            + r.getKey() + " (state " + schema + ") than at rank " + firstRank + " (state " + first
                            + "); the job checkpoint is not committed: start every worker with the same program "
                            + "(pauser inspect shows each checkpoint's fields)");
                }
                return false;
            }
        }
        return true;
    }

    /**
     * Phase two from ZooKeeper itself rather than the cache: for a worker starting after all workers recorded a step
     * but none lived to commit it (a job stop: each exits once its own record is in).
     */
    static void commitComplete(CuratorFramework client, JobNodes nodes, JobWorker.Settings s) throws Exception {
        List<String> steps;
        try {
            steps = client.getChildren().forPath(nodes.checkpoints());
        } catch (KeeperException.NoNodeException none) {
            return;
        }
        for (String name : steps) {
            OptionalLong step = JobNodes.number(name);
            if (step.isEmpty() || client.checkExists().forPath(nodes.committed(step.getAsLong())) != null) {
                continue;
            }
            try {
                List<String> ranks = client.getChildren().forPath(nodes.checkpoints(step.getAsLong()));
                java.util.Set<String> states = new java.util.HashSet<>();
                for (String rank : ranks) {
                    states.add(JobNodes.textOf(JobNodes.parse(client.getData().forPath(
                            nodes.checkpoints(step.getAsLong()) + "/" + rank)), "schema"));
                }
                if (allRanks(ranks, s.worldSize()) && states.size() == 1) {
                    commit(client, nodes, s, step.getAsLong());
                }
            } catch (KeeperException.NoNodeException cleanedMeanwhile) {
                // another worker, already running, committed past this step and removed its records
            }
        }
    }

    private static boolean allRanks(Iterable<String> names, int worldSize) {
        boolean[] seen = new boolean[worldSize];
        int n = 0;
        for (String name : names) {
            OptionalLong r = JobNodes.number(name);
            if (r.isPresent() && r.getAsLong() < seen.length && !seen[(int) r.getAsLong()]) {
                seen[(int) r.getAsLong()] = true;
                n++;
            }
        }
        return n == seen.length;
    }

    private static void commit(CuratorFramework client, JobNodes nodes, JobWorker.Settings s, long step) {
        try {
            client.create().creatingParentContainersIfNeeded().forPath(nodes.committed(step),
                    JobNodes.json(Map.of("step", step, "worldSize", s.worldSize(), "time", Instant.now().toString())));
        } catch (KeeperException.NodeExistsException another) {
            // another worker committed it first
        } catch (Exception e) {
            Log.warn("job " + s.address().path() + ": cannot commit the job checkpoint of step " + step + ": " + e);
        }
    }

    private void committed(long step, JobTree tree) {
        long previous = newestCommitted;
        newestCommitted = step;
        checkpointer.pin(step);
        if (previous >= 0) {
            checkpointer.unpin(previous);
        }
        // records of older steps can't matter any more: the job resumes from this one or a newer one
        for (java.util.Iterator<Long> it = recorded.headMap(step, true).keySet().iterator(); it.hasNext(); ) {
            long older = it.next();
            if (older != step) {
                checkpointer.unpin(older);
            }
            it.remove();
        }
        saidWaiting = false;
        checkpointer.retainNow(); // what the commit unpinned goes now, not at the next checkpoint
        Log.info(job + ": job checkpoint of step " + step + " committed (all " + s.worldSize()
                + " workers' checkpoints are durable)");
        try {
            writeRecord(step);
        } catch (IOException e) {
            Log.warn(job + ": cannot write " + s.dir().resolve(RECORD_FILE) + ": " + e
                    + " (ZooKeeper holds the commit all the same)");
        }
        if (s.rank() == 0) {
            forgetRecordsUpTo(step, tree);
        }
    }

    /** {@code job-commit.json}, replaced atomically, durable before the rename is. */
    private void writeRecord(long step) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job", s.address().toString());
        m.put("step", step);
        m.put("checkpoint", CheckpointNames.dirName(step));
        m.put("rank", s.rank());
        m.put("worldSize", s.worldSize());
        m.put("committed", Instant.now().toString());
        Path target = s.dir().resolve(RECORD_FILE);
        Path tmp = s.dir().resolve(RECORD_FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(JobNodes.json(m)));
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(s.dir(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** The records of steps up to a commit are of no more use; the three newest commits stay for people to read. */
    private void forgetRecordsUpTo(long step, JobTree tree) {
        try {
            forget(step, tree);
        } catch (Exception e) {
            // all or nothing: a record made meanwhile leaves its step for the next commit's cleaning
            Log.debug(job + ": old job checkpoint records stay until the next commit: " + e);
        }
    }

    private void forget(long step, JobTree tree) throws Exception {
        List<CuratorOp> ops = new ArrayList<>();
        for (String name : tree.children(nodes.checkpoints()).keySet()) {
            if (JobNodes.number(name).orElse(Long.MAX_VALUE) <= step) {
                String parent = nodes.checkpoints() + "/" + name;
                for (String rank : tree.children(parent).keySet()) {
                    ops.add(client.transactionOp().delete().forPath(parent + "/" + rank));
                }
                ops.add(client.transactionOp().delete().forPath(parent));
            }
        }
        List<Long> commits = tree.children(nodes.committed()).keySet().stream()
                .map(JobNodes::number).filter(OptionalLong::isPresent).map(OptionalLong::getAsLong)
                .sorted(java.util.Comparator.reverseOrder()).toList();
        for (int i = 3; i < commits.size(); i++) {
            ops.add(client.transactionOp().delete().forPath(nodes.committed(commits.get(i))));
        }
        if (!ops.isEmpty()) {
            client.transaction().forOperations(ops); // one round trip
        }
    }
}
