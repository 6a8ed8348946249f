package dev.pauser.bench.report;

import java.util.Locale;

/**
 * What a figure should reach, and whether it did. A ratio target compares the figure's median with its reference's
 * median ({@code median / referenceMedian}); a value target compares the median itself; a report-only target has none.
 */
public record Target(Kind kind, double bound, String text) {

    /** How {@link #bound} is compared. */
    public enum Kind {
        /** median / reference median &le; bound (e.g. a stall against one arraycopy) */
        RATIO_AT_MOST,
        /** median / reference median &ge; bound (e.g. a throughput against the raw disk) */
        RATIO_AT_LEAST,
        /** median &le; bound, in the figure's unit */
        VALUE_AT_MOST,
        /** median &ge; bound, in the figure's unit */
        VALUE_AT_LEAST,
        /** nothing to hold: the figure is reported */
        REPORT
    }

    public static Target ratioAtMost(double bound, String text) {
        return new Target(Kind.RATIO_AT_MOST, bound, text);
    }

    public static Target ratioAtLeast(double bound, String text) {
        return new Target(Kind.RATIO_AT_LEAST, bound, text);
    }

    public static Target valueAtMost(double bound, String text) {
        return new Target(Kind.VALUE_AT_MOST, bound, text);
    }

    public static Target valueAtLeast(double bound, String text) {
        return new Target(Kind.VALUE_AT_LEAST, bound, text);
    }

    public static Target report(String text) {
        return new Target(Kind.REPORT, Double.NaN, text);
    }

    /** Null for a report-only target; otherwise whether the figure's median (and its ratio) meet the bound. */
    public Boolean holds(double median, double ratio) {
        return switch (kind) {
            case RATIO_AT_MOST -> ratio <= bound;
            case RATIO_AT_LEAST -> ratio >= bound;
            case VALUE_AT_MOST -> median <= bound;
            case VALUE_AT_LEAST -> median >= bound;
            case REPORT -> null;
        };
    }

    /** One field of a results line: kind, bound and text joined by {@code ;}. */
    String encode() {
        return kind + ";" + String.format(Locale.ROOT, "%s", bound) + ";" + text;
    }

    static Target decode(String s) {
        String[] p = s.split(";", 3);
        if (p.length != 3) {
            throw new IllegalArgumentException("not a target: " + s);
        }
        return new Target(Kind.valueOf(p[0]), Double.parseDouble(p[1]), p[2]);
    }
}
