package dev.pauser.agent.checkpoint;

/**
 * A trainer's identity in a checkpoint: its class name and an ordinal among the trainers of that class name, in the
 * order they were first constructed or, for those the agent did not see constructed (static state, a subclass, a late
 * attach), first ran a step ({@link TrainerSightings} hands them out). Two objects of one class, and two class loaders'
 * copies of one class, are so two trainers, told apart the same way in every run that constructs them in the same
 * order. Ordinal 0 is stored as a single trainer always was: tensor and value names are the field keys, the manifest
 * info {@code trainer:<class>} lists them. Ordinal {@code n > 0} stores each field as {@code <key>#<n>}, listed under
 * {@code trainer:<class>#<n>}; class names can't contain {@code #}, so the info key is unambiguous, and the known
 * suffix maps an entry back to its field key. An immutable value, used on any thread.
 */
record TrainerId(String className, int ordinal) {
    /** Manifest info key listing a trainer's entry names: {@code trainer:<class>[#<ordinal>]} = comma-separated. */
    static final String INFO_PREFIX = "trainer:";
    /** Between a class name (or a field key) and a trainer's ordinal; never part of a Java class name. */
    static final char ORDINAL_SEPARATOR = '#';

    String infoKey() {
        return INFO_PREFIX + this;
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
