package dev.pauser.sample;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Runs the trainer's main logic in-process and returns what it printed. */
final class TrainerRuns {
    private TrainerRuns() {
    }

    static List<String> run(String... args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            SampleApp.run(Options.parse(args), out);
        }
        return Arrays.asList(bytes.toString(StandardCharsets.UTF_8).split("\n"));
    }

    /** The value of the {@code key=} line among the last two lines. */
    static String result(List<String> lines, String key) {
        List<String> last = lines.subList(lines.size() - 2, lines.size());
        for (String l : last) {
            if (l.startsWith(key + "=")) {
                return l.substring(key.length() + 1);
            }
        }
        throw new AssertionError("no " + key + "= among the last two lines " + last);
    }
}
