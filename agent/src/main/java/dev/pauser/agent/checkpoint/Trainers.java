package dev.pauser.agent.checkpoint;

import dev.pauser.agent.Log;
import dev.pauser.agent.snapshot.Entry;
import dev.pauser.agent.snapshot.JsonEntry;
import dev.pauser.agent.snapshot.LoadedCheckpoint;
import dev.pauser.agent.snapshot.TensorEntry;
import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.state.StateException;
import dev.pauser.agent.state.StateField;
import dev.pauser.agent.state.StateMismatchException;
import dev.pauser.agent.state.StateRestore;
import dev.pauser.agent.state.StateSchema;
import dev.pauser.boot.TrainerListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The trainers whose {@code @TrainState} is checkpointed: every trainer object that ran a step (or, for a class whose
 * state is static only, the class), registered when a thread first runs one of its steps (the gate tells us, on that
 * thread, before the step body). Registration validates the fields (an unsupported type is fatal, naming class, field
 * and type) and restores them from the checkpoint the run resumes from, before the first step runs.
 *
 * <h2>Identity</h2>
 * A trainer is known in a checkpoint by its {@link Id}: its class name and an ordinal among the trainers of that class
 * name, in the order they were first constructed (the constructor hook, on the constructing thread) or, for those the
 * agent did not see constructed (static state, a subclass, a late attach), first ran a step. Two objects of one class,
 * and two class loaders' copies of one class, are so two trainers, told apart the same way in every run that constructs
 * them in the same order. Ordinal 0 is stored as today: tensor and value names are the field keys, the manifest info
 * {@code trainer:<class>} lists them. Ordinal {@code n > 0} stores each field as {@code <key>#<n>}, listed under
 * {@code trainer:<class>#<n>}; class names can't contain {@code #}, so the info key is unambiguous, and the known
 * suffix maps an entry back to its field key.
 *
 * <h2>Memory</h2>
 * Objects seen only (constructed, or run without state) are held weakly. A registered trainer is held until the JVM
 * exits: it is part of every later checkpoint, so that a resumed run finds the state of a trainer that finished before
 * the checkpoint (a program training models one after another). A program that makes many short-lived trainer objects
 * with state should reuse one.
 */
final class Trainers implements TrainerListener {
    /** Manifest info key listing a trainer's entry names: {@code trainer:<class>[#<ordinal>]} = comma-separated. */
    static final String TRAINER_INFO_PREFIX = "trainer:";
    /** Between a class name (or a field key) and a trainer's ordinal; never part of a Java class name. */
    static final char ORDINAL_SEPARATOR = '#';

    /** A trainer's identity in a checkpoint: class name and ordinal among the trainers of that class name. */
    record Id(String className, int ordinal) {
        String infoKey() {
            return TRAINER_INFO_PREFIX + this;
        }

        /** The name a field of this trainer is stored under. */
        String entryName(String fieldKey) {
            return ordinal == 0 ? fieldKey : fieldKey + ORDINAL_SEPARATOR + ordinal;
        }

        /** The field key of an entry listed for this trainer (the name less this trainer's suffix). */
        String fieldKey(String entryName) {
            String suffix = ORDINAL_SEPARATOR + Integer.toString(ordinal);
            return ordinal != 0 && entryName.endsWith(suffix)
                    ? entryName.substring(0, entryName.length() - suffix.length()) : entryName;
        }

        @Override
        public String toString() {
            return ordinal == 0 ? className : className + ORDINAL_SEPARATOR + ordinal;
        }
    }

    /** One registered trainer. {@code self} is null for a class whose state is static only. */
    static final class Registered {
        final Id id;
        final Class<?> type;
        final Object self;
        final StateCapture capture;

        Registered(Id id, Class<?> type, Object self, StateCapture capture) {
            this.id = id;
            this.type = type;
            this.self = self;
            this.capture = capture;
        }

        /**
         * Takes over as staging the buffers among {@code loaded} (tensor data by entry name) stored under this
         * trainer's entry names; returns the bytes taken. Call at a safe point.
         */
        long adopt(Map<String, java.nio.ByteBuffer> loaded) {
            Map<String, java.nio.ByteBuffer> byField = new HashMap<>();
            for (StateField f : capture.schema().fields()) {
                java.nio.ByteBuffer b = loaded.get(id.entryName(f.key()));
                if (b != null) {
                    byField.put(f.key(), b);
                }
            }
            return capture.adopt(byField);
        }

        /** Captures the fields under this trainer's entry names. Call at a safe point. */
        List<Entry> captureEntries() {
            List<Entry> entries = capture.capture(self);
            if (id.ordinal() == 0) {
                return entries;
            }
            List<Entry> named = new ArrayList<>(entries.size());
            for (Entry e : entries) {
                named.add(withKey(e, id.entryName(e.key())));
            }
            return named;
        }
    }

    /** Objects (or classes, for static steps) some thread ran a step of; weak, so dropped trainers can go. */
    private final WeakIdentityMap<Boolean> seen = new WeakIdentityMap<>();
    /** The identity given to each trainer object (or class) constructed or seen; weak for the same reason. */
    private final WeakIdentityMap<Id> ids = new WeakIdentityMap<>();
    private final Map<String, Integer> nextOrdinal = new HashMap<>();
    /** Valid schemas by class; a class whose schema failed is not cached, so its first step reports it. */
    private final Map<Class<?>, StateSchema> schemas = new HashMap<>();
    /** Trainers restored by their constructor that have not run a step yet. */
    private final Map<Object, Registered> restoredAtConstruction = new IdentityHashMap<>();
    /** Registered trainers by object (or class): held strongly, they are checkpointed. */
    private final Map<Object, Registered> byKey = new IdentityHashMap<>();
    private final Map<Id, Registered> byId = new LinkedHashMap<>();
    private final Map<String, Id> entryOwners = new HashMap<>();
    private final StateRestore.OnMismatch onMismatch;
    private final Consumer<String> fatal;
    private final RestoreListener restoreListener;
    private LoadedCheckpoint resumeFrom;
    /** The trainers that took entries from the checkpoint resumed from. */
    private final Set<Id> restoredIds = new HashSet<>();
    private boolean instancesChecked;
    /** Set when this run has fewer trainers of a class than the checkpoint it resumed from (and onMismatch=fail). */
    private String instancesProblem;
    private volatile boolean anyState;

    /** Told of each restore, for the log, JMX and JFR. */
    interface RestoreListener {
        /**
         * @param fields the fields written (in onMismatch=warn, those skipped don't count)
         * @param bytes  the tensor bytes of those fields
         */
        void restored(String trainer, LoadedCheckpoint from, int fields, long bytes, long nanos, List<String> warnings);
    }

    Trainers(LoadedCheckpoint resumeFrom, StateRestore.OnMismatch onMismatch, Consumer<String> fatal,
            RestoreListener restoreListener) {
        this.resumeFrom = resumeFrom;
        this.onMismatch = onMismatch;
        this.fatal = fatal;
        this.restoreListener = restoreListener;
    }

    /** Runs on the training thread, before the first step of {@code self} (or of the static steps) on that thread. */
    @Override
    public synchronized void trainerSeen(Class<?> stepType, Object self) {
        Object obj = self != null ? self : stepType;
        if (seen.put(obj, Boolean.TRUE) != null) {
            return;
        }
        Registered early = restoredAtConstruction.remove(obj);
        if (early != null) {
            // Restored when constructed; restore again now, so code that ran between construction and this first
            // step (an init() that randomizes the weights) can't have replaced the resumed state.
            if (resumeFrom != null) {
                restore(early, true);
            }
            return;
        }
        Class<?> type = self != null ? self.getClass() : stepType;
        StateSchema schema = schemaOf(type, true);
        if (schema == null || schema.isEmpty()) {
            return;
        }
        if (self == null && schema.hasInstanceFields()) {
            // A static step of a class whose state is per instance: wait for an instance step to register it.
            seen.remove(obj);
            return;
        }
        Object key = schema.hasInstanceFields() ? self : type;
        if (!byKey.containsKey(key)) {
            register(idOf(key, type), type, key == type ? null : self, schema);
        }
    }

    /**
     * Runs on the constructing thread when a constructor of a trainer class returns. Gives the object its ordinal now,
     * so that trainers constructed in one thread and run in several keep their identity whichever steps first; a
     * resumed run also restores the object here, when the checkpoint holds it.
     */
    @Override
    public synchronized void trainerConstructed(Class<?> type, Object self) {
        if (seen.containsKey(self)) {
            return; // the object already runs steps
        }
        Registered early = restoredAtConstruction.get(self);
        if (early != null) {
            // A constructor delegating to another (this(...)) returns after it: the outermost one restores last.
            if (resumeFrom != null) {
                restore(early, true);
            }
            return;
        }
        StateSchema schema = schemaOf(type, resumeFrom != null);
        if (schema == null || schema.isEmpty()) {
            return;
        }
        Object key = schema.hasInstanceFields() ? self : type;
        Id id = idOf(key, type);
        // Only a trainer the checkpoint holds is registered here; others (new ones, one more than the checkpoint
        // holds) are decided at their first step, so an object that never runs a step changes nothing.
        if (resumeFrom == null || byKey.containsKey(key) || entriesFor(id, schema) == null) {
            return;
        }
        Registered r = register(id, type, key == type ? null : self, schema);
        if (r != null && r.self == self) {
            restoredAtConstruction.put(self, r);
        }
    }

    private Id idOf(Object key, Class<?> type) {
        Id id = ids.get(key);
        if (id == null) {
            int n = nextOrdinal.merge(type.getName(), 1, Integer::sum) - 1;
            id = new Id(type.getName(), n);
            ids.put(key, id);
        }
        return id;
    }

    /** The class's schema, or null when it fails (reported through {@code fatal} when {@code report}). */
    private StateSchema schemaOf(Class<?> type, boolean report) {
        StateSchema schema = schemas.get(type);
        if (schema != null) {
            return schema;
        }
        try {
            schema = StateSchema.of(type);
        } catch (StateException e) {
            if (report) {
                fatal.accept(e.getMessage().startsWith("pauser") ? e.getMessage() : "pauser: " + e.getMessage());
            }
            return null;
        }
        schemas.put(type, schema);
        return schema;
    }

    /** Registers (and, resuming, restores) the trainer; returns its registration, or null on a fatal error. */
    private Registered register(Id id, Class<?> type, Object self, StateSchema schema) {
        List<String> clashes = new ArrayList<>();
        for (StateField f : schema.fields()) {
            String name = id.entryName(f.key());
            Id owner = entryOwners.get(name);
            if (owner != null && !owner.equals(id)) {
                clashes.add("'" + name + "' of " + id + " is also a key of " + owner);
            }
        }
        if (!clashes.isEmpty()) {
            fatal.accept("pauser: two trainers use the same @TrainState key; give one a distinct "
                    + "@TrainState(name = ...): " + String.join("; ", clashes));
            return null;
        }
        Registered r = new Registered(id, type, self, new StateCapture(schema));
        if (resumeFrom != null) {
            restore(r, false);
        }
        List<String> tooBig = schema.sizeProblems(self);
        if (!tooBig.isEmpty()) {
            // No checkpoint of it could ever be written: say so before training rather than at the first checkpoint.
            fatal.accept(new StateException("pauser: " + type.getName() + " can't be checkpointed", tooBig).getMessage());
            return null;
        }
        for (StateField f : schema.fields()) {
            entryOwners.put(id.entryName(f.key()), id);
        }
        byId.put(id, r);
        byKey.put(self != null ? self : type, r);
        anyState = true;
        Log.debug("checkpointing " + schema.fields().size() + " @TrainState fields of " + id);
        return r;
    }

    private void restore(Registered r, boolean again) {
        StateSchema schema = r.capture.schema();
        List<Entry> entries = entriesFor(r.id, schema);
        if (entries == null) {
            if (!again) {
                notInCheckpoint(r.id);
            }
            return;
        }
        long t0 = System.nanoTime();
        StateRestore restore = new StateRestore(schema);
        List<String> mismatches;
        try {
            mismatches = restore.restore(r.self, entries, onMismatch);
        } catch (StateMismatchException e) {
            // One message listing every mismatch; @TrainState(name = "old") carries a rename, resume=never starts afresh.
            fatal.accept("pauser: " + resumeFrom.dir() + ": " + (r.id.ordinal() == 0 ? "" : r.id + ": ")
                    + e.getMessage());
            return;
        } catch (StateException e) {
            fatal.accept("pauser: restoring " + r.id + " from " + resumeFrom.dir() + ": " + e.getMessage());
            return;
        }
        if (again) {
            Log.debug("restored " + r.id + " again before its first step");
            return;
        }
        restoredIds.add(r.id);
        restoreListener.restored(r.id.toString(), resumeFrom, restore.restoredFields(), restore.restoredBytes(),
                System.nanoTime() - t0, mismatches);
    }

    /** A trainer the checkpoint doesn't hold: a class added since (starts fresh), or one more instance (a mismatch). */
    private void notInCheckpoint(Id id) {
        int there = instancesInCheckpoint(id.className());
        if (there == 0) {
            Log.info("new trainer " + id + " (not in " + resumeFrom.dir() + "): starts fresh");
            return;
        }
        String line = "instances: the checkpoint holds " + there + " trainer" + (there == 1 ? "" : "s") + " of class "
                + id.className() + ", this run has more (" + id + " runs steps)";
        if (onMismatch == StateRestore.OnMismatch.WARN) {
            Log.warn("onMismatch=warn: " + line + "; it starts fresh");
        } else {
            fatal.accept(instancesMessage(List.of(line)));
        }
    }

    private String instancesMessage(List<String> lines) {
        return "pauser: " + resumeFrom.dir() + ": " + new StateException("the checkpoint does not match the trainers "
                + "of the code (" + lines.size() + (lines.size() == 1 ? " mismatch" : " mismatches") + "; construct "
                + "as many trainers of each class, in the same order, as the run that wrote it, resume with "
                + "onMismatch=warn to go on (extra trainers start fresh), or resume=never to start afresh)", lines)
                .getMessage();
    }

    /** The number of trainers of the class the checkpoint resumed from holds. */
    private int instancesInCheckpoint(String className) {
        String bare = TRAINER_INFO_PREFIX + className;
        int n = 0;
        for (String k : resumeFrom.info().keySet()) {
            String ordinal = k.startsWith(bare + ORDINAL_SEPARATOR) ? k.substring(bare.length() + 1) : null;
            if (k.equals(bare) || (ordinal != null && !ordinal.isEmpty() && ordinal.chars().allMatch(Character::isDigit))) {
                n++;
            }
        }
        return n;
    }

    /**
     * The checkpoint's entries that belong to the trainer, under its field keys, or null when the checkpoint does not
     * hold it: those the manifest lists under its {@link Id#infoKey()}. A checkpoint without trainer info gives all its
     * entries to the first trainer restored; one holding a single trainer of another class gives them to a trainer
     * sharing a field key with it (its class was renamed) — a class with none of its keys is a new trainer.
     */
    private List<Entry> entriesFor(Id id, StateSchema schema) {
        Map<String, String> info = resumeFrom.info();
        String listed = info.get(id.infoKey());
        if (listed != null) {
            Set<String> wanted = new HashSet<>(Arrays.asList(listed.split(",", -1)));
            List<Entry> out = new ArrayList<>();
            for (Entry e : resumeFrom.entries()) {
                if (wanted.contains(e.key())) {
                    out.add(withKey(e, id.fieldKey(e.key())));
                }
            }
            return out;
        }
        boolean unclaimed = restoredIds.isEmpty() || restoredIds.equals(Set.of(id));
        List<String> recorded = new ArrayList<>();
        for (String k : info.keySet()) {
            if (k.startsWith(TRAINER_INFO_PREFIX)) {
                recorded.add(k.substring(TRAINER_INFO_PREFIX.length()));
            }
        }
        if (!unclaimed || id.ordinal() != 0) {
            return null;
        }
        if (recorded.isEmpty()) {
            return resumeFrom.entries();
        }
        if (recorded.size() == 1 && recorded.get(0).indexOf(ORDINAL_SEPARATOR) < 0 && !registeredClass(recorded.get(0))
                && sharesKey(schema, resumeFrom.entries())) {
            return resumeFrom.entries();
        }
        return null;
    }

    private boolean registeredClass(String className) {
        for (Id id : byId.keySet()) {
            if (id.className().equals(className)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sharesKey(StateSchema schema, List<Entry> entries) {
        for (Entry e : entries) {
            if (schema.field(e.key()) != null) {
                return true;
            }
        }
        return false;
    }

    static Entry withKey(Entry e, String key) {
        if (key.equals(e.key())) {
            return e;
        }
        if (e instanceof TensorEntry t) {
            return new TensorEntry(key, t.declaringClass(), t.javaType(), t.dtype(), t.shape(), t.data());
        }
        JsonEntry j = (JsonEntry) e;
        return new JsonEntry(key, j.declaringClass(), j.javaType(), j.json());
    }

    /**
     * Null, or the message when this run has fewer trainers of a class than the checkpoint it resumed from. Counted
     * once, at the first capture after the resume (by then the program has constructed what it constructs before its
     * first checkpoint); with onMismatch=warn a warning per class, and null. Runs on the thread taking the checkpoint.
     */
    synchronized String instancesMismatch() {
        if (instancesChecked || resumeFrom == null) {
            return instancesProblem;
        }
        instancesChecked = true;
        Map<String, Integer> here = new LinkedHashMap<>();
        for (Id id : byId.keySet()) {
            here.merge(id.className(), 1, Integer::sum);
        }
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, Integer> e : here.entrySet()) {
            int there = instancesInCheckpoint(e.getKey());
            if (there > e.getValue()) {
                lines.add("instances: the checkpoint holds " + there + " trainers of class " + e.getKey()
                        + ", this run has " + e.getValue());
            }
        }
        if (lines.isEmpty()) {
            return null;
        }
        if (onMismatch == StateRestore.OnMismatch.WARN) {
            for (String line : lines) {
                Log.warn("onMismatch=warn: " + line + "; the others are not checkpointed from now on");
            }
            return null;
        }
        instancesProblem = instancesMessage(lines);
        return instancesProblem;
    }

    /** Reports a fatal error from a thread of its own: the caller holds the gate or is a shutdown hook. */
    void fatalLater(String message) {
        Thread t = new Thread(() -> fatal.accept(message), "pauser-fatal");
        t.setDaemon(true);
        t.start();
    }

    /** The registered trainers, for a capture. Call at a safe point. */
    synchronized List<Registered> registered() {
        return new ArrayList<>(byId.values());
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
        if (from == null || byId.isEmpty() || !restoredAtConstruction.isEmpty()) {
            return Map.of();
        }
        Set<String> registeredIds = new HashSet<>();
        for (Registered r : byId.values()) {
            if (!seen.containsKey(r.self != null ? r.self : r.type)) {
                return Map.of();
            }
            registeredIds.add(r.id.toString());
        }
        List<String> recorded = new ArrayList<>();
        for (String k : from.info().keySet()) {
            if (k.startsWith(TRAINER_INFO_PREFIX)) {
                recorded.add(k.substring(TRAINER_INFO_PREFIX.length()));
            }
        }
        // A checkpoint of one trainer whose class was renamed went, whole, to the first trainer restored.
        boolean allRestored = registeredIds.containsAll(recorded) || (recorded.size() <= 1 && !restoredIds.isEmpty());
        if (!allRestored) {
            return Map.of();
        }
        Map<String, java.nio.ByteBuffer> buffers = new HashMap<>();
        for (Entry e : from.entries()) {
            if (e instanceof TensorEntry t) {
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

    /** The manifest info naming each trainer's entries, for restoring into the right trainer later. */
    static Map<String, String> info(List<Registered> trainers) {
        Map<String, String> info = new LinkedHashMap<>();
        for (Registered r : trainers) {
            List<String> names = new ArrayList<>();
            for (StateField f : r.capture.schema().fields()) {
                names.add(r.id.entryName(f.key()));
            }
            info.put(r.id.infoKey(), String.join(",", names));
        }
        return info;
    }
}
