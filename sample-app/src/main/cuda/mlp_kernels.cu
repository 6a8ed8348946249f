// The CUDA kernels of the sample app's --device cuda mode: one training step of the MLP (forward, softmax
// cross-entropy, backward, Adam) and the test-set evaluation. CudaTrainer loads them from the PTX that make-ptx.sh
// generates from this file (src/main/resources/dev/pauser/sample/mlp_kernels.ptx) with the driver API.
//
// Determinism: every kernel computes each output element in one thread, summing in a fixed order; there are no
// atomics, no shared-memory reductions and no dependence on the launch configuration. So the same inputs give the same
// bits on every run on the same GPU and driver, whatever the scheduling.
//
// Layout (the same as the CPU mode): row-major matrices; a layer's weights W are [in][out], its bias [out];
// activations are [rows][width].

extern "C" {

// xb[b][f] = X[rows[b]][f], yb[b] = Y[rows[b]]: one thread per element of xb.
__global__ void gather_batch(const float* X, const int* Y, const int* rows, float* xb, int* yb, int batch,
                             int features) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= batch * features) {
        return;
    }
    int b = idx / features;
    int f = idx - b * features;
    int row = rows[b];
    xb[idx] = X[(long long) row * features + f];
    if (f == 0) {
        yb[b] = Y[row];
    }
}

// z = a W + bias; where relu_out is not null, relu_out = max(z, 0) too (it may be z itself: the same thread writes
// both, z first). One thread per element of z [rows][out].
__global__ void linear_forward(const float* a, const float* W, const float* bias, float* z, float* relu_out,
                               int rows, int in, int out) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= rows * out) {
        return;
    }
    int r = idx / out;
    int o = idx - r * out;
    const float* ar = a + (long long) r * in;
    float s = bias[o];
    for (int i = 0; i < in; i++) {
        s += ar[i] * W[(long long) i * out + o];
    }
    z[idx] = s;
    if (relu_out != 0) {
        relu_out[idx] = s > 0.0f ? s : 0.0f;
    }
}

// Softmax cross-entropy of each row of logits [batch][classes] against its label: row_loss[b] = -log softmax[b][y],
// and the gradient of the batch's mean loss, dz[b][k] = (softmax[b][k] - onehot[b][k]) * inv_batch. One thread per row.
__global__ void softmax_xent(const float* logits, const int* y, float* dz, float* row_loss, int batch, int classes,
                             float inv_batch) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) {
        return;
    }
    const float* l = logits + (long long) b * classes;
    float* d = dz + (long long) b * classes;
    float max = l[0];
    for (int k = 1; k < classes; k++) {
        max = fmaxf(max, l[k]);
    }
    float sum = 0.0f;
    for (int k = 0; k < classes; k++) {
        sum += expf(l[k] - max);
    }
    int label = y[b];
    row_loss[b] = logf(sum) - (l[label] - max);
    for (int k = 0; k < classes; k++) {
        float p = expf(l[k] - max) / sum;
        d[k] = (p - (k == label ? 1.0f : 0.0f)) * inv_batch;
    }
}

// loss[0] = the mean of row_loss[0..batch), summed in row order by a single thread (launched as one thread).
__global__ void mean_loss(const float* row_loss, float* loss, int batch) {
    if (blockIdx.x != 0 || threadIdx.x != 0) {
        return;
    }
    float s = 0.0f;
    for (int b = 0; b < batch; b++) {
        s += row_loss[b];
    }
    loss[0] = s / batch;
}

// dW = a^T dz: dW[i][o] = sum over b of a[b][i] dz[b][o]. One thread per element of dW [in][out].
__global__ void weight_grad(const float* a, const float* dz, float* dW, int batch, int in, int out) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= in * out) {
        return;
    }
    int i = idx / out;
    int o = idx - i * out;
    float s = 0.0f;
    for (int b = 0; b < batch; b++) {
        s += a[(long long) b * in + i] * dz[(long long) b * out + o];
    }
    dW[idx] = s;
}

// db[o] = sum over b of dz[b][o]. One thread per output unit.
__global__ void bias_grad(const float* dz, float* db, int batch, int out) {
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= out) {
        return;
    }
    float s = 0.0f;
    for (int b = 0; b < batch; b++) {
        s += dz[(long long) b * out + o];
    }
    db[o] = s;
}

// The gradient through a layer and the ReLU below it: dz_prev[b][i] = (dz W^T)[b][i] where z_prev[b][i] > 0, else 0.
// One thread per element of dz_prev [batch][in], neighbouring threads on neighbouring rows b of the same i: a warp
// then reads each W[i][o] once for all its threads, and dz (one batch of rows) stays in cache.
__global__ void input_grad(const float* dz, const float* W, const float* z_prev, float* dz_prev, int batch, int in,
                           int out) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= batch * in) {
        return;
    }
    int i = idx / batch;
    int b = idx - i * batch;
    const float* d = dz + (long long) b * out;
    const float* w = W + (long long) i * out;
    float s = 0.0f;
    for (int o = 0; o < out; o++) {
        s += d[o] * w[o];
    }
    long long at = (long long) b * in + i;
    dz_prev[at] = z_prev[at] > 0.0f ? s : 0.0f;
}

// Adam on n parameters, with the step's alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) computed by the caller:
// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2; p = p - alpha m / (sqrt(v) + epsilon).
// One thread per parameter.
__global__ void adam(float* p, float* m, float* v, const float* g, long long n, float alpha, float beta1,
                     float one_minus_beta1, float beta2, float one_minus_beta2, float epsilon) {
    long long idx = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) {
        return;
    }
    float gi = g[idx];
    float mi = beta1 * m[idx] + one_minus_beta1 * gi;
    float vi = beta2 * v[idx] + one_minus_beta2 * (gi * gi);
    m[idx] = mi;
    v[idx] = vi;
    p[idx] = p[idx] - alpha * mi / (sqrtf(vi) + epsilon);
}

// correct[r] = 1 where the first largest logit of row r is at its label, else 0. One thread per row.
__global__ void count_correct(const float* logits, const int* y, int* correct, int rows, int classes) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) {
        return;
    }
    const float* l = logits + (long long) r * classes;
    int best = 0;
    for (int k = 1; k < classes; k++) {
        if (l[k] > l[best]) {
            best = k;
        }
    }
    correct[r] = best == y[r] ? 1 : 0;
}

}
