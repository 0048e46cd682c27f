/* The fixed-order GEMM behind the deterministic mode: C = alpha·op(A)·op(B) + beta·C with
 * every element summed in one order that depends on K alone, so that any CPU, vector width
 * and split of C between threads gives the same bits. For each element c(i, j):
 *   - the products p_k = op(A)(i, k)·op(B)(k, j) are rounded on their own (no fused
 *     multiply-add: the library is compiled with -ffp-contract=off);
 *   - 16 partial sums: lane l adds the p_k of k ≡ l (mod 16) in increasing k, from +0;
 *   - the lanes are added in a halving tree: lane l += lane l + 8 for l < 8, then l + 4,
 *     l + 2, l + 1, and the sum is lane 0;
 *   - c = alpha·sum + beta·c (beta == 0: alpha·sum, c not read).
 * The lanes are independent, so they may be held as 16 scalars, 4 SSE or NEON vectors, 2 AVX
 * vectors or 1 AVX-512 vector and the result stays the same: the ISA kernels below are one
 * source (gemm_fixed_tile.h) instantiated at each width and compiled for each target.
 * tests/test_gemm.c holds each to a reference that sums in that order, written separately,
 * bit for bit.
 *
 * The kernel reads operands along K: a row of op(A) and a column of op(B) each as a run of
 * contiguous floats. op(A) = A and op(B) = Bᵀ are read in place (a dense layer's forward
 * product); op(A) = Aᵀ and op(B) = B are first copied, a block at a time, into runs along K
 * in the workspace (the backward products dZ·W and dZᵀ·X). A K longer than one block keeps
 * each element's 16 partial sums in the workspace between blocks; blocks start at multiples
 * of 16, so a lane keeps its k ≡ l (mod 16).
 *
 * Shape letters: M, N, K the product's dimensions; mb, nb, kb one block's rows, columns and
 * steps along K; TR × TC the tile of C whose partial sums one call of the tile keeps. */
#include <string.h>

#include "kernels/gemm_blocked.h"

enum { LANES = 16, KB = 256, MB = 64, NB = 64, TR = 2, TC = 2 };
/* The workspace: op(A)'s block (MB, KB), op(B)'s block (NB, KB), the partial sums of an
 * (MB, NB) block of C, LANES per element, stored tile after tile. */
enum {
    TILE_SUMS = TR * TC * LANES,
    WS_A = 0,
    WS_B = WS_A + MB * KB,
    WS_SUMS = WS_B + NB * KB,
    WS_FLOATS = WS_SUMS + MB / TR * (NB / TC) * TILE_SUMS
};
_Static_assert(KB % LANES == 0, "K blocks must start at multiples of 16: a lane keeps its k");
_Static_assert(MB % TR == 0 && NB % TC == 0, "blocks must hold whole tiles");
_Static_assert((int)WS_FLOATS <= (int)PA_FLOATS + (int)PB_FLOATS,
               "the fixed-order blocks must fit the GEMM's workspace");

bool nn__gemm_fixed_needs_ws(bool ta, bool tb, int K)
{
    return ta || !tb || K > KB;
}

/* dst (lanes, KB) = the transpose of X's block of kb steps by `lanes` lanes: dst[l·KB + p] =
 * X[p·ldx + l]. Makes a block of op(A) = Aᵀ or op(B) = B a set of runs along K. */
NN_GEMM_INLINE void pack_runs(const float *X, size_t ldx, int lanes, int kb, float *dst)
{
    for (int p = 0; p < kb; p++, X += ldx)
        for (int l = 0; l < lanes; l++)
            dst[(size_t)l * KB + p] = X[l];
}

/* The sum of one element's 16 partial sums, by the halving tree. */
#if defined(__GNUC__)
typedef float fold_v __attribute__((vector_size(4 * sizeof(float))));

static float fold_lanes(const float *s)
{
    fold_v q0, q1, q2, q3;
    memcpy(&q0, s, sizeof q0);
    memcpy(&q1, s + 4, sizeof q1);
    memcpy(&q2, s + 8, sizeof q2);
    memcpy(&q3, s + 12, sizeof q3);
    q0 += q2, q1 += q3; /* lanes l += l + 8 */
    q0 += q1;           /* l += l + 4 */
    float f0 = q0[0] + q0[2], f1 = q0[1] + q0[3];
    return f0 + f1;
}
#else
static float fold_lanes(const float *s)
{
    float f[LANES];
    memcpy(f, s, sizeof f);
    for (int w = LANES / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            f[l] += f[l + w];
    return f[0];
}
#endif

/* C's (mr, nc) corner of a tile from its partial sums S (TR, TC, LANES). */
static void store_tile_sums(const float *S, float *C, size_t ldc, int mr, int nc, float alpha,
                            float beta)
{
    for (int r = 0; r < mr; r++, C += ldc)
        for (int c = 0; c < nc; c++) {
            float sum = fold_lanes(S + (r * TC + c) * LANES);
            C[c] = beta == 0.0f ? alpha * sum : alpha * sum + beta * C[c];
        }
}

/* One instance of the tile and driver per vector width (gemm_fixed_tile.h): 4 floats for
 * the build's own target (SSE, NEON, ...), 8 for AVX2, 16 for AVX-512F; plain floats for a
 * compiler without GNU C vectors. */
#if defined(__GNUC__)
#define FIXED_W 4
#else
#define FIXED_W 1
#endif
#define FIXED_NAME(x) fixed_##x##_portable
#include "kernels/gemm_fixed_tile.h"

static void fixed_portable(float *ws, bool ta, bool tb, int M, int N, int K, float alpha,
                           const float *A, size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc)
{
    fixed_gemm_portable(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#if NN_GEMM_X86
/* The test build that emulates AVX-512 on AVX2 (tests/CMakeLists.txt) compiles the AVX-512
 * entry for AVX2, so that it runs where nn__gemm_available says it does. */
#ifdef NN_GEMM_EMULATE_AVX512
#define FIXED_AVX512_TARGET "avx2"
#else
#define FIXED_AVX512_TARGET "avx512f"
#endif

#define FIXED_W 8
#define FIXED_NAME(x) fixed_##x##_avx2
#include "kernels/gemm_fixed_tile.h"
#define FIXED_W 16
#define FIXED_NAME(x) fixed_##x##_avx512
#include "kernels/gemm_fixed_tile.h"

__attribute__((target("avx2"))) static void
fixed_avx2(float *ws, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
           size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    fixed_gemm_avx2(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

__attribute__((target(FIXED_AVX512_TARGET))) static void
fixed_avx512(float *ws, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
             size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    fixed_gemm_avx512(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif

void nn__gemm_fixed_order(nn__gemm_kernel k, float *ws, bool ta, bool tb, int M, int N, int K,
                          float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                          float beta, float *C, size_t ldc)
{
#if NN_GEMM_X86
    if (k == NN__GEMM_FIXED_AVX512) {
        fixed_avx512(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (k == NN__GEMM_FIXED_AVX2) {
        fixed_avx2(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    (void)k;
    fixed_portable(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
