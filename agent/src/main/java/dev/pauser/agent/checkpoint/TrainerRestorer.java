package dev.pauser.agent.checkpoint;

import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.StateException;
import dev.pauser.agent.state.StateMismatchException;
import dev.pauser.agent.state.StateRestore;
import dev.pauser.agent.state.StateSchema;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.TensorEntry;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Restores trainers from the checkpoint the run resumed from: finds each trainer's entries in it (by the manifest's
 * {@code trainer:<class>[#<n>]} info), writes them into the trainer, tells new trainers from one too many (or too few)
 * of a class, and lets the checkpoint go once no trainer can need it. Holds nothing in a fresh run.
 *
 * <p>Restores run on the thread of the gate's trainer hooks ({@link TrainerDiscovery}: a constructing thread, or a
 * training thread before a trainer's first step); {@link #instancesMismatch}, {@link #releaseResumeSource} and {@link
 * #forgetResumeSource} on the thread taking a checkpoint. All under the {@link TrainerRegistry}'s lock.
 */
final class TrainerRestorer {

    /** Told of each restore, for the log, JMX and JFR. */
    interface RestoreListener {
        /**
         * @param fields the fields written (in onMismatch=warn, those skipped don't count)
         * @param bytes  the tensor bytes of those fields
         * @param event  the JFR event begun when the restore began, to commit; null without JFR
         */
        void restored(String trainer, LoadedCheckpoint from, int fields, long bytes, long nanos, List<String> warnings,
                CheckpointEvents.RestoreEvent event);
    }

    private final TrainerRegistry registry;
    private final TrainerSightings sightings;
    private final StateRestore.OnMismatch onMismatch;
    private final Consumer<String> fatal;
    private final RestoreListener restoreListener;
    private LoadedCheckpoint resumeFrom;
    /** The trainers that took entries from the checkpoint resumed from. */
    private final Set<TrainerId> restoredIds = new HashSet<>();
    /** Trainers restored by their constructor that have not run a step yet. */
    private final Map<Object, RegisteredTrainer> restoredAtConstruction = new IdentityHashMap<>();
    private boolean instancesChecked;
    /** Set when this run has fewer trainers of a class than the checkpoint it resumed from (and onMismatch=fail). */
    private String instancesProblem;

    /** @param resumeFrom the checkpoint this run resumes from, or null for a fresh run */
    TrainerRestorer(LoadedCheckpoint resumeFrom, StateRestore.OnMismatch onMismatch, TrainerRegistry registry,
            TrainerSightings sightings, Consumer<String> fatal, RestoreListener restoreListener) {
        this.resumeFrom = resumeFrom;
        this.onMismatch = onMismatch;
        this.registry = registry;
        this.sightings = sightings;
        this.fatal = fatal;
        this.restoreListener = restoreListener;
    }

    /** There is a checkpoint to restore from (the run resumed, and it has not been let go). */
    boolean resuming() {
        return resumeFrom != null;
    }

    /** The checkpoint holds entries of this trainer. */
    boolean holds(TrainerId id, StateSchema schema) {
        return resumeFrom != null && entriesFor(id, schema) != null;
    }

    /** Restores a trainer being registered, or says it is not in the checkpoint. */
    void restoreNew(RegisteredTrainer r) {
        if (resumeFrom != null) {
            restore(r, false);
        }
    }

    /** Notes a trainer restored by its constructor; it is restored again at its first step. */
    void restoredAtConstruction(Object self, RegisteredTrainer r) {
        restoredAtConstruction.put(self, r);
    }

    /**
     * Restores a trainer already restored at construction again: when another of its constructors returns, or
     * ({@code firstStep}) before its first step, after which it is no longer waited for. False when it was not
     * restored at construction.
     */
    boolean restoreAgain(Object self, boolean firstStep) {
        RegisteredTrainer early = firstStep ? restoredAtConstruction.remove(self) : restoredAtConstruction.get(self);
        if (early == null) {
            return false;
        }
        if (resumeFrom != null) {
            restore(early, true);
        }
        return true;
    }

    private void restore(RegisteredTrainer r, boolean again) {
        StateSchema schema = r.capture.schema();
        List<Entry> entries = entriesFor(r.id, schema);
        if (entries == null) {
            if (!again) {
                notInCheckpoint(r.id);
            }
            return;
        }
        long t0 = System.nanoTime();
        CheckpointEvents.RestoreEvent event = again ? null : CheckpointEvents.beginRestore();
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
        for (String w : restore.warnings()) {
            Log.warn(w);
        }
        if (again) {
            Log.debug("restored " + r.id + " again before its first step");
            return;
        }
        restoredIds.add(r.id);
        restoreListener.restored(r.id.toString(), resumeFrom, restore.restoredFields(), restore.restoredBytes(),
                System.nanoTime() - t0, mismatches, event);
    }

    /** A trainer the checkpoint doesn't hold: a class added since (starts fresh), or one more instance (a mismatch). */
    private void notInCheckpoint(TrainerId id) {
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
        String bare = TrainerId.INFO_PREFIX + className;
        int n = 0;
        for (String k : resumeFrom.info().keySet()) {
            String ordinal = k.startsWith(bare + TrainerId.ORDINAL_SEPARATOR) ? k.substring(bare.length() + 1) : null;
            if (k.equals(bare) || (ordinal != null && !ordinal.isEmpty() && ordinal.chars().allMatch(Character::isDigit))) {
                n++;
            }
        }
        return n;
    }

    /**
     * The checkpoint's entries that belong to the trainer, under its field keys, or null when the checkpoint does not
     * hold it: those the manifest lists under its {@link TrainerId#infoKey()}. A checkpoint without trainer info gives
     * all its entries to the first trainer restored; one holding a single trainer of another class gives them to a
     * trainer sharing a field key with it (its class was renamed) — a class with none of its keys is a new trainer.
     */
    private List<Entry> entriesFor(TrainerId id, StateSchema schema) {
        Map<String, String> info = resumeFrom.info();
        String listed = info.get(id.infoKey());
        if (listed != null) {
            Set<String> wanted = new HashSet<>(Arrays.asList(listed.split(",", -1)));
            List<Entry> out = new ArrayList<>();
            for (Entry e : resumeFrom.entries()) {
                if (wanted.contains(e.key()) || wanted.contains(wholeOf(e.key()))) {
                    out.add(RegisteredTrainer.withKey(e, id.fieldKey(e.key())));
                }
            }
            return out;
        }
        boolean unclaimed = restoredIds.isEmpty() || restoredIds.equals(Set.of(id));
        List<String> recorded = recordedTrainers(resumeFrom);
        if (!unclaimed || id.ordinal() != 0) {
            return null;
        }
        if (recorded.isEmpty()) {
            return resumeFrom.entries();
        }
        if (recorded.size() == 1 && recorded.get(0).indexOf(TrainerId.ORDINAL_SEPARATOR) < 0
                && !registry.countByClass().containsKey(recorded.get(0)) && sharesKey(schema, resumeFrom.entries())) {
            return resumeFrom.entries();
        }
        return null;
    }

    /**
     * The entry name of the field an entry is a further part of ({@code net/flat.weights#1} → {@code net#1}: an array
     * of an object graph, which the manifest info doesn't list), or the name itself.
     */
    private static String wholeOf(String entryName) {
        int slash = entryName.indexOf('/');
        if (slash < 0) {
            return entryName;
        }
        int hash = entryName.lastIndexOf(TrainerId.ORDINAL_SEPARATOR);
        String suffix = hash > slash && entryName.substring(hash + 1).chars().allMatch(Character::isDigit)
                && hash + 1 < entryName.length() ? entryName.substring(hash) : "";
        return entryName.substring(0, slash) + suffix;
    }

    /** The trainers the checkpoint's manifest info lists, as {@link TrainerId#toString()} spells them. */
    private static List<String> recordedTrainers(LoadedCheckpoint from) {
        List<String> recorded = new ArrayList<>();
        for (String k : from.info().keySet()) {
            if (k.startsWith(TrainerId.INFO_PREFIX)) {
                recorded.add(k.substring(TrainerId.INFO_PREFIX.length()));
            }
        }
        return recorded;
    }

    private static boolean sharesKey(StateSchema schema, List<Entry> entries) {
        for (Entry e : entries) {
            if (schema.field(e.key()) != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Null, or the message when this run has fewer trainers of a class than the checkpoint it resumed from. Counted
     * once, at the first capture after the resume (by then the program has constructed what it constructs before its
     * first checkpoint); with onMismatch=warn a warning per class, and null.
     */
    String instancesMismatch() {
        synchronized (registry) {
            if (instancesChecked || resumeFrom == null) {
                return instancesProblem;
            }
            instancesChecked = true;
            List<String> lines = new ArrayList<>();
            for (Map.Entry<String, Integer> e : registry.countByClass().entrySet()) {
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
    }

    /** Reports a fatal error from a thread of its own: the caller holds the gate or is a shutdown hook. */
    void reportLater(String message) {
        Thread t = new Thread(() -> fatal.accept(message), "pauser-fatal");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Hands over the tensor buffers of the checkpoint this run resumed from, by key, and forgets it, once nothing can
     * need it any more: every registered trainer has run its first step (so both restores, at construction and at the
     * first step, are done) and every trainer the checkpoint recorded is among them. Empty while some trainer may still
     * restore from it. The buffers are the largest memory a resume holds; the caller reuses them as capture staging.
     */
    Map<String, ByteBuffer> releaseResumeSource() {
        synchronized (registry) {
            LoadedCheckpoint from = resumeFrom;
            List<RegisteredTrainer> registered = registry.registered();
            if (from == null || registered.isEmpty() || !restoredAtConstruction.isEmpty()) {
                return Map.of();
            }
            Set<String> registeredIds = new HashSet<>();
            for (RegisteredTrainer r : registered) {
                if (!sightings.ranStep(r.key())) {
                    return Map.of();
                }
                registeredIds.add(r.id.toString());
            }
            List<String> recorded = recordedTrainers(from);
            // A checkpoint of one trainer whose class was renamed went, whole, to the first trainer restored.
            boolean allRestored = registeredIds.containsAll(recorded)
                    || (recorded.size() <= 1 && !restoredIds.isEmpty());
            if (!allRestored) {
                return Map.of();
            }
            Map<String, ByteBuffer> buffers = new HashMap<>();
            for (Entry e : from.entries()) {
                if (e instanceof TensorEntry t) {
                    buffers.put(t.key(), t.data());
                }
            }
            resumeFrom = null;
            return buffers;
        }
    }

    /** Lets the loaded checkpoint's memory go once this run has committed a checkpoint of its own. */
    void forgetResumeSource() {
        synchronized (registry) {
            resumeFrom = null;
        }
    }
}
