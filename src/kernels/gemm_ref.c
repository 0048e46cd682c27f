/* The reference matrix multiply: plain loops, obviously correct, kept as the oracle that
 * every fast kernel is tested against. Shape letters: M, N, K as in nn_internal.h. */
#include "kernels/kernels.h"

void nn__gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            /* Accumulate in double so the oracle is more accurate than what it checks. */
            double sum = 0.0;
            for (int p = 0; p < K; p++) {
                float a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                float b = tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                sum += (double)a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* beta == 0 must not read C: it may hold NaN (BLAS convention). */
            *c = beta == 0.0f ? alpha * (float)sum : alpha * (float)sum + beta * *c;
        }
    }
}
