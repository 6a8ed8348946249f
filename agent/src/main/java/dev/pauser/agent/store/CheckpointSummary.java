package dev.pauser.agent.store;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What {@code inspect} shows: the manifest of one checkpoint and its age. */
public record CheckpointSummary(Path dir, Manifest manifest, Duration age) {

    public long totalBytes() {
        long n = 0;
        for (Manifest.Field f : manifest.fields()) {
            n += f.byteLength();
        }
        return n;
    }

    /**
     * A text table: step, age, origin, info, then one row per field (key, Java type, dtype, shape, bytes). Text from the
     * manifest is shown through {@link Visible}: a checkpoint can't write to the terminal.
     */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("checkpoint ").append(Visible.of(dir.toString())).append('\n');
        sb.append("step       ").append(manifest.step()).append('\n');
        sb.append("written    ").append(manifest.wallTime()).append(" (").append(ageText(age)).append(" ago)\n");
        sb.append("host       ").append(Visible.of(manifest.host())).append(", Java ")
                .append(Visible.of(manifest.jvmVersion())).append(" (").append(Visible.of(manifest.jvmVendor()))
                .append(")\n");
        for (Map.Entry<String, String> e : manifest.info().entrySet()) {
            sb.append("info       ").append(Visible.of(e.getKey())).append(" = ").append(Visible.of(e.getValue()))
                    .append('\n');
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"KEY", "TYPE", "DTYPE", "SHAPE", "BYTES", "DECLARED IN"});
        for (Manifest.Field f : manifest.fields()) {
            rows.add(new String[] {Visible.of(f.key()), nz(f.javaType()),
                f.kind() == Manifest.Kind.TENSOR ? f.dtype().safetensorsName() : "json", f.shapeText(),
                Long.toString(f.byteLength()), nz(f.declaringClass())});
        }
        int[] w = new int[6];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                String cell = r[i];
                if (i == 4) { // bytes, right-aligned
                    line.append(" ".repeat(w[i] - cell.length())).append(cell);
                } else {
                    line.append(cell).append(" ".repeat(w[i] - cell.length()));
                }
                line.append(i == r.length - 1 ? "" : "  ");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        sb.append(manifest.fields().size()).append(" fields, ").append(totalBytes()).append(" bytes\n");
        return sb.toString();
    }

    private static String nz(String s) {
        return s == null ? "-" : Visible.of(s);
    }

    static String ageText(Duration d) {
        long s = Math.max(0, d.getSeconds());
        if (s < 120) {
            return s + "s";
        }
        if (s < 7200) {
            return (s / 60) + "m";
        }
        if (s < 172800) {
            return (s / 3600) + "h" + ((s % 3600) / 60) + "m";
        }
        return (s / 86400) + "d";
    }
}
