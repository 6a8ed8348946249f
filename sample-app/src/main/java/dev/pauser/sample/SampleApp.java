package dev.pauser.sample;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The sample app's command ({@code java -jar sample-app.jar}, entered through {@link SampleTrainer#main}): parses the
 * options, opens the trainer of {@code --device}, runs the training loop, and prints the progress and result lines.
 * Everything runs on the thread that called {@link #main} (the main thread).
 */
final class SampleApp {
    private SampleApp() {
    }

    /**
     * Exit status: 0 done, 2 bad options (one line on standard error, then the usage), or {@code --device cuda} without
     * a usable NVIDIA GPU or with too little GPU memory for the options (one line on standard error).
     */
    static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (Options.HelpRequested e) {
            System.out.println(Options.USAGE);
            return;
        } catch (Options.UsageException e) {
            System.err.println("sample-app: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        try {
            run(options, System.out);
        } catch (CudaTrainer.CudaUnavailable e) {
            System.err.println("sample-app: --device cuda needs an NVIDIA GPU and its driver: " + e.getMessage());
            System.exit(2);
        } catch (CudaTrainer.OutOfDeviceMemory e) {
            System.err.println("sample-app: " + e.getMessage());
            System.exit(2);
        }
    }

    /**
     * Trains until {@code step} reaches {@code --steps} on the device of {@code --device}, then prints the two result
     * lines. The loop reads the state, so a run whose state was restored at step k goes on from k, and one restored at
     * the end trains nothing.
     *
     * @throws CudaTrainer.CudaUnavailable for {@code --device cuda} where no NVIDIA GPU and driver can be used
     * @throws CudaTrainer.OutOfDeviceMemory for {@code --device cuda} where the GPU's free memory is too small
     */
    static void run(Options options, PrintStream out) throws Exception {
        try (Trainer trainer = options.device().equals("cuda")
                ? CudaTrainer.open(options)
                : new SampleTrainer(options)) {
            out.println("sample-app: " + options.describe() + " parameters=" + trainer.parameterCount());
            long logEvery = options.logEvery();
            long sinceRun = 0;
            long sinceNanos = System.nanoTime();
            while (trainer.step() < options.steps()) {
                long runBefore = trainer.stepsRunHere();
                trainer.trainStep();
                boolean trained = trainer.stepsRunHere() > runBefore; // not when a restore found the run complete
                if (trained && logEvery > 0 && (trainer.step() % logEvery == 0 || trainer.step() == options.steps())) {
                    long now = System.nanoTime();
                    double rate = (trainer.stepsRunHere() - sinceRun) / Math.max(1e-9, (now - sinceNanos) / 1e9);
                    out.printf(Locale.ROOT, "step %d/%d epoch %d loss %.6f test-accuracy %.4f steps/s %.1f%n",
                            trainer.step(), options.steps(), trainer.epoch(), trainer.lastLoss(),
                            trainer.testAccuracy(), rate);
                    sinceRun = trainer.stepsRunHere();
                    sinceNanos = System.nanoTime();
                }
            }
            out.printf(Locale.ROOT, "accuracy=%.6f%n", trainer.testAccuracy());
            out.println("final-weights-sha256=" + trainer.weightsSha256());
        }
    }
}
