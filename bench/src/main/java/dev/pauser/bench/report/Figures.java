package dev.pauser.bench.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where harnesses put their figures: each {@link #record} prints the figure as one readable line on stdout and, when
 * the system property {@value #RESULTS_PROPERTY} names a file (as {@link BenchAll} sets it), appends it there as one
 * tab-separated line. Thread-safe.
 */
public final class Figures {
    /** The file figures are appended to; unset when a harness runs on its own. */
    public static final String RESULTS_PROPERTY = "pauser.bench.results";

    private Figures() {
    }

    public static synchronized void record(Figure f) {
        System.out.println(describe(f));
        String file = System.getProperty(RESULTS_PROPERTY);
        if (file != null && !file.isEmpty()) {
            try {
                Files.writeString(Path.of(file), f.encode() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("can't append to " + file, e);
            }
        }
    }

    /** Every figure of a results file, in the order recorded. */
    public static List<Figure> read(Path file) throws IOException {
        List<Figure> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(Figure.parse(line));
            }
        }
        return out;
    }

    /** {@code figure / row: median [min-max] unit | reference median [min-max] | ratio | target: holds} */
    public static String describe(Figure f) {
        StringBuilder b = new StringBuilder();
        b.append(f.figure()).append(" / ").append(f.row()).append(": ")
                .append(range(f.samples())).append(' ').append(f.unit());
        if (f.referenceSamples().length > 0) {
            b.append(" | ").append(f.reference()).append(": ").append(range(f.referenceSamples()))
                    .append(String.format(Locale.ROOT, " | ratio %.2f", f.ratio()));
        }
        Boolean holds = f.holds();
        b.append(" | target ").append(f.target().text());
        if (holds != null) {
            b.append(holds ? ": holds" : ": MISSED");
        }
        return b.toString();
    }

    /** {@code median [min–max]}, three significant digits. */
    public static String range(double[] v) {
        return number(Figure.median(v)) + " [" + number(Figure.min(v)) + "–" + number(Figure.max(v)) + "]";
    }

    static String number(double d) {
        double a = Math.abs(d);
        if (a >= 100 || d == Math.rint(d)) {
            return String.format(Locale.ROOT, "%.0f", d);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", d);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", d);
        }
        return String.format(Locale.ROOT, "%.3g", d);
    }
}
