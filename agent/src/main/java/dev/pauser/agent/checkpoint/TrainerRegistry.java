package dev.pauser.agent.checkpoint;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.StateField;
import dev.pauser.agent.state.StateSchema;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registered trainers: those whose {@code @TrainState} every checkpoint holds, by object (or class, for static
 * state) and by {@link TrainerId}, and which trainer owns each entry name. A registered trainer is held until the JVM
 * exits: it is part of every later checkpoint, so that a resumed run finds the state of a trainer that finished before
 * the checkpoint (a program training models one after another). A program that makes many short-lived trainer objects
 * with state should reuse one.
 *
 * <p>Its lock is the one lock of all trainer bookkeeping ({@link TrainerSightings}, {@link TrainerRestorer}, {@link
 * TrainerDiscovery} take it too), so a trainer's registration and restore are one step for a capture. Trainers are
 * registered on the thread the gate's trainer hooks run on (a training thread before a step, or a constructing
 * thread); {@link #registered()} is asked by the thread taking a checkpoint; {@link #anyState()} is lock-free, for the
 * gate's control thread under the gate's lock.
 */
final class TrainerRegistry {
    /** Registered trainers by object (or class): held strongly, they are checkpointed. */
    private final Map<Object, RegisteredTrainer> byKey = new IdentityHashMap<>();
    private final Map<TrainerId, RegisteredTrainer> byId = new LinkedHashMap<>();
    private final Map<String, TrainerId> entryOwners = new HashMap<>();
    private volatile boolean anyState;
    /** Told of each trainer added, on the registering thread, under this lock: must return at once. */
    private volatile java.util.function.Consumer<RegisteredTrainer> onAdd = r -> { };

    /** Tells {@code listener} of every trainer added from now on (the checkpoint preparation). */
    void onAdd(java.util.function.Consumer<RegisteredTrainer> listener) {
        onAdd = listener;
    }

    /**
     * Null, or the fatal message when a field of the trainer would be stored under an entry name another registered
     * trainer already uses.
     */
    synchronized String keyClash(TrainerId id, StateSchema schema) {
        List<String> clashes = new ArrayList<>();
        for (StateField f : schema.fields()) {
            String name = id.entryName(f.key());
            TrainerId owner = entryOwners.get(name);
            if (owner != null && !owner.equals(id)) {
                clashes.add("'" + name + "' of " + id + " is also a key of " + owner);
            }
        }
        if (clashes.isEmpty()) {
            return null;
        }
        return "pauser: two trainers use the same @TrainState key; give one a distinct @TrainState(name = ...): "
                + String.join("; ", clashes);
    }

    /** Adds the trainer to every later checkpoint. */
    synchronized void add(RegisteredTrainer r) {
        List<StateField> fields = r.capture.schema().fields();
        for (StateField f : fields) {
            entryOwners.put(r.id.entryName(f.key()), r.id);
        }
        byId.put(r.id, r);
        byKey.put(r.key(), r);
        anyState = true;
        Log.debug("checkpointing " + fields.size() + " @TrainState fields of " + r.id);
        onAdd.accept(r);
    }

    /** {@code key} (a trainer object, or a class with static state) is registered. */
    synchronized boolean contains(Object key) {
        return byKey.containsKey(key);
    }

    /** The registered trainers, in the order they were registered. */
    synchronized List<RegisteredTrainer> registered() {
        return new ArrayList<>(byId.values());
    }

    /** How many trainers of each class name are registered, in the order of their first registration. */
    synchronized Map<String, Integer> countByClass() {
        Map<String, Integer> here = new LinkedHashMap<>();
        for (TrainerId id : byId.keySet()) {
            here.merge(id.className(), 1, Integer::sum);
        }
        return here;
    }

    /** Lock-free: asked by the gate's control thread under the gate's lock. */
    boolean anyState() {
        return anyState;
    }

    /** The manifest info naming each trainer's entries, for restoring into the right trainer later. */
    static Map<String, String> info(List<RegisteredTrainer> trainers) {
        Map<String, String> info = new LinkedHashMap<>();
        for (RegisteredTrainer r : trainers) {
            List<String> names = new ArrayList<>();
            for (StateField f : r.capture.schema().fields()) {
                names.add(r.id.entryName(f.key()));
            }
            info.put(r.id.infoKey(), String.join(",", names));
        }
        return info;
    }
}
