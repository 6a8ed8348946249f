package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which checkpoints to keep. A checkpoint is kept when any of these holds:
 * <ul>
 *   <li>it is one of the {@code keep} newest, by step;</li>
 *   <li>{@code keepEvery} is set and it is the <b>oldest</b> checkpoint (smallest wall time, then smallest step) of its
 *       period, periods being the intervals {@code [k*keepEvery, (k+1)*keepEvery)} of wall time since the epoch; the oldest
 *       of a period stays the oldest as newer checkpoints arrive, so what is kept for a period never changes;</li>
 *   <li>it is in the always-keep set (the checkpoint just committed, the one a run resumed from).</li>
 * </ul>
 * {@link #keepSet} decides on steps and wall times alone; {@link #toDelete} applies it to checkpoint directories, reading
 * their wall times. Immutable; any thread (the store applies it on the committing thread, after each commit).
 */
public record Retention(int keep, Duration keepEvery) {
    public static final int DEFAULT_KEEP = 3;

    public Retention {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1, got " + keep);
        }
        if (keepEvery != null && (keepEvery.isNegative() || keepEvery.isZero() || keepEvery.toMillis() < 1)) {
            throw new IllegalArgumentException("keepEvery must be at least 1 ms, got " + keepEvery);
        }
    }

    public static Retention defaults() {
        return new Retention(DEFAULT_KEEP, null);
    }

    /** A checkpoint as retention sees it. */
    public record Candidate(long step, Instant wallTime) {
    }

    /** The steps to keep among {@code all}. */
    public Set<Long> keepSet(List<Candidate> all, Set<Long> alwaysKeep) {
        Set<Long> kept = new HashSet<>();
        List<Candidate> byStep = new ArrayList<>(all);
        byStep.sort(Comparator.comparingLong(Candidate::step).reversed());
        for (int i = 0; i < byStep.size() && i < keep; i++) {
            kept.add(byStep.get(i).step());
        }
        if (keepEvery != null) {
            long period = keepEvery.toMillis();
            Map<Long, Candidate> oldest = new HashMap<>();
            for (Candidate c : all) {
                long bucket = Math.floorDiv(c.wallTime().toEpochMilli(), period);
                oldest.merge(bucket, c, (a, b) -> {
                    int cmp = a.wallTime().compareTo(b.wallTime());
                    if (cmp == 0) {
                        cmp = Long.compare(a.step(), b.step());
                    }
                    return cmp <= 0 ? a : b;
                });
            }
            for (Candidate c : oldest.values()) {
                kept.add(c.step());
            }
        }
        for (Candidate c : all) {
            if (alwaysKeep.contains(c.step())) {
                kept.add(c.step());
            }
        }
        return kept;
    }

    /**
     * The directories among {@code checkpointDirs} (each a {@code ckpt-<digits>} directory, as the store lists them)
     * that retention does not keep. Wall times are read from the manifests only when {@code keepEvery} is set.
     */
    public List<Path> toDelete(List<Path> checkpointDirs, Set<Long> alwaysKeep) {
        Map<Long, Path> byStep = new LinkedHashMap<>();
        List<Candidate> candidates = new ArrayList<>();
        for (Path d : checkpointDirs) {
            long s = CheckpointNames.parseStep(d.getFileName().toString()).getAsLong();
            byStep.put(s, d);
            candidates.add(new Candidate(s, keepEvery != null ? wallTimeOf(d) : Instant.EPOCH));
        }
        Set<Long> keep = keepSet(candidates, alwaysKeep);
        List<Path> doomed = new ArrayList<>();
        for (Map.Entry<Long, Path> e : byStep.entrySet()) {
            if (!keep.contains(e.getKey())) {
                doomed.add(e.getValue());
            }
        }
        return doomed;
    }

    /** The manifest's wall time; for a checkpoint whose manifest cannot be read, the directory's modification time. */
    private static Instant wallTimeOf(Path dir) {
        try {
            return CheckpointReader.readManifest(dir).wallTime();
        } catch (IOException e) {
            try {
                return Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS).toInstant();
            } catch (IOException e2) {
                return Instant.EPOCH;
            }
        }
    }
}
