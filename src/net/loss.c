/* Losses and their gradients, each a mean as in PyTorch (reduction='mean').
 * Cross-entropy and binary cross-entropy work on the logits Z of the output layer, so that
 * no log of a rounded-to-zero probability is ever taken. With class weights w (nn_train_opts)
 * each sample's (BCE: each element's) loss is multiplied by its target's weight and the mean
 * becomes Σ w·l / Σ w, torch.nn.CrossEntropyLoss(weight=w)'s normalisation.
 * Shape letters: B rows (samples), O outputs; Y is (B, O), or (B, 1) class indices for CE. */
#include <math.h>
#include <stdatomic.h>

#include "net/act_inline.h"
#include "net/net.h"

bool nn__loss_valid(nn_loss loss)
{
    return loss >= NN_LOSS_AUTO && loss <= NN_LOSS_CE;
}

nn_status nn__loss_resolve(nn_loss loss, nn_act out_act, nn_loss *resolved)
{
    if (!nn__loss_valid(loss))
        return NN_ERR_INVALID_ARG;
    if (loss == NN_LOSS_AUTO)
        loss = out_act == NN_ACT_SOFTMAX ? NN_LOSS_CE
             : out_act == NN_ACT_SIGMOID ? NN_LOSS_BCE
                                         : NN_LOSS_MSE;
    if ((loss == NN_LOSS_CE && out_act != NN_ACT_SOFTMAX) ||
        (loss == NN_LOSS_BCE && out_act != NN_ACT_SIGMOID))
        return NN_ERR_LOSS_ACT;
    *resolved = loss;
    return NN_OK;
}

bool nn__loss_uses_indices(nn_loss loss, int O, int ycols)
{
    return loss == NN_LOSS_CE && ycols == 1 && O > 1;
}

const char *nn__loss_name(nn_loss loss)
{
    switch (loss) {
    case NN_LOSS_AUTO:
        return "auto";
    case NN_LOSS_MSE:
        return "mean squared error";
    case NN_LOSS_BCE:
        return "binary cross-entropy";
    case NN_LOSS_CE:
        return "cross-entropy";
    }
    return "unknown loss";
}

int nn__class_weight_count(nn_loss loss, int O)
{
    return loss == NN_LOSS_CE ? O : loss == NN_LOSS_BCE ? 2 : 0;
}

nn_status nn__check_class_weights(char *msg, const char *fn, const char *field, nn_loss loss,
                                  int O, const float *w, int n)
{
    if (!w && n == 0)
        return NN_OK;
    int want = nn__class_weight_count(loss, O);
    if (want == 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s is set, but the loss is %s; class "
                        "weights apply to cross-entropy and binary cross-entropy", fn, field,
                        nn__loss_name(loss));
    if (!w || n != want) {
        if (loss == NN_LOSS_CE)
            return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s has %d weights%s; the %d-unit "
                            "softmax output takes %d, one per class", fn, field, n,
                            w ? "" : " and is NULL", O, O);
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s has %d weights%s; binary "
                        "cross-entropy takes 2: the weight of target 0, then of target 1", fn,
                        field, n, w ? "" : " and is NULL");
    }
    double sum = 0.0;
    for (int c = 0; c < n; c++) {
        if (!isfinite(w[c]) || w[c] < 0.0f)
            return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s[%d] is %g; a class weight is "
                            "finite and >= 0", fn, field, c, (double)w[c]);
        sum += w[c];
    }
    if (sum == 0.0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: every one of the %d weights in %s is 0; "
                        "at least one class must count", fn, n, field);
    return NN_OK;
}

nn_status nn__loss_check_targets(char *msg, const char *fn, const char *yname, nn_loss loss,
                                 int B, int O, const float *Y, int ycols)
{
    bool indices = nn__loss_uses_indices(loss, O, ycols);
    if (ycols != O && !indices) {
        if (loss == NN_LOSS_CE)
            return nn__fail(msg, NN_ERR_SHAPE, "%s: %s is (%d, %d); the %d-unit softmax output "
                            "takes (%d, %d) one-hot rows or (%d, 1) class indices", fn, yname,
                            B, ycols, O, B, O, B);
        return nn__fail(msg, NN_ERR_SHAPE, "%s: %s is (%d, %d); the model has %d outputs, so "
                        "%s must be (%d, %d)", fn, yname, B, ycols, O, yname, B, O);
    }
    size_t n = (size_t)B * ycols;
    for (size_t i = 0; i < n; i++) {
        float y = Y[i];
        size_t r = i / (size_t)ycols, c = i % (size_t)ycols;
        if (!isfinite(y))
            return nn__fail(msg, NN_ERR_DATA, "%s: %s[%zu][%zu] is %g; the targets must be "
                            "finite (bad input, not divergence)", fn, yname, r, c, (double)y);
        if (indices && nn__class_index(y, O) < 0)
            return nn__fail(msg, NN_ERR_LABEL, "%s: %s[%zu][0] is %g; a class index of the "
                            "%d-unit softmax output is an integer in 0 .. %d", fn, yname, r,
                            (double)y, O, O - 1);
        if (loss == NN_LOSS_BCE && !(y >= 0.0f && y <= 1.0f))
            return nn__fail(msg, NN_ERR_LABEL, "%s: %s[%zu][%zu] is %g; a binary cross-entropy "
                            "target is a probability in [0, 1]", fn, yname, r, c, (double)y);
    }
    return NN_OK;
}

/* A BCE element's class weight: w_0 for target 0, w_1 for target 1, in between for a
 * probability. */
static inline float bce_weight(const float *w, float y)
{
    return w[0] * (1.0f - y) + w[1] * y;
}

/* Softmax cross-entropy of one row from its logits, times the row's class weight (w NULL:
 * 1); writes dz (not yet divided by the batch's weight) if asked. The e^(z - max) <= 1 are
 * taken once, in float (they are the softmax's numerators, which dz holds meanwhile), and
 * summed in double; only log Σ is a libm call, once per row. */
static double ce_row(int O, const float *z, const float *y, int ycols, const float *w,
                     float *dz, int *label)
{
    float max = z[0];
    for (int j = 1; j < O; j++)
        max = z[j] > max ? z[j] : max;
    double sum = 0.0;
    for (int j = 0; j < O; j++) {
        float e = nn__exp(z[j] - max);
        if (dz)
            dz[j] = e;
        sum += e;
    }
    double lse = max + log(sum); /* log Σ e^z */
    float inv_sum = (float)(1.0 / sum);
    if (nn__loss_uses_indices(NN_LOSS_CE, O, ycols)) {
        int k = (int)y[0];
        float wk = w ? w[k] : 1.0f;
        *label = k;
        if (dz) /* w_k (p_j - [j = k]) */
            for (int j = 0; j < O; j++)
                dz[j] = wk * (dz[j] * inv_sum - (j == k ? 1.0f : 0.0f));
        return wk * (lse - z[k]);
    }
    /* Soft or one-hot targets, with v_j = w_j y_j: L = Σ_j v_j (lse - z_j);
     * dL/dz_j = p_j·Σv - v_j. */
    double loss = 0.0, vsum = 0.0;
    for (int j = 0; j < O; j++) {
        float v = w ? w[j] * y[j] : y[j];
        loss += v * (lse - z[j]);
        vsum += v;
    }
    if (dz)
        for (int j = 0; j < O; j++)
            dz[j] = dz[j] * inv_sum * (float)vsum - (w ? w[j] * y[j] : y[j]);
    *label = nn__argmax(y, O);
    return loss;
}

/* Cross-entropy rows are split over the pool in chunks of CE_CHUNK rows: the parts write each
 * row's loss into the chunk's slots, and the caller then sums the slots in row order, as one
 * thread would. Hits are integers, in any order the same: each part adds its count once (per
 * row, the two parts' writes would share cache lines). One element of a row (an exp, and its
 * share of the row's log, max and argmax: ~13 ns) costs about as much as CE_COST floats of a
 * plain element-wise pass, so a batch of 64 rows of 10 classes (8 µs) is split. */
enum { CE_CHUNK = 256, CE_COST = 32 };

typedef struct ce_job {
    int O, ycols;
    const float *Out, *Y, *w;
    float *dOut;
    float scale;              /* 1 / the batch's weight (B unweighted): dz's mean */
    int first;                /* the chunk's first row */
    atomic_long hits;         /* of the chunk */
    double loss[CE_CHUNK];    /* per row of the chunk */
} ce_job;

/* Rows first + lo .. first + hi of the chunk: their loss, hits and (scaled) gradient. */
static void ce_rows(void *ctx, size_t lo, size_t hi)
{
    ce_job *j = ctx;
    const int O = j->O, ycols = j->ycols;
    const float *Y = j->Y;
    long hits = 0;
    for (size_t k = lo; k < hi; k++) {
        size_t r = (size_t)j->first + k;
        const float *z = j->Out + r * O;
        float *dz = j->dOut ? j->dOut + r * O : NULL;
        int label = 0;
        j->loss[k] = ce_row(O, z, Y + r * ycols, ycols, j->w, dz, &label);
        hits += nn__argmax(z, O) == label;
        if (dz)
            for (int c = 0; c < O; c++)
                dz[c] *= j->scale;
    }
    atomic_fetch_add_explicit(&j->hits, hits, memory_order_relaxed);
}

/* The batch's total class weight, the divisor of its mean: B rows (CE) or B·O elements (BCE)
 * of weight 1 without weights; Σ_rows w_y (CE indices), Σ_rows Σ_j w_j y_j (CE rows),
 * Σ w_0 (1 - y) + w_1 y over the elements (BCE). */
static double weight_sum(nn_loss loss, const float *w, int B, int O, const float *Y, int ycols)
{
    size_t n = (size_t)B * ycols;
    if (!w)
        return loss == NN_LOSS_CE ? (double)B : (double)n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += loss == NN_LOSS_BCE ? bce_weight(w, Y[i])
             : nn__loss_uses_indices(loss, O, ycols) ? w[(int)Y[i]]
                                                     : w[i % (size_t)ycols] * Y[i];
    return sum;
}

static double ce_loss(nn__pool *pool, int B, int O, const float *Out, const float *Y, int ycols,
                      const float *w, float *dOut, long *hits)
{
    ce_job j; /* not zeroed: a batch-1 step would pay for the whole chunk */
    j.O = O, j.ycols = ycols, j.Out = Out, j.Y = Y, j.w = w, j.dOut = dOut;
    /* A batch whose every target weighs 0 contributes nothing (PyTorch: 0/0, NaN). */
    double weight = weight_sum(NN_LOSS_CE, w, B, O, Y, ycols);
    j.scale = weight > 0.0 ? 1.0f / (float)weight : 0.0f;
    double total = 0.0;
    for (j.first = 0; j.first < B; j.first += CE_CHUNK) {
        int n = B - j.first < CE_CHUNK ? B - j.first : CE_CHUNK;
        atomic_init(&j.hits, 0);
        nn__pool_for(pool, (size_t)n, 1, nn__min_items((size_t)O * CE_COST), ce_rows, &j);
        for (int k = 0; k < n; k++)
            total += j.loss[k];
        *hits += atomic_load_explicit(&j.hits, memory_order_relaxed);
    }
    return weight > 0.0 ? total / weight : 0.0;
}

double nn__loss(nn_loss loss, int B, int O, const float *Out, const float *Y, int ycols,
                float *dOut, long *correct)
{
    return nn__loss_mt(NULL, loss, NULL, B, O, Out, Y, ycols, dOut, correct);
}

double nn__loss_mt(nn__pool *pool, nn_loss loss, const float *w, int B, int O,
                   const float *Out /* (B, O) */, const float *Y, int ycols,
                   float *dOut /* (B, O) or NULL */, long *correct)
{
    double total = 0.0;
    long hits = 0;
    size_t n = (size_t)B * O;
    if (loss == NN_LOSS_CE) {
        total = ce_loss(pool, B, O, Out, Y, ycols, w, dOut, &hits);
    } else if (loss == NN_LOSS_BCE) { /* one sum over all elements: on the caller */
        double weight = weight_sum(loss, w, B, O, Y, ycols); /* B·O unweighted: a mean */
        float scale = weight > 0.0 ? 1.0f / (float)weight : 0.0f;
        for (size_t i = 0; i < n; i++) {
            float z = Out[i], y = Y[i], dz, wi = w ? bce_weight(w, y) : 1.0f;
            total += wi * nn__bce_one(z, y, &dz);
            if (dOut)
                dOut[i] = wi * dz * scale;
            hits += (z > 0.0f) == (y > 0.5f);
        }
        total = weight > 0.0 ? total / weight : 0.0;
    } else { /* NN_LOSS_MSE, on the activations */
        float scale = 2.0f / (float)n;
        for (size_t i = 0; i < n; i++) {
            float d = Out[i] - Y[i];
            total += (double)d * d;
            if (dOut)
                dOut[i] = d * scale;
        }
        total /= (double)n;
    }
    if (correct)
        *correct = hits;
    return total;
}

nn_status nn_loss_eval(nn_loss loss, const nn_mat *Out, const nn_mat *Y, float *value,
                       nn_mat *dOut)
{
    if (!nn__loss_valid(loss) || loss == NN_LOSS_AUTO || !nn__mat_ok(Out) || !nn__mat_ok(Y) ||
        !value || (dOut && !nn__mat_ok(dOut)))
        return NN_ERR_INVALID_ARG;
    if (Y->rows != Out->rows || (dOut && (dOut->rows != Out->rows || dOut->cols != Out->cols)))
        return NN_ERR_SHAPE;
    nn_status s = nn__loss_check_targets(NULL, "nn_loss_eval", "Y", loss, Out->rows, Out->cols,
                                         Y->data, Y->cols);
    if (s != NN_OK)
        return s;
    *value = (float)nn__loss(loss, Out->rows, Out->cols, Out->data, Y->data, Y->cols,
                             dOut ? dOut->data : NULL, NULL);
    return NN_OK;
}
