/* The dense layer, Z = X·Wᵀ + b, A = g(Z), then inverted dropout while training: its forward
 * pass and its backward pass, written once for every batch size, thread count and update.
 * The backward pass has two halves, because a plain SGD step may only touch W once every
 * layer's input gradient has been taken from the weights of the forward pass:
 *   nn__dense_backward  dL/dZ, db, PReLU's ds, and dX = dZ·W for the layer below;
 *   nn__dense_weights   dZᵀ·X into the place the caller names: dW (set or added), or W
 *                       itself as W ← W − lr·dZᵀ·X.
 * The element-wise passes around the products are split over the pool by rows (or, for db,
 * by columns), never across the terms of a sum, so every float is computed as on one thread;
 * nn__pool_for keeps small blocks, such as every pass of a batch-1 step, on the caller.
 * Shape letters: B batch rows, I the layer's inputs, O its outputs. */
#include <string.h>

#include "net/net.h"

/* ------------------------------------------------------------- one row */

/* A batch of one row through a layer of up to ROW_LOOP_MAX_W weights: the products become
 * the plain dot and outer products they are at one row, whose loops cost less than the
 * products' dispatch and set-up (a 2-4-1 network's step is 17 weights and a few dozen
 * multiply-adds). Each sum runs in the order the products' small-product path takes. The
 * deterministic mode takes neither these loops nor the outer products of nn__dense_weights:
 * its products all sum in the fixed order, at one row too. */
enum { ROW_LOOP_MAX_W = 1024 };

static bool row_loops(const nn_model *m, const nn__layer *L, int B)
{
    return B == 1 && !m->deterministic && (size_t)L->n_out * L->n_in <= ROW_LOOP_MAX_W;
}

/* z = W·x + b. */
static inline void row_forward(int O, int I, const float *restrict W /* (O, I) */,
                               const float *restrict b, const float *restrict x,
                               float *restrict z)
{
    for (int j = 0; j < O; j++, W += I) {
        float sum = 0.0f;
        for (int i = 0; i < I; i++)
            sum += x[i] * W[i];
        z[j] = sum + b[j];
    }
}

/* dx = Wᵀ·dz. */
static inline void row_input_grad(int O, int I, const float *restrict W /* (O, I) */,
                                  const float *restrict dz, float *restrict dx)
{
    for (int i = 0; i < I; i++)
        dx[i] = 0.0f;
    for (int j = 0; j < O; j++, W += I)
        for (int i = 0; i < I; i++)
            dx[i] += dz[j] * W[i];
}

/* The weight product of one row, an outer product: C (O, I) = dz·xᵀ, set, added, or (step)
 * W -= lr·(dz·xᵀ). At any size the products would pack both operands to use each element
 * once; this computes the same products, one rounding each, without packing. */
static inline void outer_product(int O, int I, float *restrict C, const float *restrict dz,
                                 const float *restrict x, nn__weight_sink sink, float lr)
{
    for (int j = 0; j < O; j++, C += I)
        switch (sink) {
        case NN__SINK_SET:
            for (int i = 0; i < I; i++)
                C[i] = dz[j] * x[i];
            break;
        case NN__SINK_ADD:
            for (int i = 0; i < I; i++)
                C[i] += dz[j] * x[i];
            break;
        case NN__SINK_STEP:
            for (int i = 0; i < I; i++)
                C[i] -= lr * (dz[j] * x[i]);
            break;
        }
}

/* call(n) with n = I, a constant for the 1 to 4 inputs tiny networks' layers often have, so
 * that the inlined loops over I unroll. */
#define WITH_INPUTS(I, call)                                                               \
    switch (I) {                                                                           \
    case 1: call(1); break;                                                                \
    case 2: call(2); break;                                                                \
    case 3: call(3); break;                                                                \
    case 4: call(4); break;                                                                \
    default: call(I); break;                                                               \
    }

/* ------------------------------------------------------------- forward */

typedef struct bias_act_job {
    const nn__layer *L;
    bool activate;
} bias_act_job;

/* Rows lo..hi of Z += b, then A = g(Z) if asked. */
static void bias_act_rows(void *ctx, size_t lo, size_t hi)
{
    const bias_act_job *j = ctx;
    const nn__layer *L = j->L;
    int O = L->n_out;
    for (size_t r = lo; r < hi; r++) {
        float *z = L->Z + r * O;
        for (int k = 0; k < O; k++)
            z[k] += L->b[k];
        if (j->activate)
            nn__act_forward(L->act, L->act_param, L->s, L->n_slopes, 1, O, z, L->A + r * O);
    }
}

/* Inverted dropout: D = A·keep/(1 - p), keep ~ Bernoulli(1 - p), drawn from rng. Backward
 * draws the same mask again from the stream's saved state instead of storing it. */
static void dropout_mask(const nn__layer *L, int B, float *X /* (B, O) scaled in place */,
                         nn_rng *rng)
{
    float scale = 1.0f / (1.0f - L->dropout);
    size_t n = (size_t)B * L->n_out;
    for (size_t i = 0; i < n; i++)
        X[i] = nn_rng_uniform(rng) < L->dropout ? 0.0f : X[i] * scale;
}

void nn__dense_forward(nn_model *m, nn__layer *L, const float *X /* (B, I) */, int B,
                       bool training, bool activate)
{
    int I = L->n_in, O = L->n_out;
    if (row_loops(m, L, B)) {
#define FORWARD(n) row_forward(O, n, L->W, L->b, X, L->Z)
        WITH_INPUTS(I, FORWARD)
#undef FORWARD
        if (activate)
            nn__act_forward(L->act, L->act_param, L->s, L->n_slopes, 1, O, L->Z, L->A);
    } else {
        nn__gemm_mt(m->pool, m->gemm_ws, m->kernel, false, true, B, O, I, 1.0f, X, I, L->W,
                    I, 0.0f, L->Z, O);
        /* The bias and the activation row by row right after the product, while each row of
         * Z is still in cache. */
        bias_act_job job = {L, activate};
        nn__pool_for(m->pool, (size_t)B, 1, nn__min_items((size_t)O), bias_act_rows, &job);
    }
    if (training && L->dropout > 0.0f) {
        L->mask_rng = m->run_rng;
        memcpy(L->D, L->A, (size_t)B * O * sizeof(float));
        dropout_mask(L, B, L->D, &m->run_rng);
    }
}

const float *nn__dense_output(const nn__layer *L, bool dropped)
{
    return dropped && L->dropout > 0.0f ? L->D : L->A;
}

/* Rows lo..hi of dZ = g'(Z)·dA in place, for an activation without learned slopes. */
static void act_backward_rows(void *ctx, size_t lo, size_t hi)
{
    const nn__layer *L = ctx;
    size_t at = lo * L->n_out;
    nn__act_backward(L->act, L->act_param, NULL, 0, NULL, (int)(hi - lo), L->n_out, L->Z + at,
                     L->A + at, L->dZ + at, L->dZ + at);
}

typedef struct bias_job {
    const nn__layer *L;
    int B;
    bool accumulate;
} bias_job;

/* Columns lo..hi of db (+)= Σ_rows dZ, summed in row order as on one thread. */
static void bias_columns(void *ctx, size_t lo, size_t hi)
{
    const bias_job *j = ctx;
    int O = j->L->n_out;
    float *db = j->L->db;
    if (!j->accumulate)
        memset(db + lo, 0, (hi - lo) * sizeof *db);
    for (int r = 0; r < j->B; r++) {
        const float *dz = j->L->dZ + (size_t)r * O;
        for (size_t c = lo; c < hi; c++)
            db[c] += dz[c];
    }
}

void nn__dense_backward(nn_model *m, nn__layer *L, int B, bool have_dz, bool accumulate,
                        float *dX /* (B, I) or NULL */)
{
    int I = L->n_in, O = L->n_out;
    if (!have_dz) {
        if (m->dropped && L->dropout > 0.0f) { /* dL/dA = dL/dD · keep/(1 - p) */
            nn_rng same = L->mask_rng;
            dropout_mask(L, B, L->dZ, &same);
        }
        if (L->n_slopes) { /* ∂L/∂s sums over the rows: one thread */
            if (!accumulate)
                memset(L->ds, 0, (size_t)L->n_slopes * sizeof(float));
            nn__act_backward(L->act, L->act_param, L->s, L->n_slopes, L->ds, B, O, L->Z, L->A,
                             L->dZ, L->dZ);
        } else {
            nn__pool_for(m->pool, (size_t)B, 1, nn__min_items((size_t)O), act_backward_rows, L);
        }
    }
    if (B == 1) { /* db (+)= dz */
        for (int j = 0; j < O; j++)
            L->db[j] = accumulate ? L->db[j] + L->dZ[j] : L->dZ[j];
    } else { /* columns in runs of 16 floats (a cache line's): parts share at most one line */
        bias_job bias = {L, B, accumulate};
        nn__pool_for(m->pool, (size_t)O, 16, nn__min_items((size_t)B), bias_columns, &bias);
    }
    if (dX && row_loops(m, L, B)) {
#define INPUT_GRAD(n) row_input_grad(O, n, L->W, L->dZ, dX)
        WITH_INPUTS(I, INPUT_GRAD)
#undef INPUT_GRAD
    } else if (dX) {
        nn__gemm_mt(m->pool, m->gemm_ws, m->kernel, false, false, B, I, O, 1.0f, L->dZ, O,
                    L->W, I, 0.0f, dX, I);
    }
}

void nn__dense_weights(nn_model *m, nn__layer *L, const float *X /* (B, I) */, int B,
                       nn__weight_sink sink, float lr)
{
    int I = L->n_in, O = L->n_out;
    float *C = sink == NN__SINK_STEP ? L->W : L->dW;
    if (B == 1 && !m->deterministic) {
#define OUTER(n) outer_product(O, n, C, L->dZ, X, sink, lr)
        WITH_INPUTS(I, OUTER)
#undef OUTER
    } else {
        /* C = alpha·dZᵀ·X + beta·C: dW = (set), dW += (add), or W ← W - lr·dZᵀ·X, whose
         * product scales its sums by -lr and adds W: the arithmetic of W -= lr·dW with
         * dW = dZᵀ·X while the sums over B rows are one block (nn__gemm_one_block). */
        float alpha = sink == NN__SINK_STEP ? -lr : 1.0f;
        float beta = sink == NN__SINK_SET ? 0.0f : 1.0f;
        nn__gemm_mt(m->pool, m->gemm_ws, m->kernel, true, false, O, I, B, alpha, L->dZ, O, X,
                    I, beta, C, I);
    }
    if (sink == NN__SINK_STEP) { /* and b, s from db, ds: plain SGD's one formula */
        nn__plain_sgd(L->b, L->db, (size_t)O, lr);
        if (L->n_slopes)
            nn__plain_sgd(L->s, L->ds, (size_t)L->n_slopes, lr);
    }
}
