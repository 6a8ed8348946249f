package dev.pauser.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses the value of {@code --wait}: {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}, or a plain number of seconds.
 * {@code auto} (the value a bare {@code stop --wait} gets) stands for "the JVM's grace time plus a margin", known only
 * once connected; it is {@link #AUTO}, the one negative duration, as the parser accepts no sign.
 */
final class Timeouts implements ITypeConverter<Duration> {
    static final Duration AUTO = Duration.ofMillis(-1);

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

    @Override
    public Duration convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) {
            return AUTO;
        }
        Matcher m = FORMAT.matcher(v);
        if (!m.matches()) {
            throw new TypeConversionException("'" + value + "' is not a timeout; write e.g. 500ms, 30s, 2m, 1h or 30");
        }
        long n = Long.parseLong(m.group(1));
        if (n == 0) {
            // the MBean takes 0 as "ask and return at once": a --wait that waits for nothing would report stale values
            throw new TypeConversionException("'" + value + "' would not wait; leave out --wait to return at once, "
                    + "or give a timeout such as 30s");
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        switch (unit) {
            case "ms": return Duration.ofMillis(n);
            case "m": return Duration.ofMinutes(n);
            case "h": return Duration.ofHours(n);
            default: return Duration.ofSeconds(n);
        }
    }

    /** How a timeout reads in a message: "30s", "500ms", "2m". */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
