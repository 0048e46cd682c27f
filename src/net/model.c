/* The network's life: creating it (dense layers over one flat parameter buffer and one flat
 * gradient buffer), its views, its workspace, and the check of data against it. The passes
 * through it are dense.c's and step.c's.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs, P parameters. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "net/net.h"

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
    void *user;
    nn_alloc_fn alloc = nn__opts_alloc(opts, &user);

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

int nn_model_layer_count(const nn_model *m)
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
            (B > 1 && nn__gemm_needs_ws(true, false, O, I, B)) || /* B = 1: outer products */
            (B > 0 && l > 0 && nn__gemm_needs_ws(false, false, B, I, O)))
            return true;
    }
    return false;
}

/* The packing buffers, once, when a product first needs them: a model that never packs (a
 * tiny network, batch-1 inference, training one row at a time) never holds them. */
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
