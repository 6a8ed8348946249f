package dev.pauser.agent.checkpoint;

import dev.pauser.agent.state.StateCapture;
import dev.pauser.agent.state.StateException;
import dev.pauser.agent.state.StateSchema;
import dev.pauser.gate.TrainerListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Learns of the trainers from the gate's hooks and decides, for each, when it gets its identity, is registered and is
 * restored. A trainer is every object that ran a step (or, for a class whose state is static only, the class),
 * registered when a thread first runs one of its steps; in a resumed run, one the checkpoint holds is registered and
 * restored already when its constructor returns, and restored again before its first step. Registration validates the
 * fields (an unsupported type is fatal, naming class, field and type) and restores them from the checkpoint the run
 * resumes from, before the first step runs.
 *
 * <p>Objects only seen (constructed, or run without state) are held weakly ({@link TrainerSightings}); registered ones
 * strongly ({@link TrainerRegistry}). Both hooks run under the registry's lock, on the thread the gate calls them on.
 */
final class TrainerDiscovery implements TrainerListener {
    private final TrainerRegistry registry;
    private final TrainerSightings sightings;
    private final TrainerRestorer restorer;
    private final Consumer<String> fatal;
    /** Valid schemas by class; a class whose schema failed is not cached, so its first step reports it. */
    private final Map<Class<?>, StateSchema> schemas = new HashMap<>();

    TrainerDiscovery(TrainerRegistry registry, TrainerSightings sightings, TrainerRestorer restorer,
            Consumer<String> fatal) {
        this.registry = registry;
        this.sightings = sightings;
        this.restorer = restorer;
        this.fatal = fatal;
    }

    /** Runs on the training thread, before the first step of {@code self} (or of the static steps) on that thread. */
    @Override
    public void trainerSeen(Class<?> stepType, Object self) {
        synchronized (registry) {
            Object obj = self != null ? self : stepType;
            if (!sightings.firstStep(obj)) {
                return;
            }
            // Restored when constructed; restore again now, so code that ran between construction and this first
            // step (an init() that randomizes the weights) can't have replaced the resumed state.
            if (restorer.restoreAgain(obj, true)) {
                return;
            }
            Class<?> type = self != null ? self.getClass() : stepType;
            StateSchema schema = schemaOf(type, true);
            if (schema == null || schema.isEmpty()) {
                return;
            }
            if (self == null && schema.hasInstanceFields()) {
                // A static step of a class whose state is per instance: wait for an instance step to register it.
                sightings.forgetStep(obj);
                return;
            }
            Object key = schema.hasInstanceFields() ? self : type;
            if (!registry.contains(key)) {
                register(sightings.idOf(key, type), type, key == type ? null : self, schema);
            }
        }
    }

    /**
     * Runs on the constructing thread when a constructor of a trainer class returns. Gives the object its ordinal now,
     * so that trainers constructed in one thread and run in several keep their identity whichever steps first; a
     * resumed run also restores the object here, when the checkpoint holds it.
     */
    @Override
    public void trainerConstructed(Class<?> type, Object self) {
        synchronized (registry) {
            if (sightings.ranStep(self)) {
                return; // the object already runs steps
            }
            // A constructor delegating to another (this(...)) returns after it: the outermost one restores last.
            if (restorer.restoreAgain(self, false)) {
                return;
            }
            StateSchema schema = schemaOf(type, restorer.resuming());
            if (schema == null || schema.isEmpty()) {
                return;
            }
            Object key = schema.hasInstanceFields() ? self : type;
            TrainerId id = sightings.idOf(key, type);
            // Only a trainer the checkpoint holds is registered here; others (new ones, one more than the checkpoint
            // holds) are decided at their first step, so an object that never runs a step changes nothing.
            if (!restorer.resuming() || registry.contains(key) || !restorer.holds(id, schema)) {
                return;
            }
            RegisteredTrainer r = register(id, type, key == type ? null : self, schema);
            if (r != null && r.self == self) {
                restorer.restoredAtConstruction(self, r);
            }
        }
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
    private RegisteredTrainer register(TrainerId id, Class<?> type, Object self, StateSchema schema) {
        String clash = registry.keyClash(id, schema);
        if (clash != null) {
            fatal.accept(clash);
            return null;
        }
        RegisteredTrainer r = new RegisteredTrainer(id, type, self, new StateCapture(schema));
        restorer.restoreNew(r);
        // No checkpoint of it could ever be written: say so before training rather than at the first checkpoint.
        List<String> device = schema.deviceProblems(self);
        List<String> problems = new ArrayList<>(device);
        problems.addAll(schema.sizeProblems(self));
        problems.addAll(schema.graphProblems(self));
        if (!problems.isEmpty()) {
            // a GPU field alone is one line, as the field names itself; otherwise every problem under the class
            fatal.accept(problems.size() == 1 && device.size() == 1 ? "pauser: " + device.get(0)
                    : new StateException("pauser: " + type.getName() + " can't be checkpointed", problems).getMessage());
            return null;
        }
        registry.add(r);
        return r;
    }
}
