package dev.pauser.agent.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Picks the checkpoint to resume from: the newest (highest step) that verifies completely. Every newer one that does not
 * is reported with the reason, for the caller to log loudly. Reached through {@link CheckpointStore#loadNewestValid} and
 * {@link CheckpointStore#newestValid}, so a run chooses its checkpoint only while it holds the directory's lock; on the
 * thread that asks the store.
 */
public final class Resume {
    private Resume() {
    }

    /**
     * A checkpoint passed over, and why (one line naming the directory and, where known, the field); {@code tooLarge}
     * when it is valid but does not fit in memory.
     */
    public record Skipped(Path dir, String reason, boolean tooLarge) {
        public Skipped(Path dir, String reason) {
            this(dir, reason, false);
        }
    }

    public record Scan(Optional<Path> chosen, List<Skipped> skipped) {
    }

    /**
     * The checkpoint loaded, if any, the newer ones passed over, and the newest one passed over only because it does not
     * fit in memory (then the caller must not start afresh without saying so: that checkpoint is good).
     */
    public record Loaded(Optional<LoadedCheckpoint> checkpoint, List<Skipped> skipped,
            Optional<CheckpointTooLargeException> tooLarge) {
        public Loaded(Optional<LoadedCheckpoint> checkpoint, List<Skipped> skipped) {
            this(checkpoint, skipped, Optional.empty());
        }
    }

    /** Verifies candidates newest first with bounded memory ({@link CheckpointReader#verify}); loads nothing. */
    static Scan newestValid(Path root) throws IOException {
        List<Skipped> skipped = new ArrayList<>();
        for (Path dir : CheckpointStore.list(root)) {
            VerifyReport r = CheckpointReader.verify(dir);
            if (r.ok()) {
                return new Scan(Optional.of(dir), List.copyOf(skipped));
            }
            skipped.add(new Skipped(dir, String.join("; ", r.problems())));
        }
        return new Scan(Optional.empty(), List.copyOf(skipped));
    }

    /**
     * Loads candidates newest first; the first that loads (and so verifies) is returned. One read per checkpoint. A
     * checkpoint another user could have written ({@link DirectoryTrust#checkpointProblem}) is skipped unread. One too
     * large for the memory left is passed over for an older one that fits (its size is checked before anything is
     * allocated, so trying costs nothing).
     */
    static Loaded loadNewestValid(Path root) throws IOException {
        List<Skipped> skipped = new ArrayList<>();
        CheckpointTooLargeException tooLarge = null;
        for (Path dir : CheckpointStore.list(root)) {
            String untrusted = DirectoryTrust.checkpointProblem(dir);
            if (untrusted != null) {
                skipped.add(new Skipped(dir, untrusted));
                continue;
            }
            try {
                return new Loaded(Optional.of(CheckpointReader.load(dir)), List.copyOf(skipped),
                        Optional.ofNullable(tooLarge));
            } catch (CheckpointTooLargeException e) {
                if (tooLarge == null) {
                    tooLarge = e;
                }
                skipped.add(new Skipped(dir, e.getMessage(), true));
            } catch (CheckpointException e) {
                skipped.add(new Skipped(dir, e.getMessage()));
            }
        }
        return new Loaded(Optional.empty(), List.copyOf(skipped), Optional.ofNullable(tooLarge));
    }
}
