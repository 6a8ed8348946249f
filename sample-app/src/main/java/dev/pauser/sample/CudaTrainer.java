package dev.pauser.sample;

import dev.pauser.TrainState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * The sample MLP ({@link MlpTrainer}) trained by CUDA kernels on an NVIDIA GPU ({@code --device cuda}), launched
 * through {@link CudaKernels}.
 *
 * <p>The same network, data, initial weights, batches and Adam as {@link SampleTrainer}; the parameters and the Adam
 * moments live in GPU memory, in three {@code @TrainState CUdeviceptr} fields with the flat layout of the CPU mode
 * ({@link MlpGraphs.Layout}), beside the host-side {@code @TrainState} fields of {@link MlpTrainer}. Every kernel
 * computes each output in one thread, in a fixed order (no atomics), and the launch configuration depends on the
 * options only, so a run restored from a snapshot of the state fields taken between two steps goes on exactly as the
 * uninterrupted run would have on the same GPU.
 *
 * <p>The device pointers are read from their fields at every launch and copy, never cached: an agent that moves the
 * state's memory (giving it back during a pause and mapping new memory on resume) updates the pointer objects, and
 * the next step uses the new addresses.
 *
 * <p>Threads: everything runs on the thread that called {@link #open}, which holds the device's primary context.
 */
public final class CudaTrainer extends MlpTrainer {
    /** Test rows evaluated per launch, to bound the evaluation's scratch memory on large networks. */
    private static final int EVAL_CHUNK_ROWS = 1024;

    // ---- training state of the CUDA mode, with MlpTrainer's: only trainStep() changes it ----

    /** All parameters (float32), in the layout of {@link SampleTrainer#params}. */
    @TrainState
    CUdeviceptr params;
    /** Adam's first moments (float32), same layout. */
    @TrainState
    CUdeviceptr adamM;
    /** Adam's second moments (float32), same layout. */
    @TrainState
    CUdeviceptr adamV;

    // ---- configuration and things derived from it: the same in every run with the same options ----

    private final CudaKernels kernels;
    /** Every allocation of this trainer but the state's, freed by {@link #close}. */
    private final List<CUdeviceptr> scratch = new ArrayList<>();
    private final CUdeviceptr trainX;
    private final CUdeviceptr trainY;
    private final CUdeviceptr testX;
    private final CUdeviceptr testY;
    private final int testRows;

    // ---- scratch and display: never read across steps by the math ----

    /** The batch's row numbers, its inputs and labels. */
    private final CUdeviceptr batchRows;
    private final CUdeviceptr batchX;
    private final CUdeviceptr batchY;
    /** Per linear layer: its pre-activations {@code [batch][out]}, and for hidden layers the ReLU of them. */
    private final CUdeviceptr[] z;
    private final CUdeviceptr[] relu;
    /** Gradients with respect to a layer's pre-activations, ping-ponged between layers. */
    private final CUdeviceptr dzA;
    private final CUdeviceptr dzB;
    private final CUdeviceptr rowLoss;
    private final CUdeviceptr loss;
    /** The step's gradients, in the layout of {@link #params}. */
    private final CUdeviceptr grad;
    /** Evaluation: activations of a chunk of test rows (ping-pong) and whether each row is classified right. */
    private final CUdeviceptr evalA;
    private final CUdeviceptr evalB;
    private final CUdeviceptr evalCorrect;
    private final int[] hostRows;

    /** {@code --device cuda} cannot run here: the message is the reason, one line. */
    static final class CudaUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        CudaUnavailable(String reason) {
            super(reason);
        }
    }

    /** The network, its Adam moments and the data don't fit in the GPU's memory: the message says so, one line. */
    static final class OutOfDeviceMemory extends Exception {
        private static final long serialVersionUID = 1L;

        OutOfDeviceMemory(String message) {
            super(message);
        }
    }

    /**
     * A trainer on CUDA device 0 (choose another with {@code CUDA_VISIBLE_DEVICES}) at step 0, its kernels loaded and
     * its data on the device.
     *
     * @throws CudaUnavailable where the driver (libcuda.so.1) or a device is missing, or the driver cannot load the
     *     kernels
     * @throws OutOfDeviceMemory where the device memory the options need is more than the GPU has free
     */
    static CudaTrainer open(Options options) throws CudaUnavailable, OutOfDeviceMemory {
        CudaKernels kernels = CudaKernels.load();
        try {
            return new CudaTrainer(options, kernels);
        } catch (CudaException e) {
            if (!"CUDA_ERROR_OUT_OF_MEMORY".equals(e.getMessage())) {
                throw e;
            }
            throw new OutOfDeviceMemory("the network, its Adam moments and the data need more GPU memory than device 0"
                    + " has free (CUDA_ERROR_OUT_OF_MEMORY): use a smaller --hidden, --layers, --batch, --train-rows"
                    + " or --test-rows");
        }
    }

    private CudaTrainer(Options options, CudaKernels kernels) {
        super(options);
        this.kernels = kernels;
        Dataset data = new Dataset(options.seed(), options.features(), options.classes(), options.trainRows(),
                options.testRows());
        int batch = options.batch();
        int n = layout.linearLayers();
        int widest = options.classes();
        for (int l = 0; l < n; l++) {
            widest = Math.max(widest, (int) layout.weight(l).shape()[1]);
        }
        this.testRows = data.testRows();
        int evalRows = Math.min(testRows, EVAL_CHUNK_ROWS);

        this.trainX = upload(data.trainX);
        this.trainY = upload(labels(data.trainY));
        this.testX = upload(data.testX);
        this.testY = upload(labels(data.testY));
        this.batchRows = allocate((long) batch * Integer.BYTES);
        this.batchX = allocate((long) batch * options.features() * Float.BYTES);
        this.batchY = allocate((long) batch * Integer.BYTES);
        this.z = new CUdeviceptr[n];
        this.relu = new CUdeviceptr[n];
        for (int l = 0; l < n; l++) {
            long bytes = (long) batch * layout.weight(l).shape()[1] * Float.BYTES;
            z[l] = allocate(bytes);
            relu[l] = l + 1 < n ? allocate(bytes) : null;
        }
        this.dzA = allocate((long) batch * widest * Float.BYTES);
        this.dzB = allocate((long) batch * widest * Float.BYTES);
        this.rowLoss = allocate((long) batch * Float.BYTES);
        this.loss = allocate(Float.BYTES);
        this.grad = allocate((long) layout.totalSize * Float.BYTES);
        this.evalA = allocate((long) evalRows * widest * Float.BYTES);
        this.evalB = allocate((long) evalRows * widest * Float.BYTES);
        this.evalCorrect = allocate((long) evalRows * Integer.BYTES);
        this.hostRows = new int[batch];

        // The parameters and moments at step 0: the same initial weights and moments as the CPU mode.
        long stateBytes = (long) layout.totalSize * Float.BYTES;
        this.params = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(params, stateBytes);
        JCudaDriver.cuMemcpyHtoD(params, Pointer.to(initialParameters(layout, options.seed())), stateBytes);
        this.adamM = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(adamM, stateBytes);
        JCudaDriver.cuMemsetD8(adamM, (byte) 0, stateBytes);
        this.adamV = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(adamV, stateBytes);
        JCudaDriver.cuMemsetD8(adamV, (byte) 0, stateBytes);
    }

    /**
     * Trains on the batch as {@link SampleTrainer} does, but on the GPU: runs forward, softmax cross-entropy, backward
     * and Adam as kernels on the default stream, and waits for them by reading the loss back.
     */
    @Override
    float trainBatch(int first, long adamStep) {
        int batch = options.batch();
        int features = options.features();
        System.arraycopy(order, first, hostRows, 0, batch);
        System.arraycopy(order, cursor, hostRows, 0, batch);
        JCudaDriver.cuMemcpyHtoD(batchRows, Pointer.to(hostRows), (long) batch * Integer.BYTES);
        kernels.launch(kernels.gatherBatch, (long) batch * features,
                trainX, trainY, batchRows, batchX, batchY, batch, features);

        // Forward: a[0] = x; z[l] = a[l] W[l] + b[l]; a[l+1] = relu(z[l]); logits = z[n-1].
        int n = layout.linearLayers();
        CUdeviceptr a = batchX;
        for (int l = 0; l < n; l++) {
            long[] shape = layout.weight(l).shape();
            kernels.launch(kernels.linearForward, batch * shape[1], a, parameter(layout.weight(l)),
                    parameter(layout.bias(l)), z[l], relu[l], batch, (int) shape[0], (int) shape[1]);
            a = relu[l];
        }
        kernels.launch(kernels.softmaxXent, batch, z[n - 1], batchY, dzA, rowLoss, batch, options.classes(),
                1f / batch);
        kernels.launch(kernels.meanLoss, 1, rowLoss, loss, batch);

        // Backward, from the output layer down; dz is d loss / d z[l].
        CUdeviceptr dz = dzA;
        CUdeviceptr dzBelow = dzB;
        for (int l = n - 1; l >= 0; l--) {
            long[] shape = layout.weight(l).shape();
            int in = (int) shape[0];
            int out = (int) shape[1];
            CUdeviceptr input = l == 0 ? batchX : relu[l - 1];
            kernels.launch(kernels.weightGrad, (long) in * out, input, dz, gradient(layout.weight(l)), batch, in, out);
            kernels.launch(kernels.biasGrad, out, dz, gradient(layout.bias(l)), batch, out);
            if (l > 0) {
                kernels.launch(kernels.inputGrad, (long) batch * in, dz, parameter(layout.weight(l)), z[l - 1],
                        dzBelow, batch, in, out);
                CUdeviceptr t = dz;
                dz = dzBelow;
                dzBelow = t;
            }
        }

        // Adam, with the CPU mode's float arithmetic for alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t).
        float t = (float) adamStep;
        float bc1 = 1f - (float) Math.pow(MlpGraphs.BETA1, t);
        float bc2 = 1f - (float) Math.pow(MlpGraphs.BETA2, t);
        float alpha = options.lr() * (float) Math.sqrt(bc2) / bc1;
        kernels.launch(kernels.adam, layout.totalSize, params, adamM, adamV, grad, (long) layout.totalSize, alpha,
                MlpGraphs.BETA1, 1f - MlpGraphs.BETA1, MlpGraphs.BETA2, 1f - MlpGraphs.BETA2, MlpGraphs.EPSILON);

        float[] hostLoss = new float[1];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(hostLoss), loss, Float.BYTES); // waits for the step's kernels
        return hostLoss[0];
    }

    /** The test rows classified correctly by the current parameters, on the GPU. Reads the state, changes nothing. */
    @Override
    public double testAccuracy() {
        int n = layout.linearLayers();
        int features = options.features();
        int classes = options.classes();
        long correct = 0;
        int[] flags = new int[Math.min(testRows, EVAL_CHUNK_ROWS)];
        for (int first = 0; first < testRows; first += EVAL_CHUNK_ROWS) {
            int rows = Math.min(EVAL_CHUNK_ROWS, testRows - first);
            CUdeviceptr a = testX.withByteOffset((long) first * features * Float.BYTES);
            for (int l = 0; l < n; l++) {
                long[] shape = layout.weight(l).shape();
                CUdeviceptr out = l % 2 == 0 ? evalA : evalB;
                kernels.launch(kernels.linearForward, rows * shape[1], a, parameter(layout.weight(l)),
                        parameter(layout.bias(l)), out, l + 1 < n ? out : null, rows, (int) shape[0],
                        (int) shape[1]);
                a = out;
            }
            kernels.launch(kernels.countCorrect, rows, a, testY.withByteOffset((long) first * Integer.BYTES),
                    evalCorrect, rows, classes);
            JCudaDriver.cuMemcpyDtoH(Pointer.to(flags), evalCorrect, (long) rows * Integer.BYTES);
            for (int r = 0; r < rows; r++) {
                correct += flags[r];
            }
        }
        return (double) correct / testRows;
    }

    /** The parameters, copied from the device. */
    @Override
    float[] parametersOnHost() {
        float[] p = new float[layout.totalSize];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(p), params, (long) p.length * Float.BYTES);
        return p;
    }

    /** Frees this trainer's device memory and kernels, and releases the primary context it retained. */
    @Override
    public void close() {
        for (CUdeviceptr p : new CUdeviceptr[] {params, adamM, adamV}) {
            if (p != null) {
                JCudaDriver.cuMemFree(p);
            }
        }
        for (CUdeviceptr p : scratch) {
            JCudaDriver.cuMemFree(p);
        }
        kernels.close();
    }

    /** Where tensor {@code t} starts in {@link #params}, from the field's pointer as it is now. */
    private CUdeviceptr parameter(MlpGraphs.Tensor t) {
        return params.withByteOffset((long) t.offset() * Float.BYTES);
    }

    /** Where tensor {@code t}'s gradient starts in {@link #grad}. */
    private CUdeviceptr gradient(MlpGraphs.Tensor t) {
        return grad.withByteOffset((long) t.offset() * Float.BYTES);
    }

    private CUdeviceptr allocate(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(p, bytes);
        scratch.add(p);
        return p;
    }

    private CUdeviceptr upload(float[] host) {
        CUdeviceptr p = allocate((long) host.length * Float.BYTES);
        JCudaDriver.cuMemcpyHtoD(p, Pointer.to(host), (long) host.length * Float.BYTES);
        return p;
    }

    private CUdeviceptr upload(int[] host) {
        CUdeviceptr p = allocate((long) host.length * Integer.BYTES);
        JCudaDriver.cuMemcpyHtoD(p, Pointer.to(host), (long) host.length * Integer.BYTES);
        return p;
    }

    /** The labels as the kernels read them: int32 (a class number is below 2^31). */
    private static int[] labels(long[] y) {
        return Arrays.stream(y).mapToInt(Math::toIntExact).toArray();
    }
}
