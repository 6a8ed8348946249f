package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pauser.agent.store.CheckpointNames;
import dev.pauser.fixture.StateTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Shared pieces of the checkpoint end-to-end tests: starting {@link StateTrainer}, reading results and directories. */
final class Checkpoints {
    private static final Pattern RESULT = Pattern.compile("(?m)^result=(\\S+)$");
    private static final Pattern FIRST_STEP = Pattern.compile("(?m)^first step sees step=(\\d+)$");
    private static final Pattern RESUMED = Pattern.compile("resuming from (\\S+) at step (\\d+)");
    private static final Map<List<String>, String> REFERENCE = new ConcurrentHashMap<>();

    private Checkpoints() {
    }

    /** {@link StateTrainer} with the agent: {@code dir=<dir>} plus {@code options} (comma-separated, may be empty). */
    static ChildJvm start(Path dir, String options, String... args) throws IOException {
        return builder(dir, options).main(StateTrainer.class, args).start();
    }

    static ChildJvm.Builder builder(Path dir, String options) {
        return ChildJvm.builder().agent("dir=" + dir + (options.isEmpty() ? "" : "," + options));
    }

    /** Waits for a normal exit and returns the result hash. */
    static String finish(ChildJvm child, String context) throws InterruptedException {
        int status = child.awaitExit(Duration.ofSeconds(120));
        String out = child.output();
        assertEquals(0, status, context + ": exit status; output:\n" + out);
        return result(out, context);
    }

    static String result(String output, String context) {
        Matcher m = RESULT.matcher(output);
        if (!m.find()) {
            fail(context + ": no result line; output:\n" + output);
        }
        return m.group(1);
    }

    /** The hash of an uninterrupted run of {@link StateTrainer} without the agent, computed once per argument list. */
    static String reference(String... args) throws Exception {
        List<String> key = List.of(args);
        String h = REFERENCE.get(key);
        if (h == null) {
            try (ChildJvm child = ChildJvm.builder().noAgent().main(StateTrainer.class, args).start()) {
                h = finish(child, "reference run without the agent");
            }
            REFERENCE.put(key, h);
        }
        return h;
    }

    /** The step of the "resuming from ... at step N" line, or -1 when the run did not resume. */
    static long resumedStep(String output) {
        Matcher m = RESUMED.matcher(output);
        return m.find() ? Long.parseLong(m.group(2)) : -1;
    }

    /** The step counter {@code StateTrainer} saw when its first step began, or -1 when it printed none. */
    static long firstStepSees(String output) {
        Matcher m = FIRST_STEP.matcher(output);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The run resumed from the checkpoint of {@code step}: the agent says so, and the trainer's own restored counter shows
     * it really continued there (a run that restored nothing would start at 0 and still reach the same result).
     */
    static void assertResumedAt(long step, long totalSteps, String output) {
        assertEquals(step, resumedStep(output), output);
        assertEquals(Math.min(step, totalSteps), firstStepSees(output), "the trainer's counter at its first step:\n"
                + output);
    }

    /** The checkpoint directory of the "resuming from" line, or null. */
    static Path resumedFrom(String output) {
        Matcher m = RESUMED.matcher(output);
        return m.find() ? Path.of(m.group(1)) : null;
    }

    /** The committed checkpoints in {@code dir}, oldest first. */
    static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = new ArrayList<>();
            s.filter(p -> CheckpointNames.parseStep(p.getFileName().toString()).isPresent()).forEach(out::add);
            out.sort(Comparator.comparingLong(Checkpoints::step));
            return out;
        }
    }

    static long step(Path ckpt) {
        return CheckpointNames.parseStep(ckpt.getFileName().toString()).orElseThrow();
    }

    static List<Long> steps(Path dir) throws IOException {
        List<Long> out = new ArrayList<>();
        for (Path p : list(dir)) {
            out.add(step(p));
        }
        return out;
    }

    /** Names in {@code dir} starting with a dot and "tmp-" (an unfinished commit). */
    static List<String> tmpDirs(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList();
        }
    }

    /** Waits until at least {@code n} checkpoints are committed. */
    static void awaitCheckpoints(Path dir, int n, ChildJvm child) throws InterruptedException {
        Steps.await(() -> n + " checkpoints in " + dir + " (" + describe(dir) + "); output:\n" + child.output(),
                120_000, () -> {
                    try {
                        return list(dir).size() >= n;
                    } catch (IOException e) {
                        return false;
                    }
                });
    }

    /** The committed checkpoints' steps and the unfinished commits in {@code dir}, for failure messages. */
    static String describe(Path dir) {
        try {
            return "checkpoints " + steps(dir) + ", unfinished " + (Files.isDirectory(dir) ? tmpDirs(dir) : List.of());
        } catch (IOException e) {
            return "cannot list: " + e;
        }
    }

    static void assertContains(String output, String needle, String context) {
        assertTrue(output.contains(needle), context + ": expected '" + needle + "' in output:\n" + output);
    }
}
