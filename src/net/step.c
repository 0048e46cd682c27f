/* The training step: one batch through forward, loss, backward and update (nn__train_step,
 * the one function nn_train calls per batch), the backward walk it shares with nn_backward,
 * and the test of whether a step's gradients are finite, which decides if it is taken.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs, P parameters. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "net/net.h"

/* ------------------------------------------------------------- forward, loss */

/* nn__forward, where output_act false leaves the output layer's A uncomputed: a training
 * step whose loss is taken on the logits never reads it. */
static void forward_layers(nn_model *m, const float *X, int B, bool training, bool output_act)
{
    const float *in = X;
    for (int l = 0; l < m->n_layers; l++) {
        nn__dense_forward(m, &m->layers[l], in, B, training, l < m->n_layers - 1 || output_act);
        in = nn__dense_output(&m->layers[l], training);
    }
    m->dropped = training;
}

void nn__forward(nn_model *m, const float *X, int B, bool training)
{
    forward_layers(m, X, B, training, true);
}

/* The input of layer l in the last forward pass, whose input was X. */
static const float *layer_input(const nn_model *m, const float *X, int l)
{
    return l > 0 ? nn__dense_output(&m->layers[l - 1], m->dropped) : X;
}

/* The loss of the last forward against Y, with class weights w (or NULL), and, if backprop,
 * its gradient: with respect to the output layer's Z for CE and BCE, which are taken from the
 * logits (fused with their activation: dZ = (a - y)/n comes straight out of the loss), or to
 * its A for MSE, which nn__dense_backward then chains through g'. *on_logits says which. */
static double output_loss(nn_model *m, int B, const float *Y, int ycols, nn_loss loss,
                          const float *w, bool backprop, long *correct, bool *on_logits)
{
    nn__layer *out = &m->layers[m->n_layers - 1];
    *on_logits = loss != NN_LOSS_MSE;
    return nn__loss_mt(m->pool, loss, w, B, out->n_out, *on_logits ? out->Z : out->A, Y, ycols,
                       backprop ? out->dZ : NULL, correct);
}

double nn__forward_loss(nn_model *m, int B, const float *Y, int ycols, nn_loss loss,
                        long *correct)
{
    bool on_logits;
    return output_loss(m, B, Y, ycols, loss, NULL, false, correct, &on_logits);
}

/* ------------------------------------------------------------- backward */

/* The loss, then from the output layer down every layer's dZ, db and (PReLU) ds. Each
 * dX = dZ·W uses the weights of the forward pass, so all of them come before any step. */
static double backward_deltas(nn_model *m, int B, const float *Y, int ycols, nn_loss loss,
                              const float *w, bool accumulate, long *correct)
{
    bool on_logits;
    double value = output_loss(m, B, Y, ycols, loss, w, true, correct, &on_logits);
    for (int l = m->n_layers - 1; l >= 0; l--) {
        bool have_dz = l == m->n_layers - 1 && on_logits;
        float *dX = l > 0 ? m->layers[l - 1].dZ : NULL; /* the input's gradient is not needed */
        nn__dense_backward(m, &m->layers[l], B, have_dz, accumulate, dX);
    }
    return value;
}

/* Every layer's dZᵀ·X into the sink, after backward_deltas. */
static void weight_grads(nn_model *m, const float *X, int B, nn__weight_sink sink, float lr)
{
    for (int l = 0; l < m->n_layers; l++)
        nn__dense_weights(m, &m->layers[l], layer_input(m, X, l), B, sink, lr);
}

double nn__backward(nn_model *m, const float *X, int B, const float *Y, int ycols,
                    nn_loss loss, const float *w, bool accumulate)
{
    double value = backward_deltas(m, B, Y, ycols, loss, w, accumulate, NULL);
    weight_grads(m, X, B, accumulate ? NN__SINK_ADD : NN__SINK_SET, 0.0f);
    return value;
}

/* ------------------------------------------------------------- finiteness */

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
 * compiler keeps in several vectors, so that the compares do not form one dependent chain. */
static int32_t max_abs_bits_lanes(const float *v, size_t n)
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

/* max_abs_bits_lanes, with a tiny layer's few values (a batch of one row) in a plain loop,
 * inlined: there the lanes would cost more than the values. */
static inline int32_t max_abs_bits(const float *v, size_t n)
{
    if (n >= 64)
        return max_abs_bits_lanes(v, n);
    int32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = max_bits(max, v[i]);
    return max;
}

static double bits_value(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* dW = dZᵀ·X multiplies every element of dZ with every element of X, so a NaN or an infinity
 * in either reaches dW; with both finite, dW and db can only overflow if the largest |dZ|
 * times the largest |X|, times B, nears FLT_MAX. The operands are a few hundred rows, still
 * in cache; the gradients are every parameter's, out of it. */
bool nn__grads_surely_finite(const nn_model *m, const float *X, int B)
{
    /* A sum of B terms of magnitude at most t, rounded at each step, stays below
     * B·t·(1 + 2^-24)^B <= B·t·1.07 while B <= 2^20. */
    if (B > 1 << 20)
        return false;
    const double limit = FLT_MAX / (1.07 * B);
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        int32_t dz = max_abs_bits(L->dZ, (size_t)B * L->n_out);
        int32_t x = max_abs_bits(layer_input(m, X, l), (size_t)B * L->n_in);
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

typedef struct finite_job {
    const float *x;
    atomic_bool bad; /* set by a part that met a non-finite value */
} finite_job;

static void finite_range(void *ctx, size_t lo, size_t hi)
{
    finite_job *j = ctx;
    if (nn__any_nonfinite(j->x + lo, hi - lo))
        atomic_store_explicit(&j->bad, true, memory_order_relaxed);
}

/* Whether every gradient is finite: a scan of all P, over the model's threads. */
static bool grads_scan_finite(const nn_model *m)
{
    if (!m->pool)
        return !nn__any_nonfinite(m->grads, m->n_params);
    finite_job j = {.x = m->grads};
    atomic_init(&j.bad, false);
    nn__pool_for(m->pool, m->n_params, 16, NN__MIN_PART_FLOATS, finite_range, &j);
    return !atomic_load_explicit(&j.bad, memory_order_relaxed);
}

/* Whether, at one row, scanning the P gradients costs less than the operands' proof: it
 * reads I + O floats and spends about PROOF_LAYER_COST floats' worth per layer. */
static bool scan_is_cheaper(const nn_model *m)
{
    enum { PROOF_LAYER_COST = 64 };
    size_t proof = 0;
    for (int l = 0; l < m->n_layers; l++)
        proof += (size_t)m->layers[l].n_in + m->layers[l].n_out + PROOF_LAYER_COST;
    return m->n_params < proof;
}

/* ------------------------------------------------------------- the step */

typedef struct gather_job {
    float *dst;
    const float *src;
    size_t cols;
    const int *rows;
} gather_job;

static void gather_rows(void *ctx, size_t lo, size_t hi)
{
    const gather_job *g = ctx;
    for (size_t r = lo; r < hi; r++)
        memcpy(g->dst + r * g->cols, g->src + (size_t)g->rows[r] * g->cols,
               g->cols * sizeof *g->dst);
}

void nn__gather(nn__pool *pool, float *dst, const float *src, int cols, const int *rows, int B)
{
    /* The rows lie anywhere in the data, far out of cache: the pool's threads wait for their
     * misses side by side. */
    gather_job g = {dst, src, (size_t)cols, rows};
    nn__pool_for(pool, (size_t)B, 1, nn__min_items((size_t)cols), gather_rows, &g);
}

nn_status nn__train_step(nn_model *m, const nn__batch *b, const nn_optim_opts *o, float lr,
                         double *loss_value, long *hits)
{
    int B = b->rows;
    /* The batch's rows, gathered; a single row is read where it is. */
    const float *X = b->X->data + (size_t)b->order[0] * b->X->cols;
    const float *Y = b->Y->data + (size_t)b->order[0] * b->Y->cols;
    if (B > 1) {
        nn__gather(m->pool, m->X, b->X->data, b->X->cols, b->order, B);
        nn__gather(m->pool, b->Ybuf, b->Y->data, b->Y->cols, b->order, B);
        X = m->X, Y = b->Ybuf;
    }
    forward_layers(m, X, B, true, b->loss == NN_LOSS_MSE);
    /* Not accumulated: the products write dW afresh, so no zero_grad pass is needed. */
    double value = backward_deltas(m, B, Y, b->Y->cols, b->loss, b->class_weights, false, hits);
    *loss_value = value;
    /* The operands vouch for the gradients almost always; a scan of every gradient (a pass
     * over all P parameters) then is not needed. At one row the two updates below give the
     * same bits (no sum is cut into blocks), so there the step reads whichever is less: a tiny
     * network's few gradients rather than its operands, layer by layer. */
    bool vouched = isfinite(value) && (B > 1 || !scan_is_cheaper(m)) &&
                   nn__grads_surely_finite(m, X, B);
    /* Plain SGD takes W -= lr·dW inside the product that would compute dW, which is then never
     * stored, while that product sums the batch in one block (else it would add each block's
     * step to W in turn, rounding differently). */
    if (vouched && nn__optim_is_plain(o) && nn__gemm_one_block(m->kernel, B)) {
        weight_grads(m, X, B, NN__SINK_STEP, lr);
        return NN_OK;
    }
    weight_grads(m, X, B, NN__SINK_SET, 0.0f);
    if (!isfinite(value) || !(vouched || grads_scan_finite(m)))
        return NN_ERR_DIVERGED;
    nn__optim_apply(m, o, lr);
    return NN_OK;
}

/* ----------------------------------------------------- the step, public */

nn_status nn_forward(nn_model *m, const nn_mat *X, nn_mat *Out)
{
    const char *fn = "nn_forward";
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!nn__mat_ok(X))
        return nn__bad_mat(m, fn, "X", X);
    if (Out && !nn__mat_ok(Out))
        return nn__bad_mat(m, fn, "Out", Out);
    int B = X->rows, O = nn__out_layer(m)->n_out;
    if (X->cols != m->n_in)
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: X has %d columns; the model takes %d "
                        "inputs", fn, X->cols, m->n_in);
    if (Out && (Out->rows != B || Out->cols != O))
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: Out is (%d, %d); for X of %d rows and "
                        "the model's %d outputs it must be (%d, %d)", fn, Out->rows, Out->cols,
                        B, O, B, O);
    if (nn__reserve(m, B, B) != NN_OK) /* nn_backward may follow */
        return nn__no_memory(m, fn, "the workspace");
    memcpy(m->X, X->data, nn__mat_size(X) * sizeof(float));
    nn__forward(m, m->X, B, true);
    m->batch = B;
    if (Out)
        memcpy(Out->data, nn__out_layer(m)->A, (size_t)B * O * sizeof(float));
    return NN_OK;
}

nn_status nn_backward(nn_model *m, const nn_mat *Y, nn_loss loss, float *loss_value)
{
    const char *fn = "nn_backward";
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (m->batch == 0)
        return nn__fail(m->errmsg, NN_ERR_STATE, "%s: the model holds no forward pass to "
                        "back-propagate: call nn_forward first (nn_train, nn_predict and "
                        "nn_evaluate reuse the workspace and forget it)", fn);
    nn_mat X = nn_mat_wrap(m->X, m->batch, m->n_in);
    nn_status s = nn__check_data(m, fn, &X, "the X of the last nn_forward", Y, "Y", loss,
                                 &loss);
    if (s != NN_OK)
        return s;
    double value = nn__backward(m, m->X, m->batch, Y->data, Y->cols, loss, NULL, true);
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
