package dev.pauser.agent.store;

import java.nio.file.Path;
import java.util.List;

/**
 * The result of {@link CheckpointReader#verify}: one {@link FieldResult} per field whose bytes could be checked, and
 * {@code problems}, one line each, for everything wrong (structure or CRC). {@code step} is -1 when the manifest could not
 * be read.
 */
public record VerifyReport(Path dir, long step, List<FieldResult> fields, List<String> problems) {

    /** One field's check. {@code problem} is null when it is fine. */
    public record FieldResult(String key, String file, long bytes, int storedCrc32c, int computedCrc32c, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /**
     * For the {@code verify} command: one line per field and a closing verdict. Text from the manifest is shown through
     * {@link Visible}, so a key can't forge a line.
     */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("checkpoint ").append(Visible.of(dir.toString()));
        if (step >= 0) {
            sb.append(" (step ").append(step).append(')');
        }
        sb.append('\n');
        for (FieldResult f : fields) {
            sb.append(f.ok() ? "  ok    " : "  FAIL  ").append(Visible.of(f.key())).append("  ").append(f.bytes()).append(" bytes  crc32c ")
                    .append(Manifest.crcHex(f.storedCrc32c()));
            if (!f.ok()) {
                sb.append("  ").append(Visible.of(f.problem()));
            }
            sb.append('\n');
        }
        for (String p : problems) {
            sb.append("  error: ").append(Visible.of(p)).append('\n');
        }
        sb.append(ok() ? "OK: every CRC32C matches (" + fields.size() + " fields)" : "CORRUPT: " + problems.size()
                + " problem(s)").append('\n');
        return sb.toString();
    }
}
