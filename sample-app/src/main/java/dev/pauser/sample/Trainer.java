package dev.pauser.sample;

/**
 * What the training loop of {@link SampleApp#run} needs of a trainer, whichever device computes: {@link
 * SampleTrainer} (ONNX Runtime on the CPU) or {@link CudaTrainer} (CUDA kernels on an NVIDIA GPU). Every method runs on
 * the thread that runs the loop (the main thread).
 */
interface Trainer extends AutoCloseable {

    /** Completed training steps (part of the training state). */
    long step();

    /** Completed passes over the training set (part of the training state). */
    long epoch();

    /** Steps run in this JVM (a restored run starts again at 0): for progress lines only. */
    long stepsRunHere();

    /** Parameters of the network. */
    int parameterCount();

    /** One training step; nothing once {@link #step} has reached {@code --steps}. */
    void trainStep() throws Exception;

    /** The loss of the last step run in this JVM (NaN before the first): for progress lines only. */
    double lastLoss();

    /** The fraction of test rows classified correctly by the current parameters. Changes nothing. */
    double testAccuracy() throws Exception;

    /**
     * SHA-256 over all parameters as float32 little-endian, layer by layer (input side first), each layer's weights
     * row-major {@code [in][out]}, then its bias.
     */
    String weightsSha256() throws Exception;
}
