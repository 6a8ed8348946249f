package dev.pauser.bench.report;

import java.util.Arrays;
import java.util.Locale;

/**
 * One measured figure: its samples (one per run, at least five in a full run) next to its reference's samples, measured
 * in the same run on the same machine. {@code unit} applies to both. A figure without a reference (report-only, or a
 * value target) has {@code reference} "-" and no reference samples.
 *
 * @param figure the figure's name, one row of the targets table (e.g. {@code checkpoint stall, async})
 * @param row what this line of it measured (e.g. {@code 100 MiB, first checkpoint})
 */
public record Figure(String figure, String row, String unit, double[] samples, String reference,
        double[] referenceSamples, Target target) {

    public Figure {
        if (samples.length == 0) {
            throw new IllegalArgumentException(figure + " / " + row + ": no samples");
        }
        for (String s : new String[] {figure, row, unit, reference}) {
            if (s.contains("\t") || s.contains("\n")) {
                throw new IllegalArgumentException("tab or line break in '" + s + "'");
            }
        }
        samples = samples.clone();
        referenceSamples = referenceSamples.clone();
    }

    public double median() {
        return median(samples);
    }

    public double referenceMedian() {
        return referenceSamples.length == 0 ? Double.NaN : median(referenceSamples);
    }

    /** median / reference median; NaN without a reference. */
    public double ratio() {
        return median() / referenceMedian();
    }

    /** Null for a report-only figure. */
    public Boolean holds() {
        return target.holds(median(), ratio());
    }

    public static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    public static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    public static double max(double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }

    /** The figure as one line of a results file (tab-separated); {@link #parse} reads it back. */
    String encode() {
        return String.join("\t", figure, row, unit, numbers(samples), reference, numbers(referenceSamples),
                target.encode());
    }

    static Figure parse(String line) {
        String[] p = line.split("\t", -1);
        if (p.length != 7) {
            throw new IllegalArgumentException("not a figure line (" + p.length + " fields): " + line);
        }
        return new Figure(p[0], p[1], p[2], numbers(p[3]), p[4], numbers(p[5]), Target.decode(p[6]));
    }

    private static String numbers(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(String.format(Locale.ROOT, "%s", d));
        }
        return b.toString();
    }

    private static double[] numbers(String s) {
        return s.isEmpty() ? new double[0] : Arrays.stream(s.split(",")).mapToDouble(Double::parseDouble).toArray();
    }
}
