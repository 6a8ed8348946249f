// Runs the sample app's CUDA kernels (src/main/cuda/mlp_kernels.cu, compiled here as plain C++) on the CPU, one
// emulated thread after another, and checks their math: the backward kernels against central differences of the loss
// the forward kernels compute, Adam against its formula, and the gather, mean and count kernels against hand-worked
// answers. It needs no GPU: every kernel computes each output in one thread with no synchronization, so running the
// threads in sequence computes what the GPU computes. KernelMathTest compiles and runs it with g++.
//
// Prints one line per failed check and "kernel math: ok" at the end when all pass; exits with 1 on any failure.
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

struct Dim3 {
    unsigned x, y, z;
};
static Dim3 blockIdx, threadIdx, blockDim;
#define __global__ static
#include "mlp_kernels.cu"

static int failures = 0;

static void check(bool ok, const char* what, double got, double want) {
    if (!ok) {
        std::printf("FAILED %s: got %.9g, want %.9g\n", what, got, want);
        failures++;
    }
}

// Runs body once per thread of ceil(threads / 256) blocks of 256, as CudaTrainer launches every kernel.
template <typename Body>
static void launch(long threads, Body body) {
    blockDim = {256, 1, 1};
    for (long b = 0; b < (threads + 255) / 256; b++) {
        for (unsigned t = 0; t < 256; t++) {
            blockIdx = {(unsigned) b, 0, 0};
            threadIdx = {t, 0, 0};
            body();
        }
    }
}

// A small MLP as CudaTrainer lays it out: 5 -> 6 (ReLU) -> 6 (ReLU) -> 4, batch 8.
static const int B = 8, LAYERS = 3, CLASSES = 4;
static const int IN[LAYERS] = {5, 6, 6}, OUT[LAYERS] = {6, 6, 4};
static int offW[LAYERS], offB[LAYERS], total = 0;
static std::vector<float> x, z[LAYERS], relu[LAYERS], rowLoss(B), loss(1), dzA(B * 6), dzB(B * 6);
static std::vector<int> y(B);

static float forwardLoss(const std::vector<float>& p) {
    const float* a = x.data();
    for (int l = 0; l < LAYERS; l++) {
        float* r = l + 1 < LAYERS ? relu[l].data() : nullptr;
        launch((long) B * OUT[l], [&] {
            linear_forward(a, p.data() + offW[l], p.data() + offB[l], z[l].data(), r, B, IN[l], OUT[l]);
        });
        a = r;
    }
    launch(B, [&] { softmax_xent(z[LAYERS - 1].data(), y.data(), dzA.data(), rowLoss.data(), B, CLASSES, 1.0f / B); });
    launch(1, [&] { mean_loss(rowLoss.data(), loss.data(), B); });
    return loss[0];
}

static void gradientsMatchCentralDifferences() {
    for (int l = 0; l < LAYERS; l++) {
        offW[l] = total;
        total += IN[l] * OUT[l];
        offB[l] = total;
        total += OUT[l];
        z[l].resize(B * OUT[l]);
        relu[l].resize(B * OUT[l]);
    }
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    std::vector<float> p(total), grad(total);
    for (float& v : p) v = 0.7f * normal(rng);
    x.resize(B * IN[0]);
    for (float& v : x) v = normal(rng);
    for (int& label : y) label = (int) (rng() % CLASSES);

    forwardLoss(p);
    float* dz = dzA.data();
    float* below = dzB.data();
    for (int l = LAYERS - 1; l >= 0; l--) {
        const float* input = l == 0 ? x.data() : relu[l - 1].data();
        launch((long) IN[l] * OUT[l], [&] { weight_grad(input, dz, grad.data() + offW[l], B, IN[l], OUT[l]); });
        launch(OUT[l], [&] { bias_grad(dz, grad.data() + offB[l], B, OUT[l]); });
        if (l > 0) {
            launch((long) B * IN[l], [&] {
                input_grad(dz, p.data() + offW[l], z[l - 1].data(), below, B, IN[l], OUT[l]);
            });
            std::swap(dz, below);
        }
    }
    for (int i = 0; i < total; i++) {
        std::vector<float> q = p;
        const float h = 1e-3f; // the loss is float32: a smaller step drowns in rounding
        q[i] = p[i] + h;
        double up = forwardLoss(q);
        q[i] = p[i] - h;
        double down = forwardLoss(q);
        double numeric = (up - down) / (2 * h);
        check(std::fabs(numeric - grad[i]) <= 1e-2 * (std::fabs(numeric) + std::fabs(grad[i])) + 2e-4,
              "gradient of a parameter", grad[i], numeric);
    }
}

static void adamFollowsItsFormula() {
    std::vector<float> p = {1.0f, -2.0f, 0.5f}, m = {0.1f, 0.0f, -0.3f}, v = {0.2f, 0.0f, 0.05f};
    std::vector<float> g = {0.5f, -0.25f, 0.0f};
    std::vector<float> p0 = p, m0 = m, v0 = v;
    const float alpha = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    launch(3, [&] { adam(p.data(), m.data(), v.data(), g.data(), 3, alpha, b1, 1 - b1, b2, 1 - b2, eps); });
    for (int i = 0; i < 3; i++) {
        double mi = b1 * (double) m0[i] + (1 - b1) * (double) g[i];
        double vi = b2 * (double) v0[i] + (1 - b2) * (double) g[i] * g[i];
        double pi = p0[i] - alpha * mi / (std::sqrt(vi) + eps);
        check(std::fabs(m[i] - mi) < 1e-6, "adam m", m[i], mi);
        check(std::fabs(v[i] - vi) < 1e-6, "adam v", v[i], vi);
        check(std::fabs(p[i] - pi) < 1e-6, "adam p", p[i], pi);
    }
}

static void gatherMeanAndCountGiveTheHandWorkedAnswers() {
    std::vector<float> rows = {0, 1, 2, 10, 11, 12, 20, 21, 22};
    std::vector<int> labels = {7, 8, 9}, pick = {2, 0}, yb(2);
    std::vector<float> xb(6);
    launch(6, [&] { gather_batch(rows.data(), labels.data(), pick.data(), xb.data(), yb.data(), 2, 3); });
    const float wantX[6] = {20, 21, 22, 0, 1, 2};
    for (int i = 0; i < 6; i++) check(xb[i] == wantX[i], "gathered input", xb[i], wantX[i]);
    check(yb[0] == 9 && yb[1] == 7, "gathered labels", yb[0] * 10 + yb[1], 97);

    std::vector<float> losses = {1.0f, 2.0f, 4.5f}, mean(1);
    launch(1, [&] { mean_loss(losses.data(), mean.data(), 3); });
    check(mean[0] == 2.5f, "mean loss", mean[0], 2.5);

    // Row 0: the first of two equal maxima (1) is its label; row 1: the maximum (0) is not its label (2).
    std::vector<float> logits = {1, 3, 3, 0, 5, 1, 2, 2};
    std::vector<int> truth = {1, 2}, correct(2);
    launch(2, [&] { count_correct(logits.data(), truth.data(), correct.data(), 2, 4); });
    check(correct[0] == 1 && correct[1] == 0, "correct flags", correct[0] * 10 + correct[1], 10);
}

int main() {
    gradientsMatchCentralDifferences();
    adamFollowsItsFormula();
    gatherMeanAndCountGiveTheHandWorkedAnswers();
    if (failures > 0) {
        std::printf("kernel math: %d checks failed\n", failures);
        return 1;
    }
    std::printf("kernel math: ok (%d parameters gradient-checked)\n", total);
    return 0;
}
