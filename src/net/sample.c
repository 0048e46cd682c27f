/* Training one sample at a time (batch 1) on a network small enough that the general path's
 * calls and set-up would cost more than its arithmetic: a 2-4-1 network's step is 17 weights
 * and a few dozen multiply-adds. The products become the plain dot and outer products they
 * are at one row; everything else (activations, losses, the optimizer) is shared with the
 * general path, so both compute the same formulas.
 * Shape letters: I a layer's inputs, O its outputs. */
#include "net/net.h"

bool nn__sample_step_fits(const nn_model *m)
{
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->dropout > 0.0f || L->n_slopes || (size_t)L->n_out * L->n_in > NN__SAMPLE_MAX_W)
            return false;
    }
    return true;
}

/* z = W·in + b for the O rows of W. Inlined with I a constant, the inner loop unrolls. */
static inline void rows_forward(int O, int I, const float *restrict w /* (O, I) */,
                                const float *restrict b, const float *restrict in,
                                float *restrict z)
{
    for (int j = 0; j < O; j++, w += I) {
        float sum = 0.0f;
        for (int i = 0; i < I; i++)
            sum += w[i] * in[i];
        z[j] = sum + b[j];
    }
}

/* dW = dz·inᵀ, db = dz, and da = Wᵀ·dz if da is not NULL, in one pass over W. Inlined with
 * I a constant, the inner loops unroll. */
static inline void rows_backward(int O, int I, const float *restrict w /* (O, I) */,
                                 const float *restrict dz, const float *restrict in,
                                 float *restrict dw, float *restrict db, float *restrict da)
{
    for (int i = 0; da && i < I; i++)
        da[i] = 0.0f;
    for (int j = 0; j < O; j++, w += I, dw += I) {
        float d = dz[j];
        db[j] = d;
        for (int i = 0; i < I; i++)
            dw[i] = d * in[i];
        for (int i = 0; da && i < I; i++)
            da[i] += d * w[i];
    }
}

/* Tiny networks have layers of 1 to 4 inputs often: those get unrolled copies. */
#define BY_INPUTS(I, call_with_n)                                                          \
    switch (I) {                                                                           \
    case 1: call_with_n(1); break;                                                         \
    case 2: call_with_n(2); break;                                                         \
    case 3: call_with_n(3); break;                                                         \
    case 4: call_with_n(4); break;                                                         \
    default: call_with_n(I); break;                                                        \
    }

/* z = W·in + b, then (if asked) a = g(z) over the layer's units at once. */
static void layer_forward(nn__layer *L, const float *in /* (I) */, bool activate)
{
#define FORWARD(n) rows_forward(L->n_out, n, L->W, L->b, in, L->Z)
    BY_INPUTS(L->n_in, FORWARD)
#undef FORWARD
    if (activate)
        nn__act_forward(L->act, L->act_param, 1, L->n_out, L->Z, L->A);
}

/* dL/da → dL/dz in place in L->dZ. */
static void layer_act_backward(nn__layer *L)
{
    nn__act_backward(L->act, L->act_param, 1, L->n_out, L->Z, L->A, L->dZ, L->dZ);
}

/* From dz = dL/dz in L->dZ: dW = dz·inᵀ, db = dz, and (for a layer with a layer below)
 * da = Wᵀ·dz, the gradient of the layer below's output. */
static void layer_backward(nn__layer *L, const float *in /* (I) */, float *da /* (I) or NULL */)
{
#define BACKWARD(n) rows_backward(L->n_out, n, L->W, L->dZ, in, L->dW, L->db, da)
    BY_INPUTS(L->n_in, BACKWARD)
#undef BACKWARD
}

double nn__sample_step(nn_model *m, const float *x /* (n_in) */, const float *y, int ycols,
                       nn_loss loss, long *correct)
{
    int last = m->n_layers - 1;
    nn__layer *out = &m->layers[last];
    bool on_logits = loss != NN_LOSS_MSE; /* CE and BCE start from the output's z */
    const float *in = x;
    for (int l = 0; l <= last; l++) {
        layer_forward(&m->layers[l], in, l < last || !on_logits);
        in = m->layers[l].A;
    }
    double value = nn__loss(loss, 1, out->n_out, on_logits ? out->Z : out->A, y, ycols,
                            out->dZ, correct);
    if (!on_logits) /* MSE is taken on the activations: chain it through g' */
        layer_act_backward(out);
    for (int l = last; l > 0; l--) {
        nn__layer *L = &m->layers[l], *prev = &m->layers[l - 1];
        layer_backward(L, prev->A, prev->dZ);
        layer_act_backward(prev);
    }
    layer_backward(&m->layers[0], x, NULL); /* the input's gradient is never needed */
    return value;
}

