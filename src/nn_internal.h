/* Internal declarations shared between libnn's source files (never installed).
 * Cross-file internal symbols carry the nn__ prefix; everything else is static.
 * Shape letters: M, N, K the dimensions of a matrix product; B batch rows. */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include "nn.h"

/* ------------------------------------------------------------- GEMM */

/* The matrix-multiply kernels. NN__GEMM_AUTO picks the fastest the CPU supports; the others
 * force one path (tests compare each with NN__GEMM_REF). */
typedef enum nn__gemm_kernel {
    NN__GEMM_AUTO = 0,
    NN__GEMM_REF,      /* plain loops: the oracle */
    NN__GEMM_PORTABLE, /* blocked C, any CPU */
    NN__GEMM_AVX2,     /* AVX2 + FMA */
    NN__GEMM_AVX512,   /* AVX-512F */
    NN__GEMM_COUNT
} nn__gemm_kernel;

/* True if this build and this CPU can run kernel k (AUTO and REF always can). */
bool nn__gemm_available(nn__gemm_kernel k);

/* C = alpha·op(A)·op(B) + beta·C, row-major with row strides lda, ldb, ldc.
 * op(A) is (M, K): A is stored (M, K) if !ta, (K, M) if ta. op(B) is (K, N): B stored (K, N)
 * if !tb, (N, K) if tb. C is (M, N). beta == 0 means C is not read. M, N, K >= 0; with K == 0
 * C = beta·C. Allocates nothing; never fails for valid arguments. */
void nn__gemm(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The reference kernel behind NN__GEMM_REF. */
void nn__gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);

/* --------------------------------------------------------- helpers */

bool nn__mat_ok(const nn_mat *m); /* non-NULL, rows > 0, cols > 0, data non-NULL */
size_t nn__mat_size(const nn_mat *m);
int nn__argmax(const float *x, int n); /* first index of the largest of x[0..n) */

bool nn__act_valid(nn_act act);
float nn__act_param(nn_act act, float param); /* the parameter with its default applied */
float nn__sigmoid(float z);
void nn__act_forward(nn_act act, float param, int B, int O, const float *Z, float *A);
void nn__act_backward(nn_act act, float param, int B, int O, const float *Z, const float *A,
                      const float *dA, float *dZ);

bool nn__loss_valid(nn_loss loss);
/* The loss that AUTO means for this output activation; NN_ERR_LOSS_ACT if they do not fit. */
nn_status nn__loss_resolve(nn_loss loss, nn_act out_act, nn_loss *resolved);
/* True when Y holds class indices (B, 1) rather than rows of the output's shape. */
bool nn__loss_uses_indices(nn_loss loss, int O, int ycols);
/* Y's shape and values suit the (resolved) loss: NN_ERR_SHAPE / NN_ERR_LABEL otherwise. */
nn_status nn__loss_check_targets(nn_loss loss, int B, int O, const float *Y, int ycols);
/* The mean loss of a batch (targets already checked); dOut (B, O) receives its gradient if
 * not NULL; *correct (if not NULL) the hits: rows whose argmax is the label (CE),
 * elements on the right side of 0.5 (BCE), none (MSE). */
double nn__loss(nn_loss loss, int B, int O, const float *Out, const float *Y, int ycols,
                float *dOut, long *correct);

bool nn__init_valid(nn_init init);
nn_init nn__init_resolve(nn_init init, nn_act act);
void nn__init_fill(float *W, int fan_out, int fan_in, nn_init init, float param, nn_rng *rng);

/* ----------------------------------------------------------- model */

/* Shape letters: B batch rows (at most cap), I a layer's inputs, O its outputs. */
typedef struct nn__layer {
    int n_in, n_out;
    nn_act act;
    float act_param; /* with its default applied */
    float *W, *dW;   /* (O, I), into the model's params / grads */
    float *b, *db;   /* (O) */
    float *Z;        /* (cap, O) pre-activations of the last forward */
    float *A;        /* (cap, O) activations; == Z for a linear layer */
    float *dZ;       /* (cap, O) gradient scratch: dL/dA, then dL/dZ in place */
} nn__layer;

struct nn_model {
    int n_in, n_layers;
    nn__layer *layers; /* (n_layers) */
    size_t n_params;
    float *params;     /* (n_params): W0, b0, W1, b1, ... */
    float *grads;      /* (n_params), laid out as params */
    int cap;           /* batch rows the workspace holds */
    float *work;       /* the workspace: X, then every layer's Z, A, dZ */
    size_t work_bytes;
    float *X;          /* (cap, n_in) the input kept for backward */
    int batch;         /* rows of the last forward whose state backward may use; 0: none */
    nn_alloc_fn alloc;
    void *alloc_user;
};

void *nn__alloc(nn_model *m, void *ptr, size_t osize, size_t nsize);
/* Grows the workspace to hold B rows; NN_ERR_NOMEM leaves the model as it was. Any growth
 * forgets the last forward (batch = 0). */
nn_status nn__reserve(nn_model *m, int B);
/* Runs X (B, n_in) forward through every layer (B <= cap); X may be m->X or caller memory. */
void nn__forward(nn_model *m, const float *X, int B);
/* What nn__backward does with the gradients. */
typedef enum nn__grad_mode {
    NN__LOSS_ONLY, /* only the loss: no back-propagation */
    NN__GRAD_SET,  /* dW, db = this batch's gradient (no zero_grad pass needed) */
    NN__GRAD_ADD,  /* dW, db += this batch's gradient */
} nn__grad_mode;
/* Loss of the last forward (B rows) against Y, and the gradients as mode says. X is the
 * input of that forward. The loss is resolved and Y checked by the caller. */
double nn__backward(nn_model *m, const float *X, int B, const float *Y, int ycols,
                    nn_loss loss, nn__grad_mode mode, long *correct);
/* Checks X, Y and the loss against the model: shapes, label values; resolves the loss. */
nn_status nn__check_data(const nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                         nn_loss *resolved);
static inline const nn__layer *nn__out_layer(const nn_model *m)
{
    return &m->layers[m->n_layers - 1];
}

#endif /* NN_INTERNAL_H */
