/* The GEMM's unpacked paths in portable C: plain loops for tiny products and the few-rows
 * path for products of at most FEW_ROWS rows (gemm.c, "small products, few rows", says which
 * product takes which path and why). The x86 few-rows path is in gemm_x86.c.
 *
 * Shape letters: M, N, K as in gemm_internal.h; m a few rows of C (m <= FEW_ROWS). */
#include <string.h>

#include "kernels/gemm_internal.h"

enum { FEW_ROWS = NN__GEMM_FEW_ROWS, ROWS_CHUNK = 256 };

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
        int n = N - j0 < ROWS_CHUNK ? N - j0 : ROWS_CHUNK;
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
