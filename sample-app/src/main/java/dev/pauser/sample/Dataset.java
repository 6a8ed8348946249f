package dev.pauser.sample;

import java.util.Random;

/**
 * The data, generated from the seed and never downloaded: Gaussian clusters in {@code features} dimensions, several
 * clusters per class at random places, so the classes are not linearly separable and a hidden layer helps. The
 * training and test sets are drawn from the same clusters. The data is a pure function of its arguments and is never
 * mutated, so it is not training state.
 */
final class Dataset {
    static final int CLUSTERS_PER_CLASS = 4;
    /** Spread of the cluster centres and of the points around them; tuned so defaults land around 95–98%. */
    static final double CENTER_SPREAD = 1.4;
    static final double POINT_SPREAD = 1.0;

    final int features;
    final int classes;
    final float[] trainX;
    final long[] trainY;
    final float[] testX;
    final long[] testY;

    Dataset(long seed, int features, int classes, int trainRows, int testRows) {
        this.features = features;
        this.classes = classes;
        Random r = new Random(seed ^ 0x0DA7A5E7L);
        double[][] centers = new double[classes * CLUSTERS_PER_CLASS][features];
        for (double[] c : centers) {
            for (int i = 0; i < features; i++) {
                c[i] = CENTER_SPREAD * r.nextGaussian();
            }
        }
        trainX = new float[trainRows * features];
        trainY = new long[trainRows];
        testX = new float[testRows * features];
        testY = new long[testRows];
        fill(r, centers, trainX, trainY);
        fill(r, centers, testX, testY);
    }

    int trainRows() {
        return trainY.length;
    }

    int testRows() {
        return testY.length;
    }

    private void fill(Random r, double[][] centers, float[] x, long[] y) {
        for (int row = 0; row < y.length; row++) {
            int label = r.nextInt(classes);
            double[] c = centers[label * CLUSTERS_PER_CLASS + r.nextInt(CLUSTERS_PER_CLASS)];
            y[row] = label;
            for (int i = 0; i < features; i++) {
                x[row * features + i] = (float) (c[i] + POINT_SPREAD * r.nextGaussian());
            }
        }
    }
}
