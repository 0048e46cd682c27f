/* Tests for nn__gemm: every kernel this CPU can run is compared with the reference
 * nn__gemm_ref on many shapes, all four transpose cases, padded strides and alpha/beta values.
 * Shape letters: M, N, K as in nn_internal.h (C (M, N) = op(A) (M, K) · op(B) (K, N)). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* xorshift64*, so the shapes and data are the same on every run and platform. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

static int rng_int(rng *r, int n) /* uniform in [0, n) */
{
    return (int)(rng_next(r) % (uint64_t)n);
}

static float rng_float(rng *r) /* uniform in [-1, 1) */
{
    return (float)(rng_next(r) >> 40) / (float)(1 << 23) - 1.0f;
}

/* A sentinel for C's padding columns, which nn__gemm must leave untouched. */
static const float PAD = 12345.0f;

typedef struct gemm_case {
    bool ta, tb;
    int M, N, K, lda, ldb, ldc;
    float alpha, beta;
} gemm_case;

/* Runs one case with kernel k and checks it element by element against the reference. The
 * tolerance scales with Σ_p |op(A)_ip|·|op(B)_pj|, the size of the terms being summed: a
 * single-precision sum of K terms in any order is that accurate. beta == 0 cases fill C with
 * NaN, which must not leak into the result. */
static void check_case(nn__gemm_kernel k, const gemm_case *g, rng *r)
{
    int arows = g->ta ? g->K : g->M, brows = g->tb ? g->N : g->K;
    size_t na = (size_t)arows * g->lda + 1, nb = (size_t)brows * g->ldb + 1;
    size_t nc = (size_t)g->M * g->ldc + 1;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
    assert_non_null(A), assert_non_null(B), assert_non_null(C), assert_non_null(R);
    /* Padding past each row's width is NaN: reading it would poison the result. */
    int acols = g->ta ? g->M : g->K, bcols = g->tb ? g->K : g->N;
    for (size_t i = 0; i < na; i++)
        A[i] = (int)(i % (size_t)g->lda) < acols && i + 1 < na ? rng_float(r) : NAN;
    for (size_t i = 0; i < nb; i++)
        B[i] = (int)(i % (size_t)g->ldb) < bcols && i + 1 < nb ? rng_float(r) : NAN;
    for (size_t i = 0; i < nc; i++)
        C[i] = R[i] = (int)(i % (size_t)g->ldc) >= g->N ? PAD
                      : g->beta == 0.0f                ? NAN
                                                       : rng_float(r);

    /* The workspace is exactly the size promised (AddressSanitizer checks it), and absent
     * where nn__gemm_needs_ws says the product does not use it (a NULL read would crash). */
    float *ws = NULL;
    if (nn__gemm_needs_ws(k, g->ta, g->tb, g->M, g->N, g->K)) {
        ws = malloc(nn__gemm_ws_floats() * sizeof *ws);
        assert_non_null(ws);
    }
    nn__gemm(k, ws, g->ta, g->tb, g->M, g->N, g->K, g->alpha, A, g->lda, B, g->ldb, g->beta, C,
             g->ldc);
    free(ws);
    nn__gemm_ref(g->ta, g->tb, g->M, g->N, g->K, g->alpha, A, g->lda, B, g->ldb, g->beta, R,
                 g->ldc);

    /* |op(A)| (M, K) and |op(B)|ᵀ (N, K), contiguous along K for the tolerance sums. */
    size_t nabs = (size_t)(g->M > g->N ? g->M : g->N) * g->K + 1;
    float *Aabs = malloc(nabs * sizeof *Aabs), *Babs = malloc(nabs * sizeof *Babs);
    assert_non_null(Aabs), assert_non_null(Babs);
    for (int p = 0; p < g->K; p++) {
        for (int i = 0; i < g->M; i++)
            Aabs[(size_t)i * g->K + p] =
                fabsf(g->ta ? A[(size_t)p * g->lda + i] : A[(size_t)i * g->lda + p]);
        for (int j = 0; j < g->N; j++)
            Babs[(size_t)j * g->K + p] =
                fabsf(g->tb ? B[(size_t)j * g->ldb + p] : B[(size_t)p * g->ldb + j]);
    }
    for (int i = 0; i < g->M; i++) {
        for (int j = 0; j < g->ldc; j++) {
            float c = C[(size_t)i * g->ldc + j], ref = R[(size_t)i * g->ldc + j];
            if (j >= g->N) {
                assert_true(c == PAD);
                continue;
            }
            double mag = 0.0;
            for (int p = 0; p < g->K; p++)
                mag += (double)Aabs[(size_t)i * g->K + p] * Babs[(size_t)j * g->K + p];
            double tol = 1e-5 * mag * fabs(g->alpha) + 1e-6 * fabs(ref) + 1e-7;
            if (!(fabs((double)c - ref) <= tol)) {
                fprintf(stderr, "kernel %d ta=%d tb=%d M=%d N=%d K=%d lda=%d ldb=%d ldc=%d "
                        "alpha=%g beta=%g: C[%d][%d] = %g, reference %g\n", (int)k, g->ta, g->tb,
                        g->M, g->N, g->K, g->lda, g->ldb, g->ldc, g->alpha, g->beta, i, j, c, ref);
                fail();
            }
        }
    }
    free(Aabs), free(Babs);
    free(A), free(B), free(C), free(R);
}

static const float SCALARS[] = {1.0f, 0.0f, -0.5f, 2.0f};

/* A case for shape (M, N, K) and transposes (ta, tb), with strides padded by 0, 1, 5 or 16
 * and alpha, beta drawn from SCALARS. */
static gemm_case make_case(rng *r, bool ta, bool tb, int M, int N, int K)
{
    static const int pads[] = {0, 0, 1, 5, 16};
    gemm_case g = {ta, tb, M, N, K, 0, 0, 0, SCALARS[rng_int(r, 4)], SCALARS[rng_int(r, 4)]};
    g.lda = (ta ? M : K) + pads[rng_int(r, 5)];
    g.ldb = (tb ? K : N) + pads[rng_int(r, 5)];
    g.ldc = N + pads[rng_int(r, 5)];
    /* A stride of 0 is not valid for a matrix with one column either. */
    g.lda += g.lda == 0, g.ldb += g.ldb == 0, g.ldc += g.ldc == 0;
    return g;
}

static void check_shape(nn__gemm_kernel k, rng *r, int M, int N, int K)
{
    for (int t = 0; t < 4; t++) {
        gemm_case g = make_case(r, t & 1, t >> 1, M, N, K);
        check_case(k, &g, r);
    }
}

static const int SIZES[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 129, 257};
enum { NSIZES = sizeof SIZES / sizeof SIZES[0] };

static const int MLP_SHAPES[][3] = {{64, 256, 784}, {256, 784, 64}, {64, 784, 256},
                                    {64, 128, 256}, {128, 256, 64}, {64, 256, 128},
                                    {64, 10, 128},  {10, 128, 64},  {64, 128, 10}};

/* Whether this build tests kernel k. The build whose AVX-512 kernel runs on emulated
 * intrinsics (NN_GEMM_EMULATE_AVX512, tests/avx512_emulated.h) tests that kernel only: the
 * others are the plain build's. */
static bool tested_here(nn__gemm_kernel k)
{
#ifdef NN_GEMM_EMULATE_AVX512
    if (k != NN__GEMM_AVX512 && k != NN__GEMM_FIXED_AVX512)
        return false;
#endif
    return nn__gemm_available(k);
}

/* Every small shape, a random sample of the larger ones, the MLP's shapes and shapes that
 * cross several cache blocks in each dimension. */
static void check_kernel(nn__gemm_kernel k)
{
    if (!tested_here(k))
        skip();
    rng r = {0x9E3779B97F4A7C15ULL + (uint64_t)k};
    for (int m = 0; m < 8; m++)
        for (int n = 0; n < 8; n++)
            for (int p = 0; p < 8; p++)
                check_shape(k, &r, SIZES[m], SIZES[n], SIZES[p]);
    for (int i = 0; i < 150; i++) { /* up to 4M multiply-adds each, to keep the test quick */
        int m = SIZES[rng_int(&r, NSIZES)], n = SIZES[rng_int(&r, NSIZES)];
        int p = SIZES[rng_int(&r, NSIZES)];
        if ((double)m * n * p <= 4e6)
            check_shape(k, &r, m, n, p);
    }
    for (int i = 0; i < 9; i++)
        check_shape(k, &r, MLP_SHAPES[i][0], MLP_SHAPES[i][1], MLP_SHAPES[i][2]);
    /* Several blocks of M, N and K, in both of the driver's loop orders. */
    check_shape(k, &r, 200, 300, 600);
    check_shape(k, &r, 300, 500, 300);
    check_shape(k, &r, 257, 129, 513);
    /* Blocks that fill the packing buffers exactly, and shapes one panel past that (under
     * AddressSanitizer, a block size one panel too big is an overflow): one block of rows
     * (B blocks of up to 128 columns at K = 256), then several (up to 1024). */
    check_shape(k, &r, 96, 128, 256);
    check_shape(k, &r, 96, 144, 256);
    check_shape(k, &r, 102, 144, 256);
    check_shape(k, &r, 192, 256, 129);
    check_shape(k, &r, 97, 1024, 256);
    check_shape(k, &r, 97, 1100, 256);
}

static void test_portable(void **state)
{
    (void)state;
    check_kernel(NN__GEMM_PORTABLE);
}

static void test_avx2(void **state)
{
    (void)state;
    check_kernel(NN__GEMM_AVX2);
}

static void test_avx512(void **state)
{
    (void)state;
    check_kernel(NN__GEMM_AVX512);
}

static void test_neon(void **state)
{
    (void)state;
    check_kernel(NN__GEMM_NEON);
}

/* The unpacked paths (gemm.c, "small products, few rows"): every tiny shape, with beta = 0
 * (C full of NaN) and beta != 0 each time; then products of 1 to 4 rows with long rows and
 * columns (up to 1100), batch-1 inference's 1×256×784 among them. */
static const int TINY[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17};
enum { NTINY = sizeof TINY / sizeof TINY[0] };
static const int ROWS_NK[] = {1, 3, 8, 9, 15, 17, 33, 100, 257, 1100};
enum { NROWS_NK = sizeof ROWS_NK / sizeof ROWS_NK[0] };

static void check_small_and_rows(nn__gemm_kernel k)
{
    if (!tested_here(k))
        skip();
    rng r = {0xC0FFEEULL + (uint64_t)k};
    for (int m = 0; m < NTINY; m++)
        for (int n = 0; n < NTINY; n++)
            for (int p = 0; p < NTINY; p++)
                for (int t = 0; t < 8; t++) {
                    gemm_case g = make_case(&r, t & 1, t >> 1 & 1, TINY[m], TINY[n], TINY[p]);
                    if (t >> 2)
                        g.beta = 0.0f;
                    else if (g.beta == 0.0f)
                        g.beta = 0.5f;
                    check_case(k, &g, &r);
                }
    for (int m = 1; m <= 4; m++)
        for (int n = 0; n < NROWS_NK; n++)
            for (int p = 0; p < NROWS_NK; p++) {
                int N = ROWS_NK[n], K = ROWS_NK[p];
                /* the largest only for one row count each, to keep the test quick */
                if ((long)N * K > 30000 && m != (n + p) % 4 + 1)
                    continue;
                check_shape(k, &r, m, N, K);
            }
    check_shape(k, &r, 1, 256, 784);
    check_shape(k, &r, 4, 256, 784);
}

static void test_small_rows_portable(void **state)
{
    (void)state;
    check_small_and_rows(NN__GEMM_PORTABLE);
}

static void test_small_rows_avx2(void **state)
{
    (void)state;
    check_small_and_rows(NN__GEMM_AVX2);
}

/* The AVX-512 micro-kernel's ragged edges with few rows (the AVX-512 build has no few-rows
 * path of its own: its few-rows products are test_small_rows_avx2's). Products of 5 to 16
 * rows give every ragged last panel, packed (4 or 5 rows) or left to the few-rows path (1 to
 * 3), beside whole 6-row panels; the columns end inside, at and past a 32-wide tile, so the
 * kernel's partial stores, its full-row store of a short panel (n = NR, m < MR) and its whole
 * tiles all run, with K from one step to several K blocks. */
static void test_avx512_ragged_panels(void **state)
{
    (void)state;
    if (!tested_here(NN__GEMM_AVX512))
        skip();
    static const int cols[] = {1, 8, 16, 31, 32, 33, 47, 64, 65, 100};
    static const int depths[] = {1, 7, 16, 64, 300};
    rng r = {0xA512ULL};
    for (int M = 5; M <= 16; M++)
        for (size_t n = 0; n < sizeof cols / sizeof *cols; n++)
            for (size_t p = 0; p < sizeof depths / sizeof *depths; p++)
                if ((long)M * cols[n] * depths[p] >= 512) /* below it: plain loops */
                    check_shape(NN__GEMM_AVX512, &r, M, cols[n], depths[p]);
}

/* C computed in blocks as nn__gemm_mt cuts it, has the bits of C computed whole: rows cut at
 * a multiple of 6 with at least 6 on each side (a remainder joins the last block), or columns
 * at a multiple of 32. Each block of at least 512 multiply-adds (the smallest nn__gemm_mt
 * makes) takes the same path, element by element, as the whole product. */
static void check_blocks(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K, int cut,
                         bool rows, rng *r)
{
    int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 3, ldc = N + 2;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
    size_t nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C1 = malloc(nc * sizeof *C1), *C2 = malloc(nc * sizeof *C2);
    assert_non_null(A), assert_non_null(B), assert_non_null(C1), assert_non_null(C2);
    for (size_t i = 0; i < na; i++)
        A[i] = rng_float(r);
    for (size_t i = 0; i < nb; i++)
        B[i] = rng_float(r);
    for (size_t i = 0; i < nc; i++)
        C1[i] = C2[i] = rng_float(r);
    float *ws = malloc(nn__gemm_ws_floats() * sizeof *ws);
    assert_non_null(ws);
    nn__gemm(k, ws, ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, ldc);
    if (rows) {
        nn__gemm(k, ws, ta, tb, cut, N, K, 0.7f, A, lda, B, ldb, 0.3f, C2, ldc);
        nn__gemm(k, ws, ta, tb, M - cut, N, K, 0.7f, A + (ta ? (size_t)cut : (size_t)cut * lda),
                 lda, B, ldb, 0.3f, C2 + (size_t)cut * ldc, ldc);
    } else {
        nn__gemm(k, ws, ta, tb, M, cut, K, 0.7f, A, lda, B, ldb, 0.3f, C2, ldc);
        nn__gemm(k, ws, ta, tb, M, N - cut, K, 0.7f, A, lda,
                 B + (tb ? (size_t)cut * ldb : (size_t)cut), ldb, 0.3f, C2 + cut, ldc);
    }
    free(ws);
    if (memcmp(C1, C2, nc * sizeof *C1) != 0)
        fail_msg("kernel %d ta %d tb %d M %d N %d K %d cut %s at %d: results differ", (int)k, ta,
                 tb, M, N, K, rows ? "rows" : "columns", cut);
    free(A), free(B), free(C1), free(C2);
}

static void test_blocks_bit_identical(void **state)
{
    (void)state;
    rng r = {7};
    for (int k = NN__GEMM_AUTO; k < NN__GEMM_COUNT; k++) {
        if (k == NN__GEMM_REF || !nn__gemm_available((nn__gemm_kernel)k))
            continue;
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t >> 1;
            check_blocks((nn__gemm_kernel)k, ta, tb, 16, 20, 300, 6, true, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 13, 32, 200, 6, true, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 64, 10, 128, 30, true, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 64, 10, 128, 54, true, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 23, 40, 100, 12, true, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 4, 33, 600, 32, false, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 1, 300, 784, 64, false, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 3, 100, 301, 32, false, &r);
            check_blocks((nn__gemm_kernel)k, ta, tb, 10, 70, 64, 32, false, &r);
        }
    }
}

/* The fixed order as nn_model_opts.deterministic documents it, written out on its own: per
 * element, 16 partial sums from +0, lane l adding op(A)(i, k)·op(B)(k, j) for k ≡ l (mod 16)
 * in increasing k, each product rounded to float; then the halving tree; then
 * alpha·sum + beta·C (C not read when beta == 0). */
static float fixed_order_element(bool ta, bool tb, int i, int j, int K, float alpha,
                                 const float *A, int lda, const float *B, int ldb, float beta,
                                 const float *c)
{
    float lane[16] = {0};
    for (int k = 0; k < K; k++) {
        float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
        float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
        volatile float p = a * b; /* rounded on its own, whatever the compiler contracts */
        lane[k % 16] += p;
    }
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            lane[l] += lane[l + w];
    /* Both terms rounded on their own too: a compiler for a CPU with FMA (gcc for aarch64, in
     * its default GNU mode) would otherwise fuse them into one rounding, which the library,
     * compiled with -ffp-contract=off, does not. */
    volatile float sum = alpha * lane[0];
    if (beta == 0.0f)
        return sum;
    volatile float old = beta * *c;
    return sum + old;
}

/* Every FIXED kernel gives the bits of fixed_order_element on every shape: ragged tiles and
 * blocks, several K blocks (K > 256), all four transpose cases, padded strides. */
static void test_fixed_order_bit_exact(void **state)
{
    (void)state;
    static const int shapes[][3] = {{1, 1, 1},    {3, 5, 7},    {2, 2, 16},   {7, 3, 17},
                                    {65, 66, 31}, {130, 3, 257}, {5, 129, 600}, {64, 64, 256},
                                    {1, 300, 784}, {33, 1, 513}};
    for (int k = NN__GEMM_FIXED_PORTABLE; k <= NN__GEMM_FIXED_NEON; k++) {
        if (!tested_here((nn__gemm_kernel)k))
            continue;
        rng r = {99};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int t = 0; t < 8; t++) {
                bool ta = t & 1, tb = (t >> 1) & 1;
                float beta = t >> 2 ? 0.5f : 0.0f, alpha = t >> 2 ? -0.3f : 1.0f;
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
                size_t nc = (size_t)M * ldc;
                float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
                float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
                float *ws = malloc(nn__gemm_ws_floats() * sizeof *ws);
                assert_non_null(A), assert_non_null(B), assert_non_null(C);
                assert_non_null(R), assert_non_null(ws);
                for (size_t i = 0; i < na; i++)
                    A[i] = rng_float(&r);
                for (size_t i = 0; i < nb; i++)
                    B[i] = rng_float(&r);
                for (size_t i = 0; i < nc; i++)
                    C[i] = R[i] = rng_float(&r);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++)
                        R[(size_t)i * ldc + j] = fixed_order_element(
                            ta, tb, i, j, K, alpha, A, lda, B, ldb, beta, &C[(size_t)i * ldc + j]);
                nn__gemm((nn__gemm_kernel)k, ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C,
                         ldc);
                if (memcmp(C, R, nc * sizeof *C) != 0)
                    fail_msg("fixed kernel %d ta %d tb %d M %d N %d K %d beta %g: not the fixed "
                             "order's bits", k, ta, tb, M, N, K, (double)beta);
                free(A), free(B), free(C), free(R), free(ws);
            }
    }
}

static void test_fixed(void **state)
{
    (void)state;
    int tested = 0;
    for (int k = NN__GEMM_FIXED_PORTABLE; k <= NN__GEMM_FIXED_NEON; k++)
        if (tested_here((nn__gemm_kernel)k))
            check_kernel((nn__gemm_kernel)k), tested++;
    if (!tested)
        skip();
}

/* AUTO runs one of the kernels above, so a few shapes show that it dispatches correctly. */
static void test_auto(void **state)
{
    (void)state;
    rng r = {42};
    for (int i = 0; i < 9; i++)
        check_shape(NN__GEMM_AUTO, &r, MLP_SHAPES[i][0], MLP_SHAPES[i][1], MLP_SHAPES[i][2]);
    check_shape(NN__GEMM_AUTO, &r, 17, 33, 65);
}

/* Degenerate shapes: M or N = 0 touch nothing; K = 0 gives C = beta·C without reading C when
 * beta == 0; an unavailable kernel falls back instead of failing. None of these products
 * uses a workspace, so none is given. */
static void test_degenerate(void **state)
{
    (void)state;
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 2, 3, 4}, C[4];
    for (int k = 0; k < NN__GEMM_COUNT; k++) {
        C[0] = 1.0f, C[1] = 2.0f, C[2] = 3.0f, C[3] = 4.0f;
        nn__gemm((nn__gemm_kernel)k, NULL, false, false, 0, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
        nn__gemm((nn__gemm_kernel)k, NULL, false, false, 2, 0, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
        assert_float_equal(C[0], 1.0f, 0.0f);
        assert_float_equal(C[3], 4.0f, 0.0f);
        nn__gemm((nn__gemm_kernel)k, NULL, true, true, 2, 2, 0, 1.0f, A, 2, B, 2, 2.0f, C, 2);
        assert_float_equal(C[1], 4.0f, 0.0f);
    }
    C[0] = C[1] = C[2] = C[3] = NAN;
    nn__gemm(NN__GEMM_AUTO, NULL, false, false, 2, 2, 0, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    for (int i = 0; i < 4; i++)
        assert_float_equal(C[i], 0.0f, 0.0f);
    nn__gemm(NN__GEMM_COUNT, NULL, false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    assert_float_equal(C[0], 7.0f, 0.0f);
    assert_float_equal(C[3], 22.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_degenerate), cmocka_unit_test(test_portable),
        cmocka_unit_test(test_avx2),       cmocka_unit_test(test_avx512),
        cmocka_unit_test(test_neon),
        cmocka_unit_test(test_auto),
        cmocka_unit_test(test_small_rows_portable), cmocka_unit_test(test_small_rows_avx2),
        cmocka_unit_test(test_avx512_ragged_panels),   cmocka_unit_test(test_blocks_bit_identical),
        cmocka_unit_test(test_fixed),       cmocka_unit_test(test_fixed_order_bit_exact),
    };
    return cmocka_run_group_tests_name("gemm", tests, NULL, NULL);
}
