/* Placeholder dispatch: every kernel is the reference until the fast kernels land. */
#include "nn_internal.h"

bool nn__gemm_available(nn__gemm_kernel k)
{
    return k == NN__GEMM_AUTO || k == NN__GEMM_REF;
}

void nn__gemm(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    (void)k;
    nn__gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
