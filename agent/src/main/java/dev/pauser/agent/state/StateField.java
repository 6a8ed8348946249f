package dev.pauser.agent.state;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;

/**
 * One {@code @TrainState} value: its key, the field, the chain of nested state objects leading to it from the trainer,
 * and the codec that encodes it.
 */
public final class StateField {
    private final String key;
    private final Field field;
    private final List<Field> holders;
    private final boolean required;
    private final boolean writable;
    final Codec codec;

    StateField(String key, Field field, List<Field> holders, boolean required, boolean writable, Codec codec) {
        this.key = key;
        this.field = field;
        this.holders = List.copyOf(holders);
        this.required = required;
        this.writable = writable;
        this.codec = codec;
    }

    /** The checkpoint key: {@code @TrainState(name)} or the field name, nested keys joined with '.'. */
    public String key() {
        return key;
    }

    public Field field() {
        return field;
    }

    /** The nested state objects' fields leading from the trainer to this field (empty for the trainer's own). */
    public List<Field> holders() {
        return holders;
    }

    /** {@code @TrainState(required)}. */
    public boolean required() {
        return required;
    }

    public boolean isStatic() {
        return Modifier.isStatic(field.getModifiers());
    }

    /** False for a static final field or a record component: only restorable in place. */
    public boolean writable() {
        return writable;
    }

    /** The Java type recorded for this field (without a codec's attributes). */
    public String javaType() {
        return StateSchema.baseType(codec.javaType(this));
    }

    /** "com.example.Trainer.weights", for messages. */
    public String describe() {
        return field.getDeclaringClass().getName() + "." + field.getName();
    }

    /** The object holding the field (null for a static), following the nested state objects from the trainer. */
    Object owner(Object trainer) throws IllegalAccessException {
        if (isStatic()) {
            return null;
        }
        Object o = trainer;
        for (Field h : holders) {
            o = h.get(Modifier.isStatic(h.getModifiers()) ? null : o);
            if (o == null) {
                throw new IllegalStateException("the nested state object " + h.getDeclaringClass().getName() + "."
                        + h.getName() + " is null: create it in the constructor");
            }
        }
        if (o == null) {
            throw new IllegalStateException("no trainer instance given for the instance field " + describe());
        }
        return o;
    }

    Object get(Object owner) throws IllegalAccessException {
        return field.get(owner);
    }

    void set(Object owner, Object value) throws IllegalAccessException {
        if (!writable) {
            throw new IllegalStateException(describe() + " can't be written (static final or record component)");
        }
        field.set(owner, value);
    }

    @Override
    public String toString() {
        return key + " (" + describe() + ", " + javaType() + ")";
    }
}
