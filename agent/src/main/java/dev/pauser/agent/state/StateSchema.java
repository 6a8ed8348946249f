package dev.pauser.agent.state;

import dev.pauser.agent.device.DeviceMemoryProvider;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The {@code @TrainState} fields of a trainer class, found and checked once at start-up.
 *
 * <p>Found: fields annotated {@code dev.pauser.TrainState} (matched by name, so the app's runtime jar may live in any
 * class loader), instance and static, any visibility, on the class and its superclasses, and recursively inside a
 * {@code @TrainState} field whose declared class has {@code @TrainState} fields of its own (a nested state object such as
 * an optimizer: its fields are captured, not the object itself; it must not be null when capturing or restoring). Key:
 * {@code @TrainState(name)} or the field name, nested keys joined with '.' ({@code optimizer.m}).
 *
 * <p>Checked: every field must have a codec ({@code dev.pauser.spi.StateCodec}s from the trainer's class loader first,
 * then the built-in ones) that accepts its declared type, and must be restorable: a compile-time constant, or a
 * {@code static final} field or record component of a type that isn't restored in place (arrays, buffers, collections,
 * maps, random generators are) is an error. Every problem is collected; {@link #of} throws one {@link StateException}
 * listing them all, one line each naming class and field.
 */
public final class StateSchema {
    private final Class<?> trainerClass;
    private final List<StateField> fields;
    private final Map<String, StateField> byKey;

    private StateSchema(Class<?> trainerClass, List<StateField> fields) {
        this.trainerClass = trainerClass;
        this.fields = Collections.unmodifiableList(fields);
        Map<String, StateField> m = new LinkedHashMap<>();
        for (StateField f : fields) {
            m.put(f.key(), f);
        }
        this.byKey = Collections.unmodifiableMap(m);
    }

    /**
     * Names fields as state without the annotation (the {@code state=} option: class binary name to field names): each
     * is found and checked exactly like a {@code @TrainState} field of its class, key the field name. Named static
     * fields of a class that is not a trainer's (nor a superclass of one) belong to the trainer of
     * {@code staticsOwner}, the class of the first named step (null: none), whose schema loads and initializes their
     * class with the trainer's class loader. Called once at start-up, on the thread loading the agent, before any
     * schema is made.
     */
    public static void nameFields(Map<String, Set<String>> fields, String staticsOwner) {
        Annotations.nameFields(fields, staticsOwner);
    }

    /** The schema of the trainer's class. */
    public static StateSchema of(Object trainer) {
        return of(trainer.getClass());
    }

    /**
     * Finds and checks the {@code @TrainState} fields; throws a {@link StateException} listing every problem. GPU fields
     * reach the device through {@link #DEVICES}.
     */
    public static StateSchema of(Class<?> trainerClass) {
        return of(trainerClass, DEVICES);
    }

    /**
     * Where the GPU fields of every trainer find their device memory (asked at a trainer class's first capture or
     * restore of a GPU field, never at start-up).
     */
    static final DeviceMemoryProvider DEVICES = DeviceMemoryProvider.DEFAULT;

    /** As {@link #of(Class)}, with GPU fields reaching their device memory through {@code devices}. */
    public static StateSchema of(Class<?> trainerClass, DeviceMemoryProvider devices) {
        List<String> problems = new ArrayList<>();
        List<Codec> codecs = new ArrayList<>(SpiCodec.load(trainerClass.getClassLoader(), problems));
        int spiCount = codecs.size();
        codecs.add(new ScalarCodec());
        codecs.add(new ArrayCodec());
        codecs.add(new BufferCodec());
        codecs.add(new RandomCodec());
        codecs.add(new OnnxTensorCodec());
        codecs.add(new DeviceBufferCodec(trainerClass.getClassLoader(), devices));
        codecs.add(new JacksonCodec());
        List<StateField> fields = new ArrayList<>();
        Deque<Class<?>> path = new ArrayDeque<>();
        path.push(trainerClass);
        discover(trainerClass, "", List.of(), path, codecs, codecs.subList(0, spiCount), fields, problems, false);
        if (trainerClass.getName().equals(Annotations.foreignStaticsOwner())) {
            for (String className : Annotations.namedFields().keySet()) {
                Class<?> c;
                try {
                    c = Class.forName(className, true, trainerClass.getClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    problems.add("state=" + className + "#...: the class can't be loaded from the class loader of "
                            + trainerClass.getName() + " (" + e + "): fix the state option");
                    continue;
                }
                if (!c.isAssignableFrom(trainerClass)) {
                    discover(c, "", List.of(), path, codecs, codecs.subList(0, spiCount), fields, problems, true);
                }
            }
        }
        Map<String, StateField> seen = new LinkedHashMap<>();
        for (StateField f : fields) {
            StateField before = seen.putIfAbsent(f.key(), f);
            if (before != null && before.field() != f.field()) {
                problems.add(f.describe() + ": key '" + f.key() + "' is also used by " + before.describe()
                        + " (give one @TrainState(name = ...) a different name)");
            }
        }
        if (!problems.isEmpty()) {
            throw new StateException("pauser: " + problems.size() + " @TrainState field"
                    + (problems.size() == 1 ? "" : "s") + " of " + trainerClass.getName() + " can't be checkpointed",
                    problems);
        }
        List<StateField> unique = new ArrayList<>(seen.values());
        return new StateSchema(trainerClass, unique);
    }

    private static final ObjectGraphCodec GRAPH = new ObjectGraphCodec();

    private static void discover(Class<?> type, String prefix, List<Field> holders, Deque<Class<?>> path,
            List<Codec> codecs, List<Codec> spi, List<StateField> out, List<String> problems, boolean foreign) {
        for (Class<?> c = type; c != null && c != Object.class && !Annotations.isJdk(c); c = c.getSuperclass()) {
            if (foreign && c != type) {
                break; // a class outside the trainer's: only the fields named on it
            }
            for (Field f : c.getDeclaredFields()) {
                Annotations.TrainStateInfo info = foreign && !Annotations.isNamed(f) ? null : Annotations.trainState(f);
                if (info == null) {
                    continue;
                }
                String where = c.getName() + "." + f.getName();
                if (foreign && !Modifier.isStatic(f.getModifiers())) {
                    problems.add(where + ": named by state= but an instance field of a class whose objects run no"
                            + " steps; name a static field, or a field of the class running the steps");
                    continue;
                }
                String key = prefix + (info.name().isEmpty() ? f.getName() : info.name());
                try {
                    f.setAccessible(true);
                } catch (RuntimeException e) {
                    problems.add(where + ": the agent can't access it (" + e.getMessage() + "): open the package"
                            + " to the agent (unnamed module)");
                    continue;
                }
                Class<?> ft = f.getType();
                if (Annotations.hasTrainStateFields(ft) && spi.stream().noneMatch(k -> k.handles(ft, ft))) {
                    if (path.contains(ft)) {
                        problems.add(where + ": nested state objects form a cycle through " + ft.getName());
                        continue;
                    }
                    List<Field> next = new ArrayList<>(holders);
                    next.add(f);
                    path.push(ft);
                    discover(ft, key + ".", next, path, codecs, spi, out, problems, false);
                    path.pop();
                    continue;
                }
                Codec codec = null;
                for (Codec k : codecs) {
                    if (k.handles(ft, f.getGenericType())) {
                        codec = k;
                        break;
                    }
                }
                String typeName = f.getGenericType().getTypeName();
                if (codec == null) {
                    problems.add(where + ": type " + typeName + " is not supported (no codec handles it; add a"
                            + " dev.pauser.spi.StateCodec)");
                    continue;
                }
                String p = codec.problem(ft, f.getGenericType());
                if (p != null && codec instanceof JacksonCodec && GRAPH.handles(ft, f.getGenericType())) {
                    // not a JSON value: the object graph walked in place (a library's model or trainer)
                    codec = GRAPH;
                    p = GRAPH.problem(ft, f.getGenericType());
                }
                if (p != null) {
                    problems.add(where + ": type " + typeName + " can't be checkpointed: " + p);
                    continue;
                }
                int m = f.getModifiers();
                boolean isStatic = Modifier.isStatic(m);
                boolean isFinal = Modifier.isFinal(m);
                boolean record = !isStatic && c.isRecord();
                if (ConstantFields.isConstant(f)) {
                    problems.add(where + " (" + typeName + ") can't be restored: it is a compile-time constant (javac"
                            + " inlines its value): make it non-final or an array/collection restored in place");
                    continue;
                }
                boolean writable = !(isFinal && (isStatic || record));
                if (!writable && !codec.inPlace(ft)) {
                    problems.add(where + " (" + (isStatic ? "static final " : "record component ") + typeName
                            + ") can't be restored: make it non-final or an array/collection restored in place");
                    continue;
                }
                out.add(new StateField(key, f, holders, info.required(), writable, codec));
            }
        }
    }

    public Class<?> trainerClass() {
        return trainerClass;
    }

    /** Every field, trainer's own first (subclass before superclass), nested ones where their holder is. */
    public List<StateField> fields() {
        return fields;
    }

    /** The field with this key, or null. */
    public StateField field(String key) {
        return byKey.get(key);
    }

    /**
     * One line per field whose value is already bigger than one checkpoint field can hold (arrays and buffers, whose
     * size is fixed when they are created), naming class, field and size; empty when every one fits. Asked when a
     * trainer is registered, so the limit shows at start-up rather than at the first checkpoint.
     */
    public List<String> sizeProblems(Object trainer) {
        List<String> problems = new ArrayList<>();
        eachValue(trainer, (f, value) -> {
            long bytes;
            try {
                bytes = f.codec.bytes(f, value);
            } catch (RuntimeException e) {
                return; // reported where the value is captured
            }
            if (bytes > Staging.MAX_BYTES) {
                problems.add(f.describe() + " ('" + f.key() + "') holds " + (bytes == Long.MAX_VALUE ? "more than 2^63"
                        : Long.toString(bytes)) + " bytes; one @TrainState field can hold at most " + Staging.MAX_BYTES
                        + " (2 GiB): split it into several fields");
            }
        });
        return problems;
    }

    /**
     * One line per object that can't be state in the object graphs the fields hold now (a thread, a class loader, a
     * stream or socket, a JDK class without a rule), naming its path from the field key
     * ({@code trainer.network.structure...}); empty when every graph can be checkpointed. Asked when a trainer is
     * registered, so every problem of every field shows at start-up, at once.
     */
    public List<String> graphProblems(Object trainer) {
        List<String> problems = new ArrayList<>();
        eachValue(trainer, (f, value) -> {
            if (f.codec instanceof ObjectGraphCodec) {
                for (String p : ObjectGraphCodec.problems(f, value)) {
                    problems.add(f.describe() + ": " + p);
                }
            }
        });
        return problems;
    }

    /**
     * One line per GPU field holding a pointer object while the CUDA driver can't be used in this JVM (no NVIDIA driver,
     * no device, JCuda's natives missing), naming the field and the reason; empty otherwise. Asked when a trainer is
     * registered, before its first step, so such a run stops with that line rather than failing every checkpoint. A null
     * field (a CPU run of a program that keeps its GPU buffers optional) is not asked about, and nothing is allocated.
     */
    public List<String> deviceProblems(Object trainer) {
        List<String> problems = new ArrayList<>();
        eachValue(trainer, (f, value) -> {
            String reason = f.codec instanceof DeviceBufferCodec device ? device.unusableReason(f) : null;
            if (reason != null) {
                problems.add(reason);
            }
        });
        return problems;
    }

    /**
     * Each field's current value where it is not null, for the checks made when a trainer is registered. A value that
     * can't be read (a null nested state object or the like) is skipped: it is reported where it is used.
     */
    private void eachValue(Object trainer, BiConsumer<StateField, Object> visit) {
        for (StateField f : fields) {
            Object value;
            try {
                value = f.get(f.owner(trainer));
            } catch (Exception e) {
                continue;
            }
            if (value != null) {
                visit.accept(f, value);
            }
        }
    }

    /** True when the trainer has no {@code @TrainState} fields. */
    public boolean isEmpty() {
        return fields.isEmpty();
    }

    /** True when some field holds GPU memory (a JCuda pointer or an array of them). */
    public boolean hasDeviceFields() {
        return fields.stream().anyMatch(f -> f.codec instanceof DeviceBufferCodec);
    }

    /** True when some field is an instance field (capturing needs the trainer instance). */
    public boolean hasInstanceFields() {
        return fields.stream().anyMatch(f -> !f.isStatic()
                && (f.holders().isEmpty() || !Modifier.isStatic(f.holders().get(0).getModifiers())));
    }

    // ---- the Java type strings of entries: "type" or "type{attributes}" ----

    /** The part of an entry's Java type before its attributes. */
    static String baseType(String javaType) {
        int b = javaType.indexOf('{');
        return b < 0 ? javaType : javaType.substring(0, b);
    }

    /** The raw text between the braces, or "". */
    static String attributeText(String javaType) {
        int b = javaType.indexOf('{');
        int e = javaType.lastIndexOf('}');
        return b < 0 || e < b ? "" : javaType.substring(b + 1, e);
    }

    /** {@code a=1,b=x} between the braces as a map. */
    static Map<String, String> attributes(String javaType) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : attributeText(javaType).split(",")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                m.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
            }
        }
        return m;
    }
}
