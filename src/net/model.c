/* The network: dense layers over one flat parameter buffer and one flat gradient buffer,
 * and the forward and backward passes through them.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs, P parameters. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

void *nn__alloc(nn_model *m, void *ptr, size_t osize, size_t nsize)
{
    return m->alloc(m->alloc_user, ptr, osize, nsize);
}

static bool spec_ok(const nn_layer_spec *s)
{
    return s->units > 0 && nn__act_valid(s->act) && isfinite(s->act_param) &&
           nn__init_valid(s->init) && isfinite(s->init_param) && s->init_param >= 0.0f &&
           s->dropout >= 0.0f && s->dropout < 1.0f;
}

/* Counts the parameters of the specs, or returns 0 if any spec is invalid or the count
 * would not fit the buffers we can address. */
static size_t count_params(int n_in, const nn_layer_spec *layers, int n_layers)
{
    const size_t limit = (SIZE_MAX / 2 - 64) / sizeof(float);
    size_t total = 0, I = (size_t)n_in;
    for (int l = 0; l < n_layers; l++) {
        if (!spec_ok(&layers[l]) || (l == n_layers - 1 && layers[l].dropout > 0.0f))
            return 0;
        size_t O = (size_t)layers[l].units;
        if (I > (limit - total) / (O + 2) || O * I > INT_MAX)
            return 0;
        total += O * I + O + (size_t)nn__act_slopes(layers[l].act, (int)O);
        I = O;
    }
    return total;
}

nn_status nn_model_create(int n_in, const nn_layer_spec *layers, int n_layers,
                          const nn_model_opts *opts, nn_model **out)
{
    if (n_in <= 0 || !layers || n_layers <= 0 || !out)
        return NN_ERR_INVALID_ARG;
    size_t P = count_params(n_in, layers, n_layers);
    if (P == 0)
        return NN_ERR_INVALID_ARG;
    int threads = opts ? opts->threads : 0;
    if (threads < 0 || threads > NN__MAX_THREADS)
        return NN_ERR_INVALID_ARG;
    nn_alloc_fn alloc = opts && opts->alloc ? opts->alloc : nn__default_alloc;
    void *user = opts && opts->alloc ? opts->alloc_user : NULL;

    nn_model *m = alloc(user, NULL, 0, sizeof *m);
    if (!m)
        return NN_ERR_NOMEM;
    memset(m, 0, sizeof *m);
    m->alloc = alloc;
    m->alloc_user = user;
    m->n_in = n_in;
    m->n_layers = n_layers;
    m->n_params = P;
    m->layers = nn__alloc(m, NULL, 0, (size_t)n_layers * sizeof *m->layers);
    m->params = nn__alloc(m, NULL, 0, 2 * P * sizeof(float)); /* params, then grads */
    if (!m->layers || !m->params) {
        nn_model_destroy(m);
        return NN_ERR_NOMEM;
    }
    nn_status ps = nn__pool_create(alloc, user, threads, &m->pool);
    if (ps != NN_OK) {
        nn_model_destroy(m);
        return ps;
    }
    m->grads = m->params + P;
    memset(m->grads, 0, P * sizeof(float));

    nn_rng rng;
    nn_rng_seed(&rng, opts ? opts->seed : 0);
    /* The training stream (shuffles, dropout) of own loops; nn_train reseeds it per run. */
    nn_rng_seed(&m->run_rng, (opts ? opts->seed : 0) ^ 0x72756e5f73747265ull);
    float *p = m->params, *g = m->grads;
    for (int l = 0, I = n_in; l < n_layers; I = layers[l].units, l++) {
        const nn_layer_spec *s = &layers[l];
        nn__layer *L = &m->layers[l];
        int O = s->units;
        *L = (nn__layer){.n_in = I, .n_out = O, .act = s->act,
                         .act_param = nn__act_param(s->act, s->act_param),
                         .dropout = s->dropout,
                         .W = p, .dW = g, .b = p + (size_t)O * I, .db = g + (size_t)O * I};
        nn__init_fill(L->W, O, I, nn__init_resolve(s->init, s->act), s->init_param, &rng);
        memset(L->b, 0, (size_t)O * sizeof(float));
        L->n_slopes = nn__act_slopes(s->act, O);
        if (L->n_slopes) { /* PReLU: the slopes follow b, all starting at act_param */
            L->s = L->b + O;
            L->ds = L->db + O;
            for (int k = 0; k < L->n_slopes; k++)
                L->s[k] = L->act_param;
        }
        p += (size_t)O * I + O + L->n_slopes;
        g += (size_t)O * I + O + L->n_slopes;
    }
    *out = m;
    return NN_OK;
}

/* The products' packing buffers (nn__reserve). */
static void free_gemm_ws(nn_model *m)
{
    nn__alloc(m, m->gemm_ws, m->gemm_ws_bytes, 0);
    m->gemm_ws = NULL;
    m->gemm_ws_bytes = 0;
}

void nn_model_destroy(nn_model *m)
{
    if (!m)
        return;
    nn__pool_destroy(m->pool);
    nn__alloc(m, m->work, m->work_bytes, 0);
    free_gemm_ws(m);
    nn__meta_free_all(m);
    nn__optim_free(m);
    if (m->params)
        nn__alloc(m, m->params, 2 * m->n_params * sizeof(float), 0);
    if (m->layers)
        nn__alloc(m, m->layers, (size_t)m->n_layers * sizeof *m->layers, 0);
    m->alloc(m->alloc_user, m, sizeof *m, 0);
}

int nn_model_inputs(const nn_model *m)
{
    return m ? m->n_in : 0;
}

int nn_model_outputs(const nn_model *m)
{
    return m ? nn__out_layer(m)->n_out : 0;
}

int nn_model_layers(const nn_model *m)
{
    return m ? m->n_layers : 0;
}

nn_status nn_model_layer(nn_model *m, int layer, nn_layer_view *view)
{
    if (!m || !view || layer < 0 || layer >= m->n_layers)
        return NN_ERR_INVALID_ARG;
    const nn__layer *L = &m->layers[layer];
    *view = (nn_layer_view){.n_in = L->n_in, .n_out = L->n_out, .act = L->act,
                            .act_param = L->act_param, .dropout = L->dropout,
                            .W = nn_mat_wrap(L->W, L->n_out, L->n_in),
                            .dW = nn_mat_wrap(L->dW, L->n_out, L->n_in),
                            .b = nn_mat_wrap(L->b, 1, L->n_out),
                            .db = nn_mat_wrap(L->db, 1, L->n_out),
                            .s = nn_mat_wrap(L->s, L->n_slopes > 0, L->n_slopes),
                            .ds = nn_mat_wrap(L->ds, L->n_slopes > 0, L->n_slopes)};
    return NN_OK;
}

size_t nn_model_params(nn_model *m, float **params, float **grads)
{
    if (!m)
        return 0;
    if (params)
        *params = m->params;
    if (grads)
        *grads = m->grads;
    return m->n_params;
}

/* ------------------------------------------------------------ workspace */

/* How many (cap, O) buffers a layer keeps in the workspace. */
static size_t layer_buffers(const nn__layer *L)
{
    return 2 + (L->act != NN_ACT_LINEAR) + (L->dropout > 0.0f);
}

/* Whether a product of a forward pass of `rows` rows, or of a backward pass of
 * `backward_rows` rows (0: none), packs its operands. Each layer computes Z = X·Wᵀ
 * (B, O, I) forward, and dW = dZᵀ·X (O, I, B) and, above the first, dX = dZ·W (B, I, O)
 * backward. */
static bool products_need_ws(const nn_model *m, int rows, int backward_rows)
{
    int B = backward_rows;
    for (int l = 0; l < m->n_layers; l++) {
        int O = m->layers[l].n_out, I = m->layers[l].n_in;
        if (nn__gemm_needs_ws(false, true, rows, O, I) ||
            (B > 0 && nn__gemm_needs_ws(true, false, O, I, B)) ||
            (B > 0 && l > 0 && nn__gemm_needs_ws(false, false, B, I, O)))
            return true;
    }
    return false;
}

/* The packing buffers, once, when a product first needs them: a model that never packs (a
 * tiny network, batch-1 inference, per-sample training) never holds them. */
static nn_status reserve_gemm_ws(nn_model *m, int rows, int backward_rows)
{
    if (m->gemm_ws || !products_need_ws(m, rows, backward_rows))
        return NN_OK;
    size_t bytes = (size_t)nn__pool_threads(m->pool) * nn__gemm_ws_floats() * sizeof(float);
    m->gemm_ws = nn__alloc(m, NULL, 0, bytes);
    if (!m->gemm_ws)
        return NN_ERR_NOMEM;
    m->gemm_ws_bytes = bytes;
    return NN_OK;
}

nn_status nn__reserve(nn_model *m, int B, int backward_rows)
{
    /* A forward pass may run on any number of rows up to the capacity (nn_predict's chunks). */
    bool had_ws = m->gemm_ws != NULL;
    if (reserve_gemm_ws(m, B > m->cap ? B : m->cap, backward_rows) != NN_OK)
        return NN_ERR_NOMEM;
    if (B <= m->cap)
        return NN_OK;
    /* Floats per batch row: the input, then Z, dZ, A (unless linear) and D (with dropout)
     * of every layer. */
    size_t per_row = (size_t)m->n_in;
    for (int l = 0; l < m->n_layers; l++)
        per_row += (size_t)m->layers[l].n_out * layer_buffers(&m->layers[l]);
    /* realloc-shaped: on failure the old workspace is untouched and still laid out. */
    size_t bytes = (size_t)B <= SIZE_MAX / sizeof(float) / per_row
                       ? (size_t)B * per_row * sizeof(float) : 0;
    float *work = bytes ? nn__alloc(m, m->work, m->work_bytes, bytes) : NULL;
    if (!work) {
        if (!had_ws) /* the model as it was */
            free_gemm_ws(m);
        return NN_ERR_NOMEM;
    }
    m->work = work;
    m->work_bytes = bytes;
    m->cap = B;
    m->batch = 0;
    m->X = work;
    work += (size_t)B * m->n_in;
    for (int l = 0; l < m->n_layers; l++) {
        nn__layer *L = &m->layers[l];
        size_t n = (size_t)B * L->n_out;
        L->Z = work;
        L->dZ = work + n;
        L->A = L->act == NN_ACT_LINEAR ? L->Z : work + 2 * n;
        L->D = L->dropout > 0.0f ? work + (layer_buffers(L) - 1) * n : NULL;
        work += layer_buffers(L) * n;
    }
    return NN_OK;
}

/* ------------------------------------------------------ forward, backward */

/* The element-wise passes around the products are split over the pool by rows (or, for db,
 * by columns), never across the terms of a sum, so every float is computed as on one thread;
 * nn__pool_for keeps small blocks on the caller. */

/* Rows lo..hi of Z += b, A = g(Z). */
static void forward_rows(void *ctx, size_t lo, size_t hi)
{
    const nn__layer *L = ctx;
    int O = L->n_out;
    for (size_t r = lo; r < hi; r++) {
        float *z = L->Z + r * O;
        for (int j = 0; j < O; j++)
            z[j] += L->b[j];
        float *a = L->A + r * O;
        if (L->n_slopes) /* PReLU: slope s_j (one shared, or one per unit) */
            for (int j = 0; j < O; j++)
                a[j] = z[j] > 0.0f ? z[j] : L->s[L->n_slopes > 1 ? j : 0] * z[j];
        else
            nn__act_forward(L->act, L->act_param, 1, O, z, a);
    }
}

/* Z = X·Wᵀ + b, A = g(Z). The bias and the activation are applied row by row right after
 * the product, while each row of Z is still in cache. */
static void dense_forward(nn__pool *pool, float *ws, nn__layer *L, const float *X /* (B, I) */,
                          int B)
{
    int I = L->n_in, O = L->n_out;
    nn__gemm_mt(pool, ws, NN__GEMM_AUTO, false, true, B, O, I, 1.0f, X, I, L->W, I, 0.0f, L->Z,
                O);
    nn__pool_for(pool, (size_t)B, 1, nn__min_items((size_t)O), forward_rows, L);
}

/* Rows lo..hi of dZ = g'(Z)·dA (no learned slopes), in place. */
static void backward_rows(void *ctx, size_t lo, size_t hi)
{
    const nn__layer *L = ctx;
    size_t at = lo * L->n_out;
    nn__act_backward(L->act, L->act_param, (int)(hi - lo), L->n_out, L->Z + at, L->A + at,
                     L->dZ + at, L->dZ + at);
}

/* dZ = g'(Z)·dA, in place in L->dZ; PReLU also gives its slopes' gradient (set or added):
 * ∂L/∂s = Σ over outputs with z <= 0 of z·∂L/∂a. That sum runs over the rows, so PReLU
 * stays on one thread. */
static void act_backward(nn__pool *pool, nn__layer *L, int B, bool accumulate)
{
    int O = L->n_out;
    if (!L->n_slopes) {
        nn__pool_for(pool, (size_t)B, 1, nn__min_items((size_t)O), backward_rows, L);
        return;
    }
    if (!accumulate)
        memset(L->ds, 0, (size_t)L->n_slopes * sizeof(float));
    for (int r = 0; r < B; r++) {
        const float *z = L->Z + (size_t)r * O;
        float *dz = L->dZ + (size_t)r * O;
        for (int j = 0; j < O; j++) {
            int k = L->n_slopes > 1 ? j : 0;
            if (z[j] <= 0.0f) {
                L->ds[k] += z[j] * dz[j];
                dz[j] *= L->s[k];
            }
        }
    }
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

/* Given dZ = dL/dZ in L->dZ: db (+)= Σ_rows dZ, and dX = dZ·W if dX is wanted (the first
 * layer's input gradient is never needed). The weights' own gradient is weight_product's. */
static void dense_backward(nn__pool *pool, float *ws, nn__layer *L, int B,
                           float *dX /* (B, I) or NULL */, bool accumulate)
{
    int I = L->n_in, O = L->n_out;
    /* Columns in runs of 16 floats (a cache line's worth): the parts share at most one line. */
    bias_job bias = {L, B, accumulate};
    nn__pool_for(pool, (size_t)O, 16, nn__min_items((size_t)B), bias_columns, &bias);
    if (dX)
        nn__gemm_mt(pool, ws, NN__GEMM_AUTO, false, false, B, I, O, 1.0f, L->dZ, O, L->W, I,
                    0.0f, dX, I);
}

/* C = alpha·dZᵀ·X + beta·C (O, I), for C = dW (alpha 1: the gradient, set or added) or
 * C = W (alpha -lr, beta 1: a plain SGD step that never stores dW). */
static void weight_product(nn__pool *pool, float *ws, const nn__layer *L,
                           const float *X /* (B, I) */, int B, float alpha, float beta,
                           float *C)
{
    int I = L->n_in, O = L->n_out;
    nn__gemm_mt(pool, ws, NN__GEMM_AUTO, true, false, O, I, B, alpha, L->dZ, O, X, I, beta, C,
                I);
}

/* Inverted dropout: D = A·keep/(1 - p), keep ~ Bernoulli(1 - p). The stream's state is
 * saved first, so backward can draw the same mask again instead of storing it. */
static void dropout_mask(nn__layer *L, int B, float *X /* (B, O) scaled in place */,
                         nn_rng *rng)
{
    float scale = 1.0f / (1.0f - L->dropout);
    size_t n = (size_t)B * L->n_out;
    for (size_t i = 0; i < n; i++)
        X[i] = nn_rng_uniform(rng) < L->dropout ? 0.0f : X[i] * scale;
}

/* What layer L hands the next layer: its dropped-out output in a training forward. */
static const float *layer_output(const nn__layer *L, bool dropped)
{
    return dropped && L->dropout > 0.0f ? L->D : L->A;
}

void nn__forward(nn_model *m, const float *X, int B, bool training)
{
    const float *in = X;
    for (int l = 0; l < m->n_layers; l++) {
        nn__layer *L = &m->layers[l];
        dense_forward(m->pool, m->gemm_ws, L, in, B);
        if (training && L->dropout > 0.0f) {
            L->mask_rng = m->run_rng;
            memcpy(L->D, L->A, (size_t)B * L->n_out * sizeof(float));
            dropout_mask(L, B, L->D, &m->run_rng);
        }
        in = layer_output(L, training);
    }
    m->dropped = training;
}

/* The loss of the last forward against Y and, if backprop, its gradient with respect to the
 * output layer's Z, in that layer's dZ (set, or added if accumulate). */
static double output_delta(nn_model *m, int B, const float *Y, int ycols, nn_loss loss,
                           bool backprop, bool accumulate, long *correct)
{
    nn__layer *out = &m->layers[m->n_layers - 1];
    /* CE and BCE are taken from the logits, fused with their activation: dZ = (a - y)/n
     * comes straight out of the loss. MSE is taken on A and chained through g'. */
    bool on_logits = loss != NN_LOSS_MSE;
    double value = nn__loss_mt(m->pool, loss, B, out->n_out, on_logits ? out->Z : out->A, Y,
                               ycols, backprop ? out->dZ : NULL, correct);
    if (backprop && !on_logits)
        act_backward(m->pool, out, B, accumulate);
    return value;
}

/* From the output layer's dZ down: every layer's dZ, db and (PReLU) ds. Each dX = dZ·W uses
 * the weights as they were in the forward pass, so all of them come before any step. */
static void backward_deltas(nn_model *m, int B, bool accumulate)
{
    for (int l = m->n_layers - 1; l >= 0; l--) {
        nn__layer *L = &m->layers[l], *prev = l > 0 ? &m->layers[l - 1] : NULL;
        dense_backward(m->pool, m->gemm_ws, L, B, prev ? prev->dZ : NULL, accumulate);
        if (!prev)
            continue;
        if (m->dropped && prev->dropout > 0.0f) { /* dL/dA = dL/dD · keep/(1 - p) */
            nn_rng same = prev->mask_rng;
            dropout_mask(prev, B, prev->dZ, &same);
        }
        act_backward(m->pool, prev, B, accumulate); /* dL/dA → dL/dZ in place */
    }
}

/* The input of layer l in the last forward pass. */
static const float *layer_input(const nn_model *m, const float *X, int l)
{
    return l > 0 ? layer_output(&m->layers[l - 1], m->dropped) : X;
}

/* Every layer's dW (+)= dZᵀ·X, after backward_deltas. */
static void weight_grads(nn_model *m, const float *X, int B, bool accumulate)
{
    for (int l = 0; l < m->n_layers; l++)
        weight_product(m->pool, m->gemm_ws, &m->layers[l], layer_input(m, X, l), B, 1.0f,
                       accumulate ? 1.0f : 0.0f, m->layers[l].dW);
}

double nn__backward(nn_model *m, const float *X, int B, const float *Y, int ycols,
                    nn_loss loss, nn__grad_mode mode, long *correct)
{
    bool backprop = mode != NN__LOSS_ONLY, accumulate = mode == NN__GRAD_ADD;
    double value = output_delta(m, B, Y, ycols, loss, backprop, accumulate, correct);
    if (!backprop)
        return value;
    backward_deltas(m, B, accumulate);
    weight_grads(m, X, B, accumulate);
    return value;
}

bool nn__backward_sgd(nn_model *m, const float *X, int B, const float *Y, int ycols,
                      nn_loss loss, float lr, double *value, long *correct)
{
    *value = output_delta(m, B, Y, ycols, loss, true, false, correct);
    backward_deltas(m, B, false);
    if (!isfinite(*value) || !nn__grads_surely_finite(m, X, B)) {
        weight_grads(m, X, B, false); /* for the caller to scan and step */
        return false;
    }
    for (int l = 0; l < m->n_layers; l++) {
        nn__layer *L = &m->layers[l];
        /* W ← W - lr·dZᵀ·X: the product scales its sums by -lr and adds W, the arithmetic of
         * W -= lr·dW with dW = dZᵀ·X (see test_train_equals_manual_loop for its rounding). */
        weight_product(m->pool, m->gemm_ws, L, layer_input(m, X, l), B, -lr, 1.0f, L->W);
        nn__plain_sgd(L->b, L->db, (size_t)L->n_out, lr);
        nn__plain_sgd(L->s, L->ds, (size_t)L->n_slopes, lr);
    }
    return true;
}

/* max(max, the bits of |v| as an integer). */
static inline int32_t max_bits(int32_t max, float v)
{
    int32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= 0x7fffffff;
    return bits > max ? bits : max;
}

/* The bits of max |v_i| over n values, as an integer: at least 0x7f800000 (those of +inf)
 * exactly when some v_i is infinite or NaN. The bit patterns of |v| order as their values do
 * and NaN's lie above infinity's, so an integer max serves; a signed one, because SSE2 (the
 * x86-64 baseline) compares signed 32-bit integers only. LANES running maxima, which the
 * compiler keeps in several vectors: one would be a chain of dependent compares (half the
 * speed, measured). */
static int32_t max_abs_bits(const float *v, size_t n)
{
    enum { LANES = 16 };
    int32_t lane[LANES] = {0}, max = 0;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            lane[l] = max_bits(lane[l], v[i + l]);
    for (; i < n; i++)
        max = max_bits(max, v[i]);
    for (int l = 0; l < LANES; l++)
        max = lane[l] > max ? lane[l] : max;
    return max;
}

static double bits_value(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

bool nn__grads_surely_finite(const nn_model *m, const float *X, int B)
{
    /* A sum of B terms of magnitude at most t, rounded at each step, stays below
     * B·t·(1 + 2^-24)^B <= B·t·1.07 while B <= 2^20. */
    if (B > 1 << 20)
        return false;
    const double limit = FLT_MAX / (1.07 * B);
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        const float *in = layer_input(m, X, l);
        int32_t dz = max_abs_bits(L->dZ, (size_t)B * L->n_out);
        int32_t x = max_abs_bits(in, (size_t)B * L->n_in);
        if (dz >= 0x7f800000 || x >= 0x7f800000)
            return false;
        double dz_max = bits_value(dz), x_max = bits_value(x);
        if (dz_max * x_max >= limit || dz_max >= limit) /* dW = dZᵀ·X, db = Σ_rows dZ */
            return false;
        if (L->n_slopes && max_abs_bits(L->ds, (size_t)L->n_slopes) >= 0x7f800000)
            return false;
    }
    return true;
}

nn_status nn__check_data(const nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                         nn_loss *resolved)
{
    if (!nn__mat_ok(X) || !nn__mat_ok(Y))
        return NN_ERR_INVALID_ARG;
    if (X->cols != m->n_in || Y->rows != X->rows)
        return NN_ERR_SHAPE;
    const nn__layer *out = nn__out_layer(m);
    nn_status s = nn__loss_resolve(loss, out->act, resolved);
    if (s == NN_OK)
        s = nn__loss_check_targets(*resolved, Y->rows, out->n_out, Y->data, Y->cols);
    return s;
}

/* ----------------------------------------------------- the step, public */

nn_status nn_forward(nn_model *m, const nn_mat *X, nn_mat *Out)
{
    if (!m || !nn__mat_ok(X) || (Out && !nn__mat_ok(Out)))
        return NN_ERR_INVALID_ARG;
    int B = X->rows, O = nn__out_layer(m)->n_out;
    if (X->cols != m->n_in || (Out && (Out->rows != B || Out->cols != O)))
        return NN_ERR_SHAPE;
    nn_status s = nn__reserve(m, B, B); /* nn_backward may follow */
    if (s != NN_OK)
        return s;
    memcpy(m->X, X->data, nn__mat_size(X) * sizeof(float));
    nn__forward(m, m->X, B, true);
    m->batch = B;
    if (Out)
        memcpy(Out->data, nn__out_layer(m)->A, (size_t)B * O * sizeof(float));
    return NN_OK;
}

nn_status nn_backward(nn_model *m, const nn_mat *Y, nn_loss loss, float *loss_value)
{
    if (!m || !nn__mat_ok(Y))
        return NN_ERR_INVALID_ARG;
    if (m->batch == 0)
        return NN_ERR_STATE;
    nn_mat X = nn_mat_wrap(m->X, m->batch, m->n_in);
    nn_status s = nn__check_data(m, &X, Y, loss, &loss);
    if (s != NN_OK)
        return s;
    double value = nn__backward(m, m->X, m->batch, Y->data, Y->cols, loss, NN__GRAD_ADD, NULL);
    if (loss_value)
        *loss_value = (float)value;
    return NN_OK;
}

nn_status nn_zero_grad(nn_model *m)
{
    if (!m)
        return NN_ERR_INVALID_ARG;
    memset(m->grads, 0, m->n_params * sizeof(float));
    return NN_OK;
}

nn_status nn_sgd_step(nn_model *m, float learning_rate)
{
    if (!m || !isfinite(learning_rate) || learning_rate < 0.0f)
        return NN_ERR_INVALID_ARG;
    nn__plain_sgd(m->params, m->grads, m->n_params, learning_rate);
    return NN_OK;
}

/* ------------------------------------------------------- gradient check */

nn_status nn_grad_check(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss, float h,
                        size_t max_params, double *worst_rel_error)
{
    if (!m || !worst_rel_error || !isfinite(h) || h < 0.0f)
        return NN_ERR_INVALID_ARG;
    nn_status s = nn__check_data(m, X, Y, loss, &loss);
    if (s == NN_OK)
        s = nn__reserve(m, X->rows, X->rows);
    if (s != NN_OK)
        return s;
    size_t P = m->n_params, bytes = P * sizeof(float);
    float *saved_grads = nn__alloc(m, NULL, 0, bytes);
    if (!saved_grads)
        return NN_ERR_NOMEM;
    memcpy(saved_grads, m->grads, bytes);
    if (h == 0.0f)
        h = 1e-3f;
    int B = X->rows;

    nn__forward(m, X->data, B, false);
    nn__backward(m, X->data, B, Y->data, Y->cols, loss, NN__GRAD_SET, NULL);

    size_t count = max_params > 0 && max_params < P ? max_params : P;
    double worst = 0.0;
    for (size_t k = 0; k < count; k++) {
        size_t i = (size_t)((double)k * (double)P / (double)count); /* spread over all layers */
        float p = m->params[i], plus = p + h, minus = p - h;
        m->params[i] = plus;
        nn__forward(m, X->data, B, false);
        double loss_plus =
            nn__backward(m, X->data, B, Y->data, Y->cols, loss, NN__LOSS_ONLY, NULL);
        m->params[i] = minus;
        nn__forward(m, X->data, B, false);
        double loss_minus =
            nn__backward(m, X->data, B, Y->data, Y->cols, loss, NN__LOSS_ONLY, NULL);
        m->params[i] = p;
        /* Divide by the step actually taken: p ± h is rounded to float. */
        double fd = (loss_plus - loss_minus) / ((double)plus - (double)minus);
        double g = m->grads[i];
        double scale = fmax(fmax(fabs(g), fabs(fd)), 1e-3);
        double err = fabs(g - fd) / scale;
        if (isnan(err)) /* a NaN gradient or loss is the worst error there is */
            err = INFINITY;
        if (err > worst)
            worst = err;
    }
    memcpy(m->grads, saved_grads, bytes);
    nn__alloc(m, saved_grads, bytes, 0);
    m->batch = 0; /* the workspace no longer holds a forward of the caller's */
    *worst_rel_error = worst;
    return NN_OK;
}
