/* nn_mat_mul, the public face of the GEMM: arguments checked, packing buffers for the call.
 * Shape letters: M, N, K as in kernels.h. */
#include <stdlib.h>

#include "kernels/kernels.h"

nn_status nn_mat_mul(nn_mat *C, const nn_mat *A, bool trans_a, const nn_mat *B, bool trans_b,
                     float alpha, float beta)
{
    if (!nn__mat_ok(C) || !nn__mat_ok(A) || !nn__mat_ok(B))
        return NN_ERR_INVALID_ARG;
    int M = trans_a ? A->cols : A->rows, K = trans_a ? A->rows : A->cols;
    int KB = trans_b ? B->cols : B->rows, N = trans_b ? B->rows : B->cols;
    if (K != KB || C->rows != M || C->cols != N)
        return NN_ERR_SHAPE;
    if (nn__mat_overlap(C, A) || nn__mat_overlap(C, B))
        return NN_ERR_INVALID_ARG;
    float *ws = NULL; /* packing buffers, for this call: there is no model to keep them */
    if (nn__gemm_needs_ws(NN__GEMM_AUTO, trans_a, trans_b, M, N, K)) {
        ws = malloc(nn__gemm_ws_floats() * sizeof *ws);
        if (!ws)
            return NN_ERR_NOMEM;
    }
    nn__gemm(NN__GEMM_AUTO, ws, trans_a, trans_b, M, N, K, alpha, A->data, A->cols, B->data,
             B->cols, beta, C->data, C->cols);
    free(ws);
    return NN_OK;
}
