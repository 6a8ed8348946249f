package dev.pauser.bench.report;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * The results page (bench/RESULTS.md): what machine and JVM, when, and every figure with its median and range next to
 * its reference's, their ratio, the target and whether it holds; the missed targets listed again at the end.
 */
final class ResultsPage {
    private ResultsPage() {
    }

    static String render(List<Figure> figures, List<String> failed, String command, Instant started, Instant ended,
            Path root) {
        StringBuilder b = new StringBuilder();
        b.append("# Pauser benchmark results\n\n");
        b.append("Written by `bench/run.sh` (`").append(command).append("`); do not edit by hand: run it again.\n\n");
        b.append("| | |\n|---|---|\n");
        row(b, "date", DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(started.atOffset(ZoneOffset.UTC).withNano(0)) + " UTC, "
                + Duration.between(started, ended).toMinutes() + " min");
        row(b, "machine", machine());
        row(b, "OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        row(b, "JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
                + System.getProperty("java.vm.vendor") + ")");
        row(b, "disk", fileStore(root));
        b.append('\n');
        b.append("Each figure: the median of its runs and [min–max]; the reference measured in the same run on the same"
                + " machine; ratio = median / reference median.\n\n");
        b.append("| figure | what | Pauser | reference | reference figure | ratio | target | holds |\n");
        b.append("|---|---|---|---|---|---|---|---|\n");
        for (Figure f : figures) {
            boolean ref = f.referenceSamples().length > 0;
            b.append("| ").append(f.figure())
                    .append(" | ").append(f.row())
                    .append(" | ").append(Figures.range(f.samples())).append(' ').append(f.unit())
                    .append(" | ").append(ref ? f.reference() : "–")
                    .append(" | ").append(ref ? Figures.range(f.referenceSamples()) + " " + f.unit() : "–")
                    .append(" | ").append(ref ? String.format(Locale.ROOT, "%.2f", f.ratio()) : "–")
                    .append(" | ").append(f.target().text())
                    .append(" | ").append(holds(f.holds()))
                    .append(" |\n");
        }
        List<Figure> missed = figures.stream().filter(f -> Boolean.FALSE.equals(f.holds())).toList();
        b.append("\n## Missed targets\n\n");
        if (missed.isEmpty()) {
            b.append("None.\n");
        }
        for (Figure f : missed) {
            b.append("- ").append(Figures.describe(f)).append('\n');
        }
        if (!missed.isEmpty()) {
            b.append("\nWhy these miss on the two-core development VM, with the measurements: ")
                    .append("[docs/REFERENCE.md, Targets that miss](../docs/REFERENCE.md#targets-that-miss).\n");
        }
        if (!failed.isEmpty()) {
            b.append("\n## Harnesses that failed\n\n");
            for (String h : failed) {
                b.append("- ").append(h).append(": its figures are missing; run it alone to see why\n");
            }
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String value) {
        b.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }

    private static String holds(Boolean h) {
        return h == null ? "(reported)" : h ? "yes" : "**no**";
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
        } catch (IOException | RuntimeException e) {
            // not Linux: the core count and memory still say what matters
        }
        long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), "
                + String.format(Locale.ROOT, "%.1f GiB", memory / (double) (1L << 30)) + " memory";
    }

    private static String fileStore(Path root) {
        try {
            var store = Files.getFileStore(root);
            return store.type() + " (" + store.name() + "), "
                    + String.format(Locale.ROOT, "%.0f GiB free", store.getUsableSpace() / (double) (1L << 30));
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
