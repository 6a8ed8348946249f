package dev.pauser.agent.checkpoint;

/**
 * The classes the first checkpoint would otherwise load while the steps are held (capture) and before it is durable
 * (write): loaded and initialized ahead, in the background, by the checkpoint preparation on "pauser-writer". The list
 * is what the first checkpoint of a trainer with tensor and JSON fields loads (seen with {@code -Xlog:class+load}); a
 * name missing here is only loaded later, at the checkpoint, as without preparation. The JFR event class is the
 * costly one: loading it registers the event with JFR (hundreds of milliseconds on two busy cores).
 */
final class CheckpointPreparation {
    private static final String[] CLASSES = {
        "dev.pauser.agent.checkpoint.CheckpointEvents",
        "dev.pauser.agent.checkpoint.CheckpointEvents$CheckpointEvent",
        "dev.pauser.agent.checkpoint.CheckpointCapture$Snapshot",
        "dev.pauser.agent.checkpoint.CheckpointResult",
        "dev.pauser.agent.checkpoint.CheckpointWriter$ProgressLine",
        "dev.pauser.agent.device.DeviceStaging$Report",
        "dev.pauser.agent.store.TensorEntry",
        "dev.pauser.agent.store.JsonEntry",
        "dev.pauser.agent.store.HostName",
        "dev.pauser.agent.store.CheckpointLayout",
        "dev.pauser.agent.store.Safetensors",
        "dev.pauser.agent.store.Manifest",
        "dev.pauser.agent.store.Manifest$Field",
        "dev.pauser.agent.store.Manifest$Kind",
        "dev.pauser.agent.store.Crc32c",
        "dev.pauser.agent.store.Reading",
        "dev.pauser.agent.store.Retention",
        "dev.pauser.agent.store.Retention$Candidate",
        "dev.pauser.agent.store.CheckpointStore$CommitResult",
        "dev.pauser.agent.store.CheckpointCommit",
        "java.util.zip.CRC32C",
        "java.time.LocalDateTime",
        "java.nio.file.StandardCopyOption",
        "java.nio.file.SimpleFileVisitor",
        "java.nio.file.FileTreeWalker",
        "java.time.format.DateTimePrintContext",
        "sun.nio.fs.LinuxFileStore",
        "sun.security.provider.SecureRandom",
    };

    private CheckpointPreparation() {
    }

    /**
     * Loads and initializes {@link #CLASSES}, and runs the capture's copy and JSON paths once on throwaway values; one
     * that can't be loaded is left to the checkpoint.
     */
    static void loadCaptureAndWriteClasses() {
        dev.pauser.agent.state.StateCapture.warmUp();
        ClassLoader loader = CheckpointPreparation.class.getClassLoader();
        for (String name : CLASSES) {
            try {
                Class.forName(name, true, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                // not in this runtime (JFR absent): the checkpoint does without it
            }
        }
        CheckpointEvents.loaded();
    }
}
