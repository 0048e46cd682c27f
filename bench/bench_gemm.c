/* GEMM throughput: GFLOP/s = 2·M·N·K / time per call, the median of several repetitions,
 * for square products and the nine products of one training step of an MLP 784-256-128-10 at
 * batch 64 (weights W stored (n_out, n_in)). One line per figure:
 *   gemm kernel=auto shape=256x256x256 op=NN gflops=123.4
 * shape is MxNxK; op gives ta and tb (T = transposed). Usage: bench_gemm [all]; "all" adds
 * every kernel this CPU supports besides auto and the reference.
 * Shape letters: M, N, K as in nn_internal.h; B batch rows. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn_internal.h"

enum { REPS = 7 };
static const double MIN_REP_S = 0.05; /* each repetition loops the call for at least this */

typedef struct shape {
    const char *name;
    int M, N, K;
    bool ta, tb;
} shape;

/* The MLP's products at B = 64: forward Z(B, n_out) = X(B, n_in)·Wᵀ, the weight gradient
 * dW(n_out, n_in) += dZᵀ·X, and the input gradient dX(B, n_in) = dZ·W. */
static const shape SHAPES[] = {
    {"sq64", 64, 64, 64, false, false},        {"sq128", 128, 128, 128, false, false},
    {"sq256", 256, 256, 256, false, false},    {"sq512", 512, 512, 512, false, false},
    {"sq1024", 1024, 1024, 1024, false, false}, {"L1.fwd", 64, 256, 784, false, true},
    {"L1.dW", 256, 784, 64, true, false},      {"L1.dX", 64, 784, 256, false, false},
    {"L2.fwd", 64, 128, 256, false, true},     {"L2.dW", 128, 256, 64, true, false},
    {"L2.dX", 64, 256, 128, false, false},     {"L3.fwd", 64, 10, 128, false, true},
    {"L3.dW", 10, 128, 64, true, false},       {"L3.dX", 64, 128, 10, false, false},
};

static const char *const KERNEL_NAMES[NN__GEMM_COUNT] = {"auto", "ref", "portable", "avx2",
                                                         "avx512"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *random_matrix(size_t n, unsigned *seed)
{
    float *m = malloc(n * sizeof *m);
    if (!m) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        m[i] = (float)(*seed >> 8) / (float)(1 << 24) - 0.5f;
    }
    return m;
}

/* Median GFLOP/s of kernel k on shape s. The dW products accumulate (beta = 1) as in
 * training; the others overwrite (beta = 0). */
static double bench(nn__gemm_kernel k, const shape *s)
{
    unsigned seed = 1;
    float *A = random_matrix((size_t)s->M * s->K, &seed);
    float *B = random_matrix((size_t)s->K * s->N, &seed);
    float *C = random_matrix((size_t)s->M * s->N, &seed);
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    float beta = s->ta ? 1.0f : 0.0f;
    double t[REPS];
    nn__gemm(k, s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, beta, C, s->N); /* warm */
    for (int r = 0; r < REPS; r++) {
        long calls = 0;
        double t0 = now_s(), el;
        do {
            nn__gemm(k, s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, beta, C, s->N);
            calls++;
            el = now_s() - t0;
        } while (el < MIN_REP_S);
        t[r] = el / (double)calls;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    free(A), free(B), free(C);
    return 2.0 * s->M * s->N * s->K / t[REPS / 2] / 1e9;
}

int main(int argc, char **argv)
{
    bool all = argc > 1 && strcmp(argv[1], "all") == 0;
    const char *best = nn__gemm_available(NN__GEMM_AVX512) ? "avx512"
                       : nn__gemm_available(NN__GEMM_AVX2) ? "avx2"
                                                           : "portable";
    printf("# nn__gemm, one thread, GFLOP/s = 2MNK / median time per call (%d reps of >= %.2f s); "
           "auto = %s\n", REPS, MIN_REP_S, best);
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const shape *s = &SHAPES[i];
        for (int k = 0; k < NN__GEMM_COUNT; k++) {
            bool want = k == NN__GEMM_AUTO || (all && k != NN__GEMM_REF) ||
                        (k == NN__GEMM_REF && (double)s->M * s->N * s->K <= 256.0 * 256 * 256);
            if (!want || !nn__gemm_available((nn__gemm_kernel)k))
                continue;
            printf("gemm kernel=%s shape=%dx%dx%d op=%c%c gflops=%.1f  # %s\n", KERNEL_NAMES[k],
                   s->M, s->N, s->K, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N',
                   bench((nn__gemm_kernel)k, s), s->name);
            fflush(stdout);
        }
    }
    return 0;
}
