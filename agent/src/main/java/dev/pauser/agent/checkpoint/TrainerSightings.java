package dev.pauser.agent.checkpoint;

import java.util.HashMap;
import java.util.Map;

/**
 * The trainer objects (or classes, for static steps) the agent has met, held weakly so that trainers a program drops
 * can go: which of them ran a step, and the {@link TrainerId} each was given when first constructed or seen, ordinals
 * counted per class name. Not thread-safe: used under the {@link TrainerRegistry}'s lock, by the gate's trainer hooks
 * ({@link TrainerDiscovery}) and by the capture asking whether the resumed checkpoint may go ({@link TrainerRestorer}).
 */
final class TrainerSightings {
    /** Objects (or classes, for static steps) some thread ran a step of. */
    private final WeakIdentityMap<Boolean> ranStep = new WeakIdentityMap<>();
    /** The identity given to each trainer object (or class) constructed or seen. */
    private final WeakIdentityMap<TrainerId> ids = new WeakIdentityMap<>();
    private final Map<String, Integer> nextOrdinal = new HashMap<>();

    /** Notes that {@code trainer} runs a step; true the first time. */
    boolean firstStep(Object trainer) {
        return ranStep.put(trainer, Boolean.TRUE) == null;
    }

    /** Takes back {@link #firstStep}: that step does not count as the trainer's first. */
    void forgetStep(Object trainer) {
        ranStep.remove(trainer);
    }

    boolean ranStep(Object trainer) {
        return ranStep.containsKey(trainer);
    }

    /** The identity of {@code key} (a trainer object, or its class for static state), given now if it has none. */
    TrainerId idOf(Object key, Class<?> type) {
        TrainerId id = ids.get(key);
        if (id == null) {
            int n = nextOrdinal.merge(type.getName(), 1, Integer::sum) - 1;
            id = new TrainerId(type.getName(), n);
            ids.put(key, id);
        }
        return id;
    }
}
