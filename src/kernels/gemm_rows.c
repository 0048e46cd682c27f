/* The GEMM's unpacked paths: plain loops for tiny products, and the few-rows path in portable
 * C (gemm_x86.c has the AVX2 one). nn__gemm (gemm.c) picks between them and the packed path.
 * Shape letters as in gemm_internal.h. */
#include <string.h>

#include "kernels/gemm_blocked.h"

/* Packing has a fixed cost and computes whole MR-row tiles, which dominates two kinds of
 * product: tiny ones (a 2-4-1 network's layers at one row: 1×4×2, 4×2×1, ...) and ones with
 * a few rows (batch-1 inference: 1×256×784, where packing copies all of W to use each
 * element once). Those take the unpacked paths below.
 *
 * Which path computes an element depends on the shape alone, and is unchanged when
 * nn__gemm_mt (pool.c) cuts C into units of SPLIT_ROW_UNIT rows or SPLIT_COL_UNIT columns,
 * so a split product has the same bits as the whole one:
 * - Products of fewer than SMALL_MACS multiply-adds use plain loops. nn__gemm_mt splits only
 *   products of at least 2 × SPLIT_MIN_PART_MACS multiply-adds, into parts of at least
 *   SPLIT_MIN_PART_MACS each on average; a part can be thinner than half that only when every
 *   part is a single unit, and then the product had at least SPLIT_MIN_PART_MACS
 *   multiply-adds per unit, so even a last unit of one column keeps
 *   M·K >= SPLIT_MIN_PART_MACS / SPLIT_COL_UNIT >= SMALL_MACS (asserted below; row parts hold
 *   at least SPLIT_ROW_UNIT rows). No part of a split product is ever below SMALL_MACS.
 * - A product of at most FEW_ROWS rows takes the few-rows path, whose results for a row do
 *   not depend on the other rows, nor for a column on the other columns. A product of more
 *   rows is cut into the packed path's MR-row panels; a ragged last panel takes the packed
 *   path too, or the few-rows path, depending on its row count alone (see nn__gemm).
 *   nn__gemm_mt cuts rows at multiples of MR into parts of at least MR rows, so each part
 *   has the whole product's panels, and its last part the same ragged panel.
 * The few-rows kernels: with op(B) transposed (B's rows contiguous along K, as W in a dense
 * layer's forward), dot products along K, one vector accumulator per element, several columns
 * at once so each vector of op(A) is loaded once per group; otherwise rows of op(B) times
 * broadcast elements of op(A): one multiply-add chain along K per element, as in the packed
 * kernel. */
_Static_assert((int)(NN__SPLIT_MIN_PART_MACS / NN__SPLIT_COL_UNIT) >= (int)SMALL_MACS,
               "a part of a split product must never fall into the plain loops");
_Static_assert(NN__SPLIT_ROW_UNIT % MR == 0 && (int)NN__SPLIT_ROW_UNIT > (int)FEW_ROWS,
               "row parts must hold whole panels and never take the few-rows path alone");
enum { ROWS_CHUNK = 256 };

/* C = alpha·op(A)·op(B) + beta·C in plain loops: for products too small for anything else to
 * pay. i·ai + p·ap indexes op(A)(i, p), j·bj + p·bp op(B)(p, j). */
void nn__gemm_small(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                    size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    size_t ai = ta ? 1 : lda, ap = ta ? lda : 1, bj = tb ? ldb : 1, bp = tb ? 1 : ldb;
    for (int i = 0; i < M; i++, A += ai, C += ldc) {
        const float *b = B;
        for (int j = 0; j < N; j++, b += bj) {
            float s = 0.0f;
            for (int p = 0; p < K; p++)
                s += A[p * ap] * b[p * bp];
            C[j] = beta == 0.0f ? alpha * s : alpha * s + beta * C[j];
        }
    }
}

/* The few-rows path in portable C, for m <= FEW_ROWS rows. With op(B) transposed each element
 * is a dot product in 8 interleaved partial sums (which compilers turn into vectors); else
 * ROWS_CHUNK columns at a time are accumulated on the stack along rows of op(B). */
void nn__gemm_rows_portable(bool ta, bool tb, int m, int N, int K, float alpha, const float *A,
                            size_t lda, const float *B, size_t ldb, float beta, float *C,
                            size_t ldc)
{
    size_t ai = ta ? 1 : lda, ap = ta ? lda : 1;
    if (tb) {
        for (int i = 0; i < m; i++, C += ldc) {
            const float *a = A + i * ai;
            for (int j = 0; j < N; j++) {
                const float *b = B + (size_t)j * ldb;
                float s[8] = {0};
                int p = 0;
                for (; p + 8 <= K; p += 8)
                    for (int l = 0; l < 8; l++)
                        s[l] += a[(p + l) * ap] * b[p + l];
                for (int l = 0; p + l < K; l++)
                    s[l] += a[(p + l) * ap] * b[p + l];
                float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
                C[j] = beta == 0.0f ? alpha * t : alpha * t + beta * C[j];
            }
        }
        return;
    }
    float acc[FEW_ROWS][ROWS_CHUNK];
    for (int j0 = 0; j0 < N; j0 += ROWS_CHUNK) {
        int n = min_int(ROWS_CHUNK, N - j0);
        for (int i = 0; i < m; i++)
            memset(acc[i], 0, (size_t)n * sizeof acc[i][0]);
        for (int p = 0; p < K; p++) {
            const float *b = B + (size_t)p * ldb + j0;
            for (int i = 0; i < m; i++) {
                float a = A[i * ai + p * ap];
                for (int j = 0; j < n; j++)
                    acc[i][j] += a * b[j];
            }
        }
        for (int i = 0; i < m; i++) {
            float *c = C + i * ldc + j0;
            for (int j = 0; j < n; j++)
                c[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[j];
        }
    }
}
