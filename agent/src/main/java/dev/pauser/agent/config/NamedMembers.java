package dev.pauser.agent.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses the naming options: {@code step=} and {@code state=} take {@code <class>#<member>} entries joined by {@code +}
 * ({@code step=a.B#train+c.D#fit}; {@code +} is neither a Java name character, nor special to shells, nor the agent
 * arguments' {@code ,}); {@code config=} names a file of one {@code step=...} or {@code state=...} line each, where a
 * line whose first non-blank character is {@code #} is a comment (an entry starts with {@code step=} or {@code state=},
 * so the {@code #} between class and member never starts a line). The class is a binary name ({@code a.B$Inner}).
 */
public final class NamedMembers {
    private static final String ID = "[\\p{javaJavaIdentifierStart}][\\p{javaJavaIdentifierPart}]*";
    private static final Pattern ENTRY = Pattern.compile(ID + "(\\." + ID + ")*#" + ID);

    private NamedMembers() {
    }

    /** A bad naming entry or file; its message says which and why (the option's error quotes it). */
    static final class BadEntry extends IllegalArgumentException {
        BadEntry(String message) {
            super(message);
        }
    }

    /**
     * {@code a.B#m+c.D#n} as class name to member names, in the order given; empty for "". Throws a
     * {@link BadEntry} naming the bad entry.
     */
    public static Map<String, Set<String>> parse(String value) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        addAll(out, value);
        return out;
    }

    private static void addAll(Map<String, Set<String>> out, String value) {
        if (value.isBlank()) {
            return;
        }
        for (String entry : value.split("\\+", -1)) {
            String e = entry.trim();
            if (!ENTRY.matcher(e).matches()) {
                throw new BadEntry("'" + e + "' is not <class>#<member>, e.g. org.lib.Trainer#fit");
            }
            int hash = e.indexOf('#');
            out.computeIfAbsent(e.substring(0, hash), k -> new LinkedHashSet<>()).add(e.substring(hash + 1));
        }
    }

    /** The entries of a {@code config=} file: {@code "step"} and {@code "state"} to class name to member names. */
    public static Map<String, Map<String, Set<String>>> readFile(String path) {
        Map<String, Map<String, Set<String>>> out = new LinkedHashMap<>();
        out.put("step", new LinkedHashMap<>());
        out.put("state", new LinkedHashMap<>());
        if (path.isBlank()) {
            return out;
        }
        Path file = Paths.get(path.trim());
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new BadEntry("can't read " + file.toAbsolutePath() + ": " + e.getMessage());
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? "" : line.substring(0, eq).trim();
            if (!out.containsKey(key)) {
                throw new BadEntry(file + " line " + (i + 1) + ": '" + line
                        + "' is neither step=<class>#<method> nor state=<class>#<field> (comments start with #)");
            }
            try {
                addAll(out.get(key), line.substring(eq + 1));
            } catch (BadEntry e) {
                throw new BadEntry(file + " line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Both maps joined, entries of {@code a} first. */
    static Map<String, Set<String>> union(Map<String, Set<String>> a, Map<String, Set<String>> b) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        for (Map<String, Set<String>> m : List.of(a, b)) {
            m.forEach((k, v) -> out.computeIfAbsent(k, x -> new LinkedHashSet<>()).addAll(v));
        }
        out.replaceAll((k, v) -> Collections.unmodifiableSet(v));
        return Collections.unmodifiableMap(out);
    }
}
