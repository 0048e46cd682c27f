/* The network's life: creating it (dense layers over one flat parameter buffer and one flat
 * gradient buffer), its views, its workspace, and the check of data against it. The passes
 * through it are dense.c's and step.c's.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs, P parameters. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "net/net.h"

/* Checks layer l's spec: 0, or a failure described in msg. */
static nn_status check_spec(const nn_layer_spec *s, int l, bool last, char *msg)
{
    const char *fn = "nn_model_create";
    if (s->units <= 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].units is %d; a layer needs "
                        "at least 1 unit", fn, l, s->units);
    if (!nn__act_valid(s->act))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].act is %d, not an nn_act "
                        "(0 .. %d)", fn, l, (int)s->act, (int)NN_ACT_PRELU_UNITS);
    if (!isfinite(s->act_param))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].act_param is %g; it must be "
                        "finite", fn, l, (double)s->act_param);
    if (!nn__init_valid(s->init))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].init is %d, not an nn_init "
                        "(0 .. %d)", fn, l, (int)s->init, (int)NN_INIT_ZEROS);
    if (!(isfinite(s->init_param) && s->init_param >= 0.0f))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].init_param is %g; it must be "
                        "finite and >= 0", fn, l, (double)s->init_param);
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].dropout is %g; it must be in "
                        "[0, 1)", fn, l, (double)s->dropout);
    if (last && s->dropout > 0.0f)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: layers[%d].dropout is %g, but the last "
                        "layer (the output) cannot drop", fn, l, (double)s->dropout);
    return NN_OK;
}

/* Checks the specs and counts their parameters into *count, refusing a count that would not
 * fit the buffers we can address. */
static nn_status count_params(int n_in, const nn_layer_spec *layers, int n_layers,
                              size_t *count, char *msg)
{
    const size_t limit = (SIZE_MAX / 2 - 64) / sizeof(float);
    size_t total = 0, I = (size_t)n_in;
    for (int l = 0; l < n_layers; l++) {
        nn_status s = check_spec(&layers[l], l, l == n_layers - 1, msg);
        if (s != NN_OK)
            return s;
        size_t O = (size_t)layers[l].units;
        if (I > (limit - total) / (O + 2) || O * I > INT_MAX)
            return nn__fail(msg, NN_ERR_INVALID_ARG, "nn_model_create: layers[%d] is %zu x %zu "
                            "weights, more than one layer or model can address", l, O, I);
        total += O * I + O + (size_t)nn__act_slopes(layers[l].act, (int)O);
        I = O;
    }
    *count = total;
    return NN_OK;
}

/* The products' kernel opts ask for, resolved (never AUTO; a FIXED one in the deterministic
 * mode), into *k; NN_ERR_UNSUPPORTED if this build or this CPU cannot run it, or cannot keep
 * the deterministic mode's promise for these layers. */
static nn_status choose_kernel(const nn_model_opts *opts, const nn_layer_spec *layers,
                               int n_layers, nn__gemm_kernel *k, char *msg)
{
    nn_kernel want = opts ? opts->kernel : NN_KERNEL_AUTO;
    switch (want) {
    case NN_KERNEL_AUTO: *k = NN__GEMM_AUTO; break;
    case NN_KERNEL_PORTABLE: *k = NN__GEMM_PORTABLE; break;
    case NN_KERNEL_AVX2: *k = NN__GEMM_AVX2; break;
    case NN_KERNEL_AVX512: *k = NN__GEMM_AVX512; break;
    case NN_KERNEL_NEON: *k = NN__GEMM_NEON; break;
    default:
        return nn__fail(msg, NN_ERR_INVALID_ARG, "nn_model_create: opts.kernel is %d, not an "
                        "nn_kernel (0 .. %d)", (int)want, (int)NN_KERNEL_NEON);
    }
    if (!nn__gemm_available(*k))
        return nn__fail(msg, NN_ERR_UNSUPPORTED, "nn_model_create: opts.kernel is %s, but %s",
                        nn_kernel_name(want), nn__gemm_missing(*k));
    *k = nn__gemm_resolve(*k);
    if (!opts || !opts->deterministic)
        return NN_OK;
    *k = nn__gemm_fixed_of(*k);
#if defined(__FAST_MATH__)
    return nn__fail(msg, NN_ERR_UNSUPPORTED, "nn_model_create: opts.deterministic is true, but "
                    "libnn was built with -ffast-math, which lets the compiler reorder sums");
#endif
    if (FLT_EVAL_METHOD != 0)
        return nn__fail(msg, NN_ERR_UNSUPPORTED, "nn_model_create: opts.deterministic is true, "
                        "but this build evaluates float in wider precision (FLT_EVAL_METHOD "
                        "%d, x87)", (int)FLT_EVAL_METHOD);
    for (int l = 0; l < n_layers; l++)
        if (layers[l].act == NN_ACT_GELU)
            return nn__fail(msg, NN_ERR_UNSUPPORTED, "nn_model_create: opts.deterministic is "
                            "true, but layers[%d] is GELU, whose erf and exp come from libm, "
                            "which need not give the same bits on every CPU", l);
    return NN_OK;
}

static nn_status create(int n_in, const nn_layer_spec *layers, int n_layers,
                        const nn_model_opts *opts, nn_model **out, char *msg)
{
    const char *fn = "nn_model_create";
    if (!out)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    if (n_in <= 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: n_in is %d; a model needs at least 1 "
                        "input", fn, n_in);
    if (!layers || n_layers <= 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s; a model needs at least 1 layer", fn,
                        layers ? "n_layers is 0 or less" : "layers is NULL");
    size_t P = 0;
    nn_status ps = count_params(n_in, layers, n_layers, &P, msg);
    if (ps != NN_OK)
        return ps;
    int threads = opts ? opts->threads : 0;
    if (threads < 0 || threads > NN__MAX_THREADS)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.threads is %d; it must be 0 .. %d",
                        fn, threads, NN__MAX_THREADS);
    nn__gemm_kernel kernel = NN__GEMM_AUTO;
    ps = choose_kernel(opts, layers, n_layers, &kernel, msg);
    if (ps != NN_OK)
        return ps;
    void *user;
    nn_alloc_fn alloc = nn__opts_alloc(opts, &user);

    /* The struct and its message buffer, in one block. */
    nn_model *m = alloc(user, NULL, 0, sizeof *m + NN_ERRMSG_SIZE);
    if (!m)
        return nn__fail(msg, NN_ERR_NOMEM, "%s: the allocator refused %zu bytes for the model",
                        fn, sizeof *m + NN_ERRMSG_SIZE);
    memset(m, 0, sizeof *m);
    m->errmsg = (char *)(m + 1);
    m->errmsg[0] = '\0';
    m->alloc = alloc;
    m->alloc_user = user;
    m->n_in = n_in;
    m->n_layers = n_layers;
    m->n_params = P;
    m->kernel = kernel;
    m->deterministic = nn__gemm_fixed(kernel);
    m->layers = nn__alloc(m, NULL, 0, (size_t)n_layers * sizeof *m->layers);
    m->params = nn__alloc(m, NULL, 0, 2 * P * sizeof(float)); /* params, then grads */
    if (!m->layers || !m->params) {
        nn_model_destroy(m);
        return nn__fail(msg, NN_ERR_NOMEM, "%s: the allocator refused %zu bytes for %zu "
                        "parameters and their gradients", fn, 2 * P * sizeof(float), P);
    }
    ps = nn__pool_create(alloc, user, threads, &m->pool);
    if (ps != NN_OK) {
        nn_model_destroy(m);
        return nn__fail(msg, ps, "%s: could not start %d threads (%s)", fn, threads - 1,
                        nn_status_message(ps));
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

nn_status nn_model_create(int n_in, const nn_layer_spec *layers, int n_layers,
                          const nn_model_opts *opts, nn_model **out)
{
    char msg[NN_ERRMSG_SIZE] = "";
    nn_status s = create(n_in, layers, n_layers, opts, out, msg);
    nn__error_set(opts ? opts->error : NULL, s, msg);
    return s;
}

const char *nn_model_errmsg(const nn_model *m)
{
    return m ? m->errmsg : "nn_model_errmsg: model is NULL";
}

const char *nn_kernel_name(nn_kernel kernel)
{
    switch (kernel) {
    case NN_KERNEL_AUTO:
        return "auto";
    case NN_KERNEL_PORTABLE:
        return "portable";
    case NN_KERNEL_AVX2:
        return "avx2";
    case NN_KERNEL_AVX512:
        return "avx512";
    case NN_KERNEL_NEON:
        return "neon";
    }
    return "unknown kernel";
}

nn_kernel nn_model_kernel(const nn_model *m)
{
    if (!m)
        return NN_KERNEL_AUTO;
    switch (m->kernel) {
    case NN__GEMM_AVX2:
    case NN__GEMM_FIXED_AVX2:
        return NN_KERNEL_AVX2;
    case NN__GEMM_AVX512:
    case NN__GEMM_FIXED_AVX512:
        return NN_KERNEL_AVX512;
    case NN__GEMM_NEON:
    case NN__GEMM_FIXED_NEON:
        return NN_KERNEL_NEON;
    default:
        return NN_KERNEL_PORTABLE;
    }
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
    m->alloc(m->alloc_user, m, sizeof *m + NN_ERRMSG_SIZE, 0);
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
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!view)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_model_layer: view is NULL");
    if (layer < 0 || layer >= m->n_layers)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_model_layer: layer is %d; the model's "
                        "layers are 0 .. %d", layer, m->n_layers - 1);
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
        nn__gemm_kernel k = m->kernel;
        bool outer = B == 1 && !m->deterministic; /* dense.c's outer products, no GEMM */
        if (nn__gemm_needs_ws(k, false, true, rows, O, I) ||
            (B > 0 && !outer && nn__gemm_needs_ws(k, true, false, O, I, B)) ||
            (B > 0 && l > 0 && nn__gemm_needs_ws(k, false, false, B, I, O)))
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

nn_status nn__bad_mat(const nn_model *m, const char *fn, const char *name, const nn_mat *M)
{
    if (!M)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: %s is NULL", fn, name);
    if (!M->data)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: %s's data is NULL", fn, name);
    return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: %s is (%d, %d); a matrix needs at "
                    "least one row and one column", fn, name, M->rows, M->cols);
}

nn_status nn__no_memory(const nn_model *m, const char *fn, const char *what)
{
    return nn__fail(m->errmsg, NN_ERR_NOMEM, "%s: the allocator refused the memory for %s",
                    fn, what);
}

/* NN_ERR_DATA if M holds a value that is not finite, naming where. */
static nn_status check_finite(const nn_model *m, const char *fn, const char *name,
                              const nn_mat *M)
{
    size_t at;
    if (!nn__find_nonfinite(M->data, nn__mat_size(M), &at))
        return NN_OK;
    return nn__fail(m->errmsg, NN_ERR_DATA, "%s: %s[%zu][%zu] is %g; the data must be finite "
                    "(bad input, not divergence: check how it was read or scaled)", fn, name, at / (size_t)M->cols, at % (size_t)M->cols,
                    (double)M->data[at]);
}

nn_status nn__check_data(const nn_model *m, const char *fn, const nn_mat *X, const char *xname,
                         const nn_mat *Y, const char *yname, nn_loss loss, nn_loss *resolved)
{
    if (!nn__mat_ok(X))
        return nn__bad_mat(m, fn, xname, X);
    if (!nn__mat_ok(Y))
        return nn__bad_mat(m, fn, yname, Y);
    if (X->cols != m->n_in)
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: %s is (%d, %d); the model takes %d "
                        "inputs, so %s must be (%d, %d)", fn, xname, X->rows, X->cols, m->n_in,
                        xname, X->rows, m->n_in);
    if (Y->rows != X->rows)
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: %s has %d rows and %s %d; both need "
                        "one row per sample", fn, yname, Y->rows, xname, X->rows);
    const nn__layer *out = nn__out_layer(m);
    nn_status s = nn__loss_resolve(loss, out->act, resolved);
    if (s == NN_ERR_INVALID_ARG)
        return nn__fail(m->errmsg, s, "%s: loss is %d, not an nn_loss (0 .. %d)", fn,
                        (int)loss, (int)NN_LOSS_CE);
    if (s != NN_OK)
        return nn__fail(m->errmsg, s, "%s: the %s loss needs a %s output layer; this model's "
                        "is %s", fn, nn__loss_name(loss),
                        loss == NN_LOSS_CE ? "softmax" : "sigmoid", nn__act_name(out->act));
    s = check_finite(m, fn, xname, X);
    if (s == NN_OK)
        s = check_finite(m, fn, yname, Y);
    if (s == NN_OK)
        s = nn__loss_check_targets(m->errmsg, fn, yname, *resolved, Y->rows, out->n_out,
                                   Y->data, Y->cols);
    return s;
}
