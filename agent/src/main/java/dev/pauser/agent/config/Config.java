package dev.pauser.agent.config;

import dev.pauser.agent.log.LogLevel;
import dev.pauser.agent.state.StateRestore.OnMismatch;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * The agent's options. Each key can be given three ways; the first found wins:
 * <ol>
 * <li>the agent arguments, {@code -javaagent:pauser.jar=key=value,key=value} (or {@code pauser attach <pid> key=value});</li>
 * <li>a system property {@code -Dpauser.key=value};</li>
 * <li>an environment variable {@code PAUSER_KEY}, the key in upper snake case ({@code pauseAtStep} is
 * {@code PAUSER_PAUSE_AT_STEP}).</li>
 * </ol>
 * An unknown key or a bad value is a {@link ConfigException} naming the key, the value, where it came from and what is
 * allowed.
 */
public final class Config {

    /** What a log line's level must reach to be written. */
    /** What SIGTERM and SIGINT do. */
    public enum OnSignal {
        /** Finish in-flight steps, run the stop hook, exit with 128 + the signal number. */
        STOP,
        /** Leave the signal to the JVM: it exits at once, as without the agent. */
        EXIT
    }

    /** One option: its key, default, the text shown for allowed values, and how a value is parsed. */
    private static final class Option<T> {
        final String key;
        final String defaultValue;
        final String allowed;
        final Function<String, T> parser;

        Option(String key, String defaultValue, String allowed, Function<String, T> parser) {
            this.key = key;
            this.defaultValue = defaultValue;
            this.allowed = allowed;
            this.parser = parser;
        }
    }

    private static final Option<Path> DIR = new Option<>("dir", "./pauser", "a directory path (not empty)", v -> {
        // Empty would resolve to the working directory: checkpoints, the lock and the PAUSE file strewn among the
        // program's own files.
        if (v.isBlank()) {
            throw new IllegalArgumentException();
        }
        return Paths.get(v);
    });
    private static final Option<OnSignal> ON_SIGNAL =
            new Option<>("onSignal", "stop", "stop or exit", v -> parseEnum(OnSignal.class, v));
    private static final Option<Integer> GRACE_SECONDS =
            new Option<>("graceSeconds", "25", "a whole number of seconds, 0 or more", v -> parseInt(v, 0));
    private static final Option<Long> PAUSE_AT_STEP =
            new Option<>("pauseAtStep", "", "a step number, 1 or more (empty: never)", v -> v.isEmpty() ? -1L : parseLong(v, 1));
    private static final Option<Long> STOP_AT_STEP =
            new Option<>("stopAtStep", "", "a step number, 1 or more (empty: never)", v -> v.isEmpty() ? -1L : parseLong(v, 1));
    private static final Option<LogLevel> LOG =
            new Option<>("log", "info", "off, error, warning, info or debug", v -> parseEnum(LogLevel.class, v));

    private static final Option<Long> EVERY =
            new Option<>("every", "", "a number of steps, 1 or more (empty: no step-based checkpoints)",
                    v -> v.isEmpty() ? -1L : parseLong(v, 1));
    private static final Option<Duration> INTERVAL =
            new Option<>("interval", "", "a duration such as 90s, 10m or 2h (empty: none)", Config::parseDuration);
    private static final Option<Integer> KEEP =
            new Option<>("keep", "3", "a number of checkpoints, 1 or more", v -> parseInt(v, 1));
    private static final Option<Duration> KEEP_EVERY =
            new Option<>("keepEvery", "", "a duration such as 1h or 1d (empty: none)", Config::parseDuration);
    private static final Option<String> RESUME =
            new Option<>("resume", "auto", "auto, never, or the path of a checkpoint directory", v -> {
                if (v.isBlank()) {
                    throw new IllegalArgumentException();
                }
                return v;
            });
    private static final Option<OnMismatch> ON_MISMATCH =
            new Option<>("onMismatch", "fail", "fail or warn", v -> parseEnum(OnMismatch.class, v));
    private static final Option<Boolean> ASYNC = new Option<>("async", "true", "true or false", Config::parseBoolean);
    private static final Option<Boolean> CHECKPOINT_ON_PAUSE =
            new Option<>("checkpointOnPause", "true", "true or false", Config::parseBoolean);
    private static final Option<Boolean> RELEASE_GPU_ON_PAUSE =
            new Option<>("releaseGpuOnPause", "false", "true or false", Config::parseBoolean);

    private static final Option<Map<String, Set<String>>> STEP = new Option<>("step", "",
            "<class>#<method> entries joined by + (empty: none)", NamedMembers::parse);
    private static final Option<Map<String, Set<String>>> STATE = new Option<>("state", "",
            "<class>#<field> entries joined by + (empty: none)", NamedMembers::parse);
    private static final Option<Map<String, Map<String, Set<String>>>> CONFIG = new Option<>("config", "",
            "a readable file of step=<class>#<method> and state=<class>#<field> lines (empty: none)",
            NamedMembers::readFile);

    private static final Option<JobAddress> CLUSTER = new Option<>("cluster", "",
            "<ZooKeeper connect string>/<job path>, such as zk1:2181,zk2:2181/pauser/jobs/mnist (empty: this JVM "
                    + "trains alone)", v -> v.isBlank() ? null : JobAddress.parse(v));
    private static final Option<Integer> RANK =
            new Option<>("rank", "", "this worker's number, 0 to worldSize-1 (needed with cluster)",
                    v -> v.isEmpty() ? -1 : parseInt(v, 0));
    private static final Option<Integer> WORLD_SIZE =
            new Option<>("worldSize", "", "the number of worker JVMs in the job, 1 or more (needed with cluster)",
                    v -> v.isEmpty() ? -1 : parseInt(v, 1));
    private static final Option<Path> ZK_AUTH_FILE = new Option<>("zkAuthFile", "",
            "a readable file holding user:password for ZooKeeper (empty: none)", v -> {
                if (v.isBlank()) {
                    return null;
                }
                Path p = Paths.get(v);
                if (!java.nio.file.Files.isReadable(p) || java.nio.file.Files.isDirectory(p)) {
                    throw new IllegalArgumentException();
                }
                return p;
            });
    private static final Option<Duration> JOB_TIMEOUT = new Option<>("jobTimeout", "30s",
            "a duration such as 30s or 2m", Config::parseDuration);

    private static final Map<String, Option<?>> OPTIONS = new LinkedHashMap<>();

    static {
        for (Option<?> o : new Option<?>[] {DIR, ON_SIGNAL, GRACE_SECONDS, PAUSE_AT_STEP, STOP_AT_STEP, LOG, EVERY, INTERVAL, KEEP,
            KEEP_EVERY, RESUME, ON_MISMATCH, ASYNC, CHECKPOINT_ON_PAUSE, RELEASE_GPU_ON_PAUSE, STEP, STATE, CONFIG, CLUSTER, RANK,
            WORLD_SIZE, JOB_TIMEOUT, ZK_AUTH_FILE}) {
            OPTIONS.put(o.key, o);
        }
    }

    private final Map<String, String> raw;

    private Config(Map<String, String> raw) {
        this.raw = raw;
        // Parse every option now, so a bad value stops the JVM before main rather than later.
        for (Option<?> o : OPTIONS.values()) {
            get(o);
        }
    }

    /** Reads the options from the agent arguments, then system properties, then the environment. */
    public static Config load(String agentArgs, Properties sysProps, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        // lowest precedence first; later sources overwrite
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith("PAUSER_")) {
                String key = keyOfEnv(e.getKey());
                put(values, sources, key, e.getValue(), "environment variable " + e.getKey());
            }
        }
        for (String name : sysProps.stringPropertyNames()) {
            if (name.startsWith("pauser.") && !name.startsWith("pauser.agent.")) {
                put(values, sources, name.substring("pauser.".length()), sysProps.getProperty(name),
                        "system property -D" + name);
            }
        }
        if (agentArgs != null && !agentArgs.isBlank()) {
            String lastKey = null;
            for (String pair : agentArgs.split(",")) {
                if (pair.isBlank()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq < 0 && CLUSTER.key.equals(lastKey)) {
                    // A ZooKeeper connect string holds commas: the next server of the cluster value, not a new option.
                    values.put(lastKey, values.get(lastKey) + "," + pair.trim());
                    continue;
                }
                if (eq <= 0) {
                    throw new ConfigException("pauser: agent argument '" + pair.trim()
                            + "' is not key=value; write key=value,key=value (keys: "
                            + String.join(", ", OPTIONS.keySet()) + ")");
                }
                lastKey = pair.substring(0, eq).trim();
                put(values, sources, lastKey, pair.substring(eq + 1).trim(), "agent argument");
            }
        }
        Map<String, String> checked = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : values.entrySet()) {
            Option<?> o = OPTIONS.get(e.getKey());
            String source = sources.get(e.getKey());
            if (o == null) {
                throw new ConfigException("pauser: unknown option '" + e.getKey() + "' (" + source
                        + "); known options: " + String.join(", ", OPTIONS.keySet()));
            }
            try {
                o.parser.apply(e.getValue());
            } catch (RuntimeException ex) {
                String why = ex instanceof NamedMembers.BadEntry ? " (" + ex.getMessage() + ")" : "";
                throw new ConfigException("pauser: bad value '" + e.getValue() + "' for option " + o.key + " ("
                        + source + "): expected " + o.allowed + why);
            }
            checked.put(e.getKey(), e.getValue());
        }
        checkJobOptions(checked, sources);
        return new Config(checked);
    }

    /** {@code cluster} needs {@code rank} and {@code worldSize}, and the rank must be one of the world's. */
    private static void checkJobOptions(Map<String, String> checked, Map<String, String> sources) {
        if (CLUSTER.parser.apply(checked.getOrDefault(CLUSTER.key, "")) == null) {
            return;
        }
        int rank = RANK.parser.apply(checked.getOrDefault(RANK.key, ""));
        int worldSize = WORLD_SIZE.parser.apply(checked.getOrDefault(WORLD_SIZE.key, ""));
        if (rank < 0 || worldSize < 0) {
            throw new ConfigException("pauser: option cluster (" + sources.get(CLUSTER.key) + ") needs rank and "
                    + "worldSize too: give each worker rank=<0 to worldSize-1>,worldSize=<number of workers> (or "
                    + envNameOf(RANK.key) + " and " + envNameOf(WORLD_SIZE.key) + ")");
        }
        if (rank >= worldSize) {
            throw new ConfigException("pauser: rank=" + rank + " (" + sources.get(RANK.key) + ") is not below worldSize="
                    + worldSize + " (" + sources.get(WORLD_SIZE.key) + "): ranks run from 0 to worldSize-1");
        }
    }

    private static void put(Map<String, String> values, Map<String, String> sources, String key, String value,
            String source) {
        values.put(key, value);
        sources.put(key, source);
    }

    /** PAUSER_PAUSE_AT_STEP -> pauseAtStep; names with no known option keep a readable form for the error. */
    static String keyOfEnv(String envName) {
        String snake = envName.substring("PAUSER_".length());
        for (String key : OPTIONS.keySet()) {
            if (envNameOf(key).equals(envName)) {
                return key;
            }
        }
        return snake.toLowerCase(Locale.ROOT);
    }

    /** pauseAtStep -> PAUSER_PAUSE_AT_STEP. */
    public static String envNameOf(String key) {
        return "PAUSER_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    private <T> T get(Option<T> o) {
        String v = raw.getOrDefault(o.key, o.defaultValue);
        return o.parser.apply(v);
    }

    public Path dir() {
        return get(DIR);
    }

    public OnSignal onSignal() {
        return get(ON_SIGNAL);
    }

    public int graceSeconds() {
        return get(GRACE_SECONDS);
    }

    /** -1 when not set. */
    public long pauseAtStep() {
        return get(PAUSE_AT_STEP);
    }

    /** -1 when not set. */
    public long stopAtStep() {
        return get(STOP_AT_STEP);
    }

    public LogLevel log() {
        return get(LOG);
    }

    /** Checkpoint every this many steps; -1 for none. */
    public long every() {
        return get(EVERY);
    }

    /** Checkpoint at this wall-clock interval; null for none. */
    public Duration interval() {
        return get(INTERVAL);
    }

    public int keep() {
        return get(KEEP);
    }

    /** Keep one checkpoint per period of this length besides the newest {@link #keep}; null for none. */
    public Duration keepEvery() {
        return get(KEEP_EVERY);
    }

    /** "auto", "never", or a checkpoint path. */
    public String resume() {
        return get(RESUME).trim();
    }

    public OnMismatch onMismatch() {
        return get(ON_MISMATCH);
    }

    public boolean async() {
        return get(ASYNC);
    }

    public boolean checkpointOnPause() {
        return get(CHECKPOINT_ON_PAUSE);
    }

    /** Give the GPU memory of {@code @TrainState} fields back to the device while paused. */
    public boolean releaseGpuOnPause() {
        return get(RELEASE_GPU_ON_PAUSE);
    }

    /** The job this JVM is one worker of; null when it trains alone. */
    public JobAddress cluster() {
        return get(CLUSTER);
    }

    /** This worker's rank in the job; -1 without {@code cluster}. */
    public int rank() {
        return get(RANK);
    }

    /** The number of workers in the job; -1 without {@code cluster}. */
    public int worldSize() {
        return get(WORLD_SIZE);
    }

    /** The file holding the ZooKeeper digest user of the job's nodes; null for none. */
    public Path zkAuthFile() {
        return get(ZK_AUTH_FILE);
    }

    /** How long a worker waits for ZooKeeper and for its peers in job operations. */
    public Duration jobTimeout() {
        return get(JOB_TIMEOUT);
    }

    /** The methods named as steps ({@code step=} and {@code config=}): class name to method names. */
    public Map<String, Set<String>> steps() {
        return NamedMembers.union(get(STEP), get(CONFIG).get("step"));
    }

    /** The fields named as state ({@code state=} and {@code config=}): class name to field names. */
    public Map<String, Set<String>> states() {
        return NamedMembers.union(get(STATE), get(CONFIG).get("state"));
    }

    /** Every option with its default, for the documentation test and {@code --help}. */
    public static Map<String, String> defaults() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Option<?> o : OPTIONS.values()) {
            m.put(o.key, o.defaultValue);
        }
        return Collections.unmodifiableMap(m);
    }

    /** Every option with the values it accepts, in words (what a bad value's error says is expected). */
    public static Map<String, String> allowedValues() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Option<?> o : OPTIONS.values()) {
            m.put(o.key, o.allowed);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The options as given (not defaults), for the log line at start-up. */
    public Map<String, String> given() {
        return Collections.unmodifiableMap(raw);
    }

    private static boolean parseBoolean(String v) {
        switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                throw new IllegalArgumentException();
        }
    }

    /** 500ms, 90s, 10m, 2h, 1d; a plain number is seconds. Empty is none (null). */
    static Duration parseDuration(String v) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
            return null;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)?").matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException();
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d;
        switch (unit) {
            case "ms": d = Duration.ofMillis(n); break;
            case "s": d = Duration.ofSeconds(n); break;
            case "m": d = Duration.ofMinutes(n); break;
            case "h": d = Duration.ofHours(n); break;
            default: d = Duration.ofDays(n); break;
        }
        if (d.isZero()) {
            throw new IllegalArgumentException();
        }
        return d;
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String v) {
        return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT));
    }

    private static int parseInt(String v, int min) {
        int n = Integer.parseInt(v.trim());
        if (n < min) {
            throw new IllegalArgumentException();
        }
        return n;
    }

    private static long parseLong(String v, long min) {
        long n = Long.parseLong(v.trim());
        if (n < min) {
            throw new IllegalArgumentException();
        }
        return n;
    }
}
