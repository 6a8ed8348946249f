package dev.pauser.sample;

import java.util.Locale;

/** The command-line options of the sample app, with their defaults and checks. */
record Options(long steps, int batch, int hidden, int layers, int classes, int features, long seed, float lr,
               long stepDelayMillis, long logEvery, String device, int trainRows, int testRows) {

    static final String USAGE = String.join("\n",
            "usage: java -jar sample-app.jar [options]",
            "  --steps N          training steps in all (default 3000); a restored run continues up to N",
            "  --batch N          rows per mini-batch (default 64)",
            "  --hidden N         units per hidden layer (default 128)",
            "  --layers N         hidden layers (default 2; 0 = softmax regression)",
            "  --classes N        classes (default 8)",
            "  --features N       input dimensions (default 16)",
            "  --seed N           seed of the data, the initial weights and the shuffling (default 42)",
            "  --lr X             Adam learning rate (default 0.001)",
            "  --step-delay-ms N  sleep this long inside each step, to slow a demo down (default 0)",
            "  --log-every N      a progress line every N steps, 0 for none (default 250)",
            "  --device D         cpu (ONNX Runtime, default) or cuda (CUDA kernels on an NVIDIA GPU, through JCuda)",
            "  --train-rows N     training rows (default 16384)",
            "  --test-rows N      test rows (default 4096)",
            "  --help             this text");

    static Options defaults() {
        return new Options(3000, 64, 128, 2, 8, 16, 42, 0.001f, 0, 250, "cpu", 16384, 4096);
    }

    /** A bad command line; its message is the one-line error. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Thrown for {@code --help}. */
    static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;
    }

    static Options parse(String... args) throws UsageException, HelpRequested {
        Options o = defaults();
        long steps = o.steps;
        int batch = o.batch;
        int hidden = o.hidden;
        int layers = o.layers;
        int classes = o.classes;
        int features = o.features;
        long seed = o.seed;
        float lr = o.lr;
        long delay = o.stepDelayMillis;
        long logEvery = o.logEvery;
        String device = o.device;
        int trainRows = o.trainRows;
        int testRows = o.testRows;
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            String value = null;
            int eq = name.indexOf('=');
            if (name.startsWith("--") && eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (name.equals("--help") || name.equals("-h")) {
                throw new HelpRequested();
            }
            if (!isOption(name)) {
                throw new UsageException("unknown option '" + args[i] + "'");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException("option " + name + " needs a value");
                }
                value = args[++i];
            }
            switch (name) {
                case "--steps" -> steps = whole(name, value, 0, Long.MAX_VALUE);
                case "--batch" -> batch = (int) whole(name, value, 1, Integer.MAX_VALUE);
                case "--hidden" -> hidden = (int) whole(name, value, 1, Integer.MAX_VALUE);
                case "--layers" -> layers = (int) whole(name, value, 0, 1000);
                case "--classes" -> classes = (int) whole(name, value, 2, Integer.MAX_VALUE);
                case "--features" -> features = (int) whole(name, value, 1, Integer.MAX_VALUE);
                case "--seed" -> seed = whole(name, value, Long.MIN_VALUE, Long.MAX_VALUE);
                case "--lr" -> lr = positiveFloat(name, value);
                case "--step-delay-ms" -> delay = whole(name, value, 0, Long.MAX_VALUE);
                case "--log-every" -> logEvery = whole(name, value, 0, Long.MAX_VALUE);
                case "--device" -> {
                    if (!value.equals("cpu") && !value.equals("cuda")) {
                        throw new UsageException("bad value '" + value + "' for --device: expected cpu or cuda");
                    }
                    device = value;
                }
                case "--train-rows" -> trainRows = (int) whole(name, value, 1, Integer.MAX_VALUE);
                case "--test-rows" -> testRows = (int) whole(name, value, 1, Integer.MAX_VALUE);
                default -> throw new AssertionError(name);
            }
        }
        if (batch > trainRows) {
            throw new UsageException("--batch " + batch + " is larger than --train-rows " + trainRows);
        }
        if ((long) trainRows * features > Integer.MAX_VALUE || (long) testRows * features > Integer.MAX_VALUE) {
            throw new UsageException("--train-rows/--test-rows times --features must stay below 2^31");
        }
        Options result = new Options(steps, batch, hidden, layers, classes, features, seed, lr, delay, logEvery,
                device, trainRows, testRows);
        try {
            new MlpGraphs.Layout(features, hidden, layers, classes);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return result;
    }

    private static boolean isOption(String name) {
        return switch (name) {
            case "--steps", "--batch", "--hidden", "--layers", "--classes", "--features", "--seed", "--lr",
                 "--step-delay-ms", "--log-every", "--device", "--train-rows", "--test-rows" -> true;
            default -> false;
        };
    }

    private static long whole(String name, String value, long min, long max) throws UsageException {
        long v;
        try {
            v = Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new UsageException("bad value '" + value + "' for " + name + ": expected a whole number");
        }
        if (v < min || v > max) {
            throw new UsageException("bad value '" + value + "' for " + name + ": expected "
                    + (max == Long.MAX_VALUE || max == Integer.MAX_VALUE ? min + " or more" : min + " to " + max));
        }
        return v;
    }

    private static float positiveFloat(String name, String value) throws UsageException {
        float v;
        try {
            v = Float.parseFloat(value);
        } catch (NumberFormatException e) {
            v = Float.NaN;
        }
        if (!(v > 0) || Float.isInfinite(v)) {
            throw new UsageException("bad value '" + value + "' for " + name + ": expected a positive number");
        }
        return v;
    }

    /** The options as a command line, for the start-up line. */
    String describe() {
        return String.format(Locale.ROOT, "steps=%d batch=%d hidden=%d layers=%d classes=%d features=%d seed=%d lr=%s"
                        + " train-rows=%d test-rows=%d device=%s",
                steps, batch, hidden, layers, classes, features, seed, Float.toString(lr), trainRows, testRows, device);
    }
}
