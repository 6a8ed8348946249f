package dev.pauser.agent.snapshot;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
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
}
