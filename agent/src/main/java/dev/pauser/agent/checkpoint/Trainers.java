package dev.pauser.agent.checkpoint;

import dev.pauser.agent.Log;
import dev.pauser.agent.snapshot.Entry;
import dev.pauser.agent.snapshot.LoadedCheckpoint;
import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.state.StateException;
import dev.pauser.agent.state.StateField;
import dev.pauser.agent.state.StateMismatchException;
import dev.pauser.agent.state.StateRestore;
import dev.pauser.agent.state.StateSchema;
import dev.pauser.boot.TrainerListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The trainers whose {@code @TrainState} is checkpointed: one per class, registered when a thread first runs one of its
 * steps (the gate tells us, on that thread, before the step body). Registration validates the fields (an unsupported
 * type is fatal, naming class, field and type) and restores them from the checkpoint the run resumes from, before
 * the first step runs.
 */
final class Trainers implements TrainerListener {
    /** Manifest info key listing a trainer class's field keys: {@code trainer:<class name>} = comma-separated keys. */
    static final String TRAINER_INFO_PREFIX = "trainer:";

    /** One registered trainer. {@code self} is null for a class whose state is static only. */
    static final class Registered {
        final Class<?> type;
        final Object self;
        final StateCapture capture;

        Registered(Class<?> type, Object self, StateCapture capture) {
            this.type = type;
            this.self = self;
            this.capture = capture;
        }
    }

    private final Map<Object, Boolean> seen = new IdentityHashMap<>();
    /** Trainers restored by their constructor that have not run a step yet. */
    private final Map<Object, Registered> restoredAtConstruction = new IdentityHashMap<>();
    private final Map<Class<?>, Registered> byClass = new LinkedHashMap<>();
    private final Map<String, Class<?>> keyOwners = new HashMap<>();
    private final Map<Class<?>, Boolean> warnedSecondInstance = new HashMap<>();
    private final StateRestore.OnMismatch onMismatch;
    private final Consumer<String> fatal;
    private final RestoreListener restoreListener;
    private LoadedCheckpoint resumeFrom;
    private final List<Class<?>> restoredClasses = new ArrayList<>();
    private volatile boolean anyState;

    /** Told of each restore, for the log, JMX and JFR. */
    interface RestoreListener {
        void restored(Class<?> trainer, LoadedCheckpoint from, int fields, long bytes, long nanos, List<String> warnings);
    }

    Trainers(LoadedCheckpoint resumeFrom, StateRestore.OnMismatch onMismatch, Consumer<String> fatal,
            RestoreListener restoreListener) {
        this.resumeFrom = resumeFrom;
        this.onMismatch = onMismatch;
        this.fatal = fatal;
        this.restoreListener = restoreListener;
    }

    @Override
    public synchronized void trainerSeen(Class<?> stepType, Object self) {
        Object key = self != null ? self : stepType;
        if (seen.put(key, Boolean.TRUE) != null) {
            return;
        }
        Registered early = restoredAtConstruction.remove(key);
        if (early != null) {
            // Restored when constructed; restore again now, so code that ran between construction and this first
            // step (an init() that randomizes the weights) can't have replaced the resumed state.
            if (resumeFrom != null) {
                restore(early.type, self, early.capture.schema(), true);
            }
            return;
        }
        register(self != null ? self.getClass() : stepType, self, key);
    }

    @Override
    public synchronized void trainerConstructed(Class<?> type, Object self) {
        if (resumeFrom == null || seen.containsKey(self)) {
            return; // not resuming, or the object already runs steps
        }
        Registered early = restoredAtConstruction.get(self);
        if (early != null) {
            // A constructor delegating to another (this(...)) returns after it: the outermost one restores last.
            restore(type, self, early.capture.schema(), true);
            return;
        }
        Registered r = register(type, self, null);
        if (r != null && r.self == self) {
            restoredAtConstruction.put(self, r);
        }
    }

    /** Registers (and, resuming, restores) the trainer; returns its registration, or null when it has no state. */
    private Registered register(Class<?> type, Object self, Object seenKey) {
        Object key = seenKey;
        Registered existing = byClass.get(type);
        if (existing != null) {
            if (existing.self == null && self != null) {
                // state seen first through a static step; the instance shows up now
                Log.debug("instance of " + type.getName() + " seen after its static steps");
            } else if (self != null && existing.self != self && warnedSecondInstance.put(type, Boolean.TRUE) == null) {
                Log.warn("a second instance of " + type.getName() + " runs steps; only the first one's @TrainState is "
                        + "checkpointed");
            }
            return existing;
        }
        StateSchema schema;
        try {
            schema = StateSchema.of(type);
        } catch (StateException e) {
            fatal.accept(e.getMessage().startsWith("pauser") ? e.getMessage() : "pauser: " + e.getMessage());
            return null;
        }
        if (schema.isEmpty()) {
            return null;
        }
        if (self == null && schema.hasInstanceFields()) {
            // A static step of a class whose state is per instance: wait for an instance step to register it.
            if (key != null) {
                seen.remove(key);
            }
            return null;
        }
        List<String> clashes = new ArrayList<>();
        for (StateField f : schema.fields()) {
            Class<?> owner = keyOwners.get(f.key());
            if (owner != null && owner != type) {
                clashes.add("'" + f.key() + "' of " + type.getName() + " is also a key of " + owner.getName());
            }
        }
        if (!clashes.isEmpty()) {
            fatal.accept("pauser: two trainers use the same @TrainState key; give one a distinct "
                    + "@TrainState(name = ...): " + String.join("; ", clashes));
            return null;
        }
        if (resumeFrom != null) {
            restore(type, self, schema, false);
        }
        for (StateField f : schema.fields()) {
            keyOwners.put(f.key(), type);
        }
        Registered r = new Registered(type, self, new StateCapture(schema));
        byClass.put(type, r);
        anyState = true;
        Log.debug("checkpointing " + schema.fields().size() + " @TrainState fields of " + type.getName());
        return r;
    }

    private void restore(Class<?> type, Object self, StateSchema schema, boolean again) {
        List<Entry> entries = entriesFor(type);
        long t0 = System.nanoTime();
        List<String> mismatches;
        try {
            mismatches = new StateRestore(schema).restore(self, entries, onMismatch);
        } catch (StateMismatchException e) {
            // One message listing every mismatch; @TrainState(name = "old") carries a rename, resume=never starts afresh.
            fatal.accept("pauser: " + resumeFrom.dir() + ": " + e.getMessage());
            return;
        } catch (StateException e) {
            fatal.accept("pauser: restoring " + type.getName() + " from " + resumeFrom.dir() + ": " + e.getMessage());
            return;
        }
        long bytes = Checkpointer.tensorBytes(entries);
        if (again) {
            Log.debug("restored " + type.getName() + " again before its first step");
            return;
        }
        restoredClasses.add(type);
        restoreListener.restored(type, resumeFrom, entries.size(), bytes, System.nanoTime() - t0, mismatches);
    }

    /**
     * The checkpoint's entries that belong to {@code type}: those the manifest lists under its class name. A checkpoint
     * of a single trainer whose class was renamed gives all its entries to the first trainer restored.
     */
    private List<Entry> entriesFor(Class<?> type) {
        Map<String, String> info = resumeFrom.info();
        String keys = info.get(TRAINER_INFO_PREFIX + type.getName());
        long recordedTrainers = info.keySet().stream().filter(k -> k.startsWith(TRAINER_INFO_PREFIX)).count();
        if (keys == null && !(recordedTrainers <= 1 && (restoredClasses.isEmpty() || restoredClasses.equals(List.of(type))))) {
            return List.of();
        }
        java.util.Set<String> wanted = keys == null ? null : new java.util.HashSet<>(List.of(keys.split(",")));
        List<Entry> out = new ArrayList<>();
        for (Entry e : resumeFrom.entries()) {
            if (wanted == null || wanted.contains(e.key())) {
                out.add(e);
            }
        }
        return out;
    }

    /** The registered trainers, for a capture. Call at a safe point. */
    synchronized List<Registered> registered() {
        return new ArrayList<>(byClass.values());
    }

    /** Lock-free: asked by the gate's control thread under the gate's lock. */
    boolean anyState() {
        return anyState;
    }

    /**
     * Hands over the tensor buffers of the checkpoint this run resumed from, by key, and forgets it, once nothing can
     * need it any more: every registered trainer has run its first step (so both restores, at construction and at the
     * first step, are done) and every trainer the checkpoint recorded is among them. Empty while some trainer may still
     * restore from it. The buffers are the largest memory a resume holds; the caller reuses them as capture staging.
     * Called on the gate's control thread at a safe point.
     */
    synchronized Map<String, java.nio.ByteBuffer> releaseResumeSource() {
        LoadedCheckpoint from = resumeFrom;
        if (from == null || byClass.isEmpty() || !restoredAtConstruction.isEmpty()) {
            return Map.of();
        }
        java.util.Set<String> registeredNames = new java.util.HashSet<>();
        for (Registered r : byClass.values()) {
            if (!seen.containsKey(r.self != null ? r.self : r.type)) {
                return Map.of();
            }
            registeredNames.add(r.type.getName());
        }
        List<String> recorded = new ArrayList<>();
        for (String k : from.info().keySet()) {
            if (k.startsWith(TRAINER_INFO_PREFIX)) {
                recorded.add(k.substring(TRAINER_INFO_PREFIX.length()));
            }
        }
        // A checkpoint of one trainer whose class was renamed went, whole, to the first trainer restored.
        boolean allRestored = registeredNames.containsAll(recorded) || (recorded.size() <= 1 && !restoredClasses.isEmpty());
        if (!allRestored) {
            return Map.of();
        }
        Map<String, java.nio.ByteBuffer> buffers = new HashMap<>();
        for (Entry e : from.entries()) {
            if (e instanceof dev.pauser.agent.snapshot.TensorEntry t) {
                buffers.put(t.key(), t.data());
            }
        }
        resumeFrom = null;
        return buffers;
    }

    /** Lets the loaded checkpoint's memory go once every trainer that was in it has been restored or the run moved on. */
    synchronized void forgetResumeSource() {
        resumeFrom = null;
    }

    /** The manifest info naming each trainer's keys, for restoring into the right trainer later. */
    static Map<String, String> info(List<Registered> trainers) {
        Map<String, String> info = new LinkedHashMap<>();
        for (Registered r : trainers) {
            List<String> keys = new ArrayList<>();
            for (StateField f : r.capture.schema().fields()) {
                keys.add(f.key());
            }
            info.put(TRAINER_INFO_PREFIX + r.type.getName(), String.join(",", keys));
        }
        return info;
    }
}
