/* nn_grad_check: the library's back-propagation against central finite differences of a
 * loss computed independently of it, in double precision: its own forward pass, activations
 * and losses written from their formulas in plain loops, on a double copy of the
 * parameters. The float forward's rounding (about 1e-7 of the loss) would swamp a finite
 * difference of the float loss; in double the difference is good to about 1e-10.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs, P parameters. */
#include <math.h>
#include <string.h>

#include "net/net.h"

/* a = g(z) in place on one row of O values; s: PReLU's slopes (1 or O of them). */
static void act_row(nn_act act, double param, const double *s, int n_slopes, double *z, int O)
{
    if (act == NN_ACT_SOFTMAX) {
        double max = z[0], sum = 0.0;
        for (int j = 1; j < O; j++)
            max = fmax(max, z[j]);
        for (int j = 0; j < O; j++)
            sum += (z[j] = exp(z[j] - max));
        for (int j = 0; j < O; j++)
            z[j] /= sum;
        return;
    }
    for (int j = 0; j < O; j++) {
        double v = z[j];
        switch (act) {
        case NN_ACT_SIGMOID: v = 1.0 / (1.0 + exp(-v)); break;
        case NN_ACT_TANH: v = tanh(v); break;
        case NN_ACT_RELU: v = v > 0.0 ? v : 0.0; break;
        case NN_ACT_LEAKY_RELU: v = v > 0.0 ? v : param * v; break;
        case NN_ACT_ELU: v = v > 0.0 ? v : param * expm1(v); break;
        case NN_ACT_GELU: v = 0.5 * v * (1.0 + erf(v / sqrt(2.0))); break;
        case NN_ACT_PRELU:
        case NN_ACT_PRELU_UNITS: v = v > 0.0 ? v : s[n_slopes > 1 ? j : 0] * v; break;
        default: break; /* linear */
        }
        z[j] = v;
    }
}

/* The mean loss of one batch from the output layer's z (logits) and a = g(z), in double:
 * nn_loss's formulas (MSE on a; BCE and CE on the logits), with class weights w (or NULL):
 * Σ w·l / Σ w, a sample weighing w_y (CE class index), Σ_j w_j·y_j (CE rows), an element
 * w_0·(1 − y) + w_1·y (BCE). */
static double loss_of(nn_loss loss, const float *w, int B, int O, const double *z,
                      const double *a, const float *Y, int ycols)
{
    double total = 0.0, weight = 0.0;
    for (int r = 0; r < B; r++) {
        const double *zr = z + (size_t)r * O, *ar = a + (size_t)r * O;
        const float *y = Y + (size_t)r * ycols;
        if (loss == NN_LOSS_CE) {
            double max = zr[0], sum = 0.0;
            for (int j = 1; j < O; j++)
                max = fmax(max, zr[j]);
            for (int j = 0; j < O; j++)
                sum += exp(zr[j] - max);
            double lse = max + log(sum);
            if (nn__loss_uses_indices(loss, O, ycols)) {
                int k = (int)y[0];
                double wk = w ? w[k] : 1.0;
                total += wk * (lse - zr[k]);
                weight += wk;
            } else {
                for (int j = 0; j < O; j++) {
                    double v = w ? (double)w[j] * y[j] : y[j];
                    total += v * (lse - zr[j]);
                    weight += w ? v : 0.0;
                }
                weight += w ? 0.0 : 1.0; /* unweighted rows count 1 each, whatever Σy is */
            }
        } else if (loss == NN_LOSS_BCE) {
            for (int j = 0; j < O; j++) {
                double wj = w ? w[0] * (1.0 - y[j]) + w[1] * (double)y[j] : 1.0;
                total += wj * (fmax(zr[j], 0.0) - zr[j] * y[j] + log1p(exp(-fabs(zr[j]))));
                weight += wj;
            }
        } else {
            for (int j = 0; j < O; j++)
                total += (ar[j] - y[j]) * (ar[j] - y[j]);
            weight += O;
        }
    }
    return weight > 0.0 ? total / weight : 0.0;
}

/* The loss of the network with parameters p (P doubles, laid out as m->params) on X, Y.
 * buf holds 3 · B · max(O) doubles: a layer's input, its z, its a. */
static double reference_loss(const nn_model *m, const double *p, const nn_mat *X,
                             const nn_mat *Y, nn_loss loss, const float *w, double *buf,
                             size_t width)
{
    int B = X->rows;
    double *in = buf, *z = buf + (size_t)B * width, *a = z + (size_t)B * width;
    for (size_t i = 0; i < nn__mat_size(X); i++)
        in[i] = X->data[i];
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        int I = L->n_in, O = L->n_out;
        const double *W = p + (L->W - m->params), *b = p + (L->b - m->params);
        const double *s = L->s ? p + (L->s - m->params) : NULL;
        for (int r = 0; r < B; r++)
            for (int o = 0; o < O; o++) {
                double sum = b[o];
                for (int i = 0; i < I; i++)
                    sum += in[(size_t)r * I + i] * W[(size_t)o * I + i];
                z[(size_t)r * O + o] = a[(size_t)r * O + o] = sum;
            }
        for (int r = 0; r < B; r++)
            act_row(L->act, L->act_param, s, L->n_slopes, a + (size_t)r * O, O);
        if (l == m->n_layers - 1)
            return loss_of(loss, w, B, O, z, a, Y->data, Y->cols);
        memcpy(in, a, (size_t)B * O * sizeof *in);
    }
    return NAN; /* not reached: a model has at least one layer */
}

/* Where parameter i lies: its layer, 'W', 'b' or 's', and its row and column. */
static void locate(const nn_model *m, size_t i, nn_grad_check_result *r)
{
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t w0 = (size_t)(L->W - m->params), nw = (size_t)L->n_out * L->n_in;
        size_t end = w0 + nw + (size_t)L->n_out + (size_t)L->n_slopes;
        if (i >= end)
            continue;
        r->layer = l;
        size_t k = i - w0;
        if (k < nw) {
            r->kind = 'W', r->row = (int)(k / (size_t)L->n_in), r->col = (int)(k % (size_t)L->n_in);
        } else {
            k -= nw;
            r->kind = k < (size_t)L->n_out ? 'b' : 's';
            r->row = 0;
            r->col = (int)(k < (size_t)L->n_out ? k : k - (size_t)L->n_out);
        }
        return;
    }
}

/* The model's workspace, which holds the caller's last forward pass: set aside while the
 * check computes its own gradients in a fresh one, and put back after. */
typedef struct workspace {
    float *work, *X;
    size_t work_bytes;
    int cap, batch;
    bool dropped;
} workspace;

static void set_aside(nn_model *m, workspace *w, nn__layer *saved)
{
    *w = (workspace){m->work, m->X, m->work_bytes, m->cap, m->batch, m->dropped};
    memcpy(saved, m->layers, (size_t)m->n_layers * sizeof *saved);
    m->work = NULL, m->X = NULL, m->work_bytes = 0, m->cap = 0, m->batch = 0;
}

static void put_back(nn_model *m, const workspace *w, const nn__layer *saved)
{
    nn__alloc(m, m->work, m->work_bytes, 0);
    m->work = w->work, m->X = w->X, m->work_bytes = w->work_bytes;
    m->cap = w->cap, m->batch = w->batch, m->dropped = w->dropped;
    memcpy(m->layers, saved, (size_t)m->n_layers * sizeof *saved);
}

/* Compares, parameter by parameter, the gradient in m->grads with the reference loss's
 * central differences around the double parameters p; buf as reference_loss's. */
static void compare(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                    const nn_grad_check_opts *o, double *p, double *buf, size_t width,
                    nn_grad_check_result *r)
{
    size_t P = m->n_params;
    size_t count = o->max_params > 0 && o->max_params < P ? o->max_params : P;
    double atol = o->atol > 0.0 ? o->atol : 1e-5, rtol = o->rtol > 0.0 ? o->rtol : 1e-3;
    *r = (nn_grad_check_result){.passed = true, .checked = count};
    for (size_t k = 0; k < count; k++) {
        size_t i = (size_t)((double)k * (double)P / (double)count); /* spread over all layers */
        double v = p[i], h = o->h > 0.0 ? o->h : 1e-6 * fmax(1.0, fabs(v));
        p[i] = v + h;
        double plus = reference_loss(m, p, X, Y, loss, o->class_weights, buf, width);
        p[i] = v - h;
        double minus = reference_loss(m, p, X, Y, loss, o->class_weights, buf, width);
        p[i] = v;
        double numeric = (plus - minus) / (2.0 * h), analytic = m->grads[i];
        double ratio = fabs(analytic - numeric) / (atol + rtol * fabs(numeric));
        if (isnan(ratio)) /* a NaN gradient or loss is the worst error there is */
            ratio = INFINITY;
        if (k == 0 || ratio > r->worst_ratio) {
            r->worst_ratio = ratio, r->analytic = analytic, r->numeric = numeric;
            locate(m, i, r);
        }
    }
    r->passed = r->worst_ratio <= 1.0;
}

nn_status nn__grad_compare(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                           const nn_grad_check_opts *o, nn_grad_check_result *r)
{
    int B = X->rows;
    size_t P = m->n_params, width = (size_t)m->n_in;
    for (int l = 0; l < m->n_layers; l++)
        width = width > (size_t)m->layers[l].n_out ? width : (size_t)m->layers[l].n_out;
    /* The double parameters and the reference's 3 (B, width) buffers. */
    size_t doubles = P + 3 * (size_t)B * width;
    double *p = (size_t)B <= SIZE_MAX / 4 / sizeof(double) / width
                    ? nn__alloc(m, NULL, 0, doubles * sizeof(double)) : NULL;
    if (!p)
        return nn__no_memory(m, "nn_grad_check", "the double-precision reference");
    for (size_t i = 0; i < P; i++)
        p[i] = m->params[i];
    compare(m, X, Y, loss, o, p, p + P, width, r);
    nn__alloc(m, p, doubles * sizeof(double), 0);
    return NN_OK;
}

nn_status nn_grad_check(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                        const nn_grad_check_opts *opts, nn_grad_check_result *result)
{
    const char *fn = "nn_grad_check";
    nn_grad_check_opts o = opts ? *opts : (nn_grad_check_opts){0};
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!result)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: result is NULL", fn);
    if (!(o.h >= 0.0 && o.atol >= 0.0 && o.rtol >= 0.0) || !isfinite(o.h + o.atol + o.rtol))
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: opts has h %g, atol %g, rtol %g; "
                        "each must be finite and >= 0", fn, o.h, o.atol, o.rtol);
    nn_status s = nn__check_data(m, fn, X, "X", Y, "Y", loss, &loss);
    if (s == NN_OK)
        s = nn__check_class_weights(m->errmsg, fn, "opts.class_weights", loss,
                                    nn__out_layer(m)->n_out, o.class_weights, o.n_class_weights);
    if (s != NN_OK)
        return s;
    size_t P = m->n_params, n_layers = (size_t)m->n_layers;
    /* The caller's gradients and layers (whose buffers point into the workspace), kept. */
    size_t bytes = P * sizeof(float) + n_layers * sizeof(nn__layer);
    nn__layer *saved_layers = nn__alloc(m, NULL, 0, bytes);
    if (!saved_layers)
        return nn__no_memory(m, fn, "a copy of the gradients");
    float *saved_grads = (float *)(saved_layers + n_layers);
    memcpy(saved_grads, m->grads, P * sizeof(float));
    workspace w;
    set_aside(m, &w, saved_layers);
    s = nn__reserve(m, X->rows, X->rows);
    if (s == NN_OK) {
        /* The analytic gradient: the library's forward (no dropout) and backward. */
        nn__forward(m, X->data, X->rows, false);
        nn__backward(m, X->data, X->rows, Y->data, Y->cols, loss, o.class_weights, false);
        s = nn__grad_compare(m, X, Y, loss, &o, result);
    } else {
        s = nn__no_memory(m, fn, "the check's workspace");
    }
    put_back(m, &w, saved_layers);
    memcpy(m->grads, saved_grads, P * sizeof(float));
    nn__alloc(m, saved_layers, bytes, 0);
    return s;
}
