/* Post-training int8 quantization: calibration of each tensor's range on the caller's data,
 * per-unit symmetric weights, the fixed-point multipliers and activation tables of quant.h,
 * the int8 model run on the host, and its comparison with the float model.
 * Shape letters: N rows, I a layer's inputs, O its outputs. */
#include <math.h>
#include <string.h>

#include "net/act_inline.h"
#include "net/quant.h"

enum { CALIB_ROWS = 256, BINS = 2048 };

/* ------------------------------------------------------------ calibration */

/* The values one tensor took: their range and, for percentiles, a histogram over it. */
typedef struct range {
    float lo, hi;
    bool bad;        /* a value was not finite */
    uint32_t *bins;  /* (BINS) between the min-max lo and hi, or NULL */
    uint64_t count;
    float snap_lo, snap_hi; /* pass 2: the values closest to the percentile's edges, inside */
} range;

static void range_see(range *r, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        r->bad = r->bad || !isfinite(x[i]);
        r->lo = x[i] < r->lo ? x[i] : r->lo;
        r->hi = x[i] > r->hi ? x[i] : r->hi;
    }
}

static void range_bin(range *r, const float *x, size_t n)
{
    double width = ((double)r->hi - r->lo) / BINS;
    for (size_t i = 0; i < n; i++) {
        int b = width > 0.0 ? (int)(((double)x[i] - r->lo) / width) : 0;
        r->bins[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
    }
    r->count += n;
}

/* The edges of the range that keeps share p of the values on either side: the lower edge of
 * the bin where the lowest (1 − p) of them end, and the upper edge of the one where the
 * highest begin. Pass 2 then snaps them to the extreme values inside (range_snap), so that a
 * bin's width (a 2048th of the min-max range, large beside an outlier) is not kept. */
static void range_percentile(range *r, double p)
{
    double width = ((double)r->hi - r->lo) / BINS, cut = (1.0 - p) * (double)r->count;
    uint64_t below = 0, above = 0;
    int lo = 0, hi = BINS - 1;
    while (lo < BINS - 1 && (double)(below + r->bins[lo]) <= cut)
        below += r->bins[lo++];
    while (hi > lo && (double)(above + r->bins[hi]) <= cut)
        above += r->bins[hi--];
    float new_lo = (float)(r->lo + width * lo), new_hi = (float)(r->lo + width * (hi + 1));
    r->lo = new_lo > r->lo ? new_lo : r->lo;
    r->hi = new_hi < r->hi ? new_hi : r->hi;
    r->snap_lo = r->hi;
    r->snap_hi = r->lo;
}

static void range_snap(range *r, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] >= r->lo && x[i] <= r->hi) {
            r->snap_lo = x[i] < r->snap_lo ? x[i] : r->snap_lo;
            r->snap_hi = x[i] > r->snap_hi ? x[i] : r->snap_hi;
        }
}

/* Scale and zero point of a range, 0 always inside it: x ≈ s·(q − zp), q in −128 .. 127. */
static void range_params(const range *r, float *scale, int *zero)
{
    double lo = r->lo < 0.0f ? r->lo : 0.0, hi = r->hi > 0.0f ? r->hi : 0.0;
    double s = (hi - lo) / 255.0;
    if (!(s > 1e-30))
        s = 1.0; /* a tensor that is 0 everywhere */
    double zp = nearbyint(-128.0 - lo / s);
    *scale = (float)s;
    *zero = zp < -128.0 ? -128 : zp > 127.0 ? 127 : (int)zp;
}

/* The tensors calibrated: 0 the input, then per layer l its output (1 + 2l) and its
 * pre-activation (2 + 2l). Only those a hidden layer needs are looked at. */
static bool tensor_needed(const nn_model *m, int t)
{
    if (t == 0)
        return true;
    int l = (t - 1) / 2;
    if (l >= m->n_layers - 1)
        return false;
    nn_act a = m->layers[l].act;
    bool table = a == NN_ACT_SIGMOID || a == NN_ACT_TANH || a == NN_ACT_ELU || a == NN_ACT_GELU;
    return (t - 1) % 2 == 0 || table;
}

/* Runs X through the model in chunks and shows every needed tensor to range_see (pass 0),
 * range_bin (pass 1) or range_snap (pass 2). */
static void calib_pass(nn_model *m, const nn_mat *X, range *r, int pass)
{
    void (*see)(range *, const float *, size_t) = pass == 0   ? range_see
                                                  : pass == 1 ? range_bin
                                                              : range_snap;
    for (int start = 0; start < X->rows; start += m->cap) {
        int B = X->rows - start < m->cap ? X->rows - start : m->cap;
        const float *x = X->data + (size_t)start * m->n_in;
        nn__forward(m, x, B, false);
        see(&r[0], x, (size_t)B * m->n_in);
        for (int l = 0; l + 1 < m->n_layers; l++) {
            const nn__layer *L = &m->layers[l];
            see(&r[1 + 2 * l], L->A, (size_t)B * L->n_out);
            if (tensor_needed(m, 2 + 2 * l))
                see(&r[2 + 2 * l], L->Z, (size_t)B * L->n_out);
        }
    }
}

/* The calibrated ranges r (1 + 2·n_layers) of X's tensors, by opts. */
static nn_status calibrate(nn_model *m, const nn_mat *X, const nn_quant_opts *o, range *r)
{
    int n = 1 + 2 * m->n_layers;
    nn_status s = nn__reserve(m, X->rows < CALIB_ROWS ? X->rows : CALIB_ROWS, 0);
    if (s != NN_OK)
        return nn__no_memory(m, "nn_quantize", "the calibration's workspace");
    m->batch = 0;
    for (int t = 0; t < n; t++)
        r[t] = (range){.lo = INFINITY, .hi = -INFINITY};
    calib_pass(m, X, r, 0);
    for (int t = 0; t < n; t++)
        if (tensor_needed(m, t) && (r[t].bad || !(isfinite(r[t].lo) && isfinite(r[t].hi)))) {
            int l = (t - 1) / 2;
            const char *what = t == 0 ? "X_calib itself" : t % 2 ? "the output" : "the logits";
            if (t == 0)
                return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_quantize: X_calib holds a "
                                "value that is not finite: no int8 range can be calibrated");
            return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_quantize: %s of layer %d is "
                            "not finite on X_calib: no int8 range can be calibrated", what, l);
        }
    if (o->calib != NN_CALIB_PERCENTILE)
        return NN_OK;
    size_t bytes = (size_t)n * BINS * sizeof(uint32_t);
    uint32_t *bins = nn__alloc(m, NULL, 0, bytes);
    if (!bins)
        return nn__no_memory(m, "nn_quantize", "the calibration histograms");
    memset(bins, 0, bytes);
    for (int t = 0; t < n; t++)
        r[t].bins = bins + (size_t)t * BINS;
    calib_pass(m, X, r, 1);
    double p = (o->percentile > 0.0f ? o->percentile : 99.99f) / 100.0;
    for (int t = 0; t < n; t++)
        if (tensor_needed(m, t))
            range_percentile(&r[t], p);
    nn__alloc(m, bins, bytes, 0);
    calib_pass(m, X, r, 2);
    for (int t = 0; t < n; t++)
        if (tensor_needed(m, t) && r[t].snap_lo <= r[t].snap_hi) {
            r[t].lo = r[t].snap_lo;
            r[t].hi = r[t].snap_hi;
        }
    return NN_OK;
}

/* ------------------------------------------------------------ the int8 model */

/* M as m / 2^n (quant.h): M = f·2^e with f in [0.5, 1), m = round(f·2^31), n = 31 − e.
 * Multipliers too small for n <= 62 are 0 (they round every int32 to 0 or ±1); too large ones
 * saturate, as their results would. */
static nn__qmul qmul_of(double M)
{
    if (M == 0.0 || !isfinite(M))
        return (nn__qmul){0, 1};
    int e;
    double f = frexp(fabs(M), &e);
    int64_t m = (int64_t)nearbyint(f * 2147483648.0);
    if (m == INT64_C(2147483648)) {
        m /= 2;
        e++;
    }
    if (31 - e > 62)
        return (nn__qmul){0, 1};
    if (31 - e < 1)
        return (nn__qmul){M < 0.0 ? -INT32_MAX : INT32_MAX, 1};
    return (nn__qmul){(int32_t)(M < 0.0 ? -m : m), 31 - e};
}

static bool is_table_act(nn_act a)
{
    return a == NN_ACT_SIGMOID || a == NN_ACT_TANH || a == NN_ACT_ELU || a == NN_ACT_GELU;
}

static nn__qkind kind_of(const nn_model *m, int l)
{
    nn_act a = m->layers[l].act;
    if (l == m->n_layers - 1)
        return NN__Q_FLOAT;
    if (a == NN_ACT_LEAKY_RELU || a == NN_ACT_PRELU || a == NN_ACT_PRELU_UNITS)
        return NN__Q_LEAKY;
    return is_table_act(a) ? NN__Q_TABLE : NN__Q_LINEAR;
}

/* Carves n bytes, 16-aligned, from *at (or only counts them, *at NULL). */
static void *carve(uint8_t **at, size_t *used, size_t n)
{
    size_t start = (*used + 15) & ~(size_t)15;
    *used = start + n;
    return *at ? *at + start : NULL;
}

/* Lays out q's arrays in block (NULL: only counts); the bytes it takes. */
static size_t layout(const nn_model *m, nn_quant *q, uint8_t *block)
{
    size_t used = sizeof *q;
    uint8_t *at = block;
    nn__qlayer *layers = carve(&at, &used, (size_t)m->n_layers * sizeof *layers);
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t O = (size_t)L->n_out;
        nn__qlayer ql = {.n_in = L->n_in, .n_out = L->n_out, .act = L->act,
                         .act_param = L->act_param, .kind = kind_of(m, l)};
        ql.W = carve(&at, &used, O * (size_t)L->n_in);
        ql.bias = carve(&at, &used, O * sizeof(int32_t));
        ql.w_scale = carve(&at, &used, O * sizeof(float));
        if (ql.kind != NN__Q_FLOAT)
            ql.mul = carve(&at, &used, O * sizeof(nn__qmul));
        if (ql.kind == NN__Q_LEAKY)
            ql.mul_neg = carve(&at, &used, O * sizeof(nn__qmul));
        if (ql.kind == NN__Q_TABLE)
            ql.table = carve(&at, &used, 256);
        if (ql.kind == NN__Q_FLOAT) {
            ql.deq = carve(&at, &used, O * sizeof(float));
            ql.n_slopes = L->n_slopes;
            ql.slopes = carve(&at, &used, (size_t)L->n_slopes * sizeof(float));
        }
        if (block)
            layers[l] = ql;
    }
    if (block)
        q->layers = layers;
    return used;
}

/* The bytes of constants an exported file holds for layer ql (export_c.c writes them). */
static size_t layer_bytes(const nn__qlayer *ql)
{
    size_t O = (size_t)ql->n_out, bytes = O * (size_t)ql->n_in + 4 * O; /* W, bias */
    if (ql->kind != NN__Q_FLOAT)
        bytes += 5 * O; /* int32 m, uint8 n */
    if (ql->kind == NN__Q_LEAKY)
        bytes += 5 * O;
    if (ql->kind == NN__Q_TABLE)
        bytes += 256;
    if (ql->kind == NN__Q_FLOAT)
        bytes += 4 * O + 4 * (size_t)ql->n_slopes + 4 * (ql->act == NN_ACT_LEAKY_RELU);
    return bytes;
}

/* W's rows as int8 with one symmetric scale each, and the bias with the input's zero point
 * folded in. */
static void quantize_weights(const nn__layer *L, nn__qlayer *ql)
{
    for (int j = 0; j < L->n_out; j++) {
        const float *w = L->W + (size_t)j * L->n_in;
        int8_t *qw = ql->W + (size_t)j * L->n_in;
        float max = 0.0f;
        for (int i = 0; i < L->n_in; i++)
            max = fabsf(w[i]) > max ? fabsf(w[i]) : max;
        double s = max > 0.0f ? max / 127.0 : 1.0;
        int64_t sum = 0;
        for (int i = 0; i < L->n_in; i++) {
            double v = nearbyint(w[i] / s);
            qw[i] = (int8_t)(v > 127.0 ? 127 : v < -127.0 ? -127 : v);
            sum += qw[i];
        }
        ql->w_scale[j] = (float)s;
        double b = nearbyint(L->b[j] / ((double)ql->in_scale * s)) - (double)ql->in_zero * (double)sum;
        ql->bias[j] = (int32_t)(b > 1073741824.0 ? 1073741824.0 : b < -1073741824.0 ? -1073741824.0 : b);
    }
}

/* The requantization of a hidden layer, and its table. */
static void quantize_output(const nn__layer *L, nn__qlayer *ql)
{
    float to = ql->kind == NN__Q_TABLE ? ql->z_scale : ql->out_scale;
    for (int j = 0; j < L->n_out; j++) {
        double M = (double)ql->in_scale * ql->w_scale[j] / to;
        ql->mul[j] = qmul_of(M);
        if (ql->kind == NN__Q_LEAKY)
            ql->mul_neg[j] = qmul_of(M * (L->n_slopes ? L->s[L->n_slopes > 1 ? j : 0] : L->act_param));
    }
    ql->floor = L->act == NN_ACT_RELU ? ql->out_zero : -128;
    if (ql->kind == NN__Q_TABLE)
        for (int z = -128; z < 128; z++) {
            float a = nn__act_one(L->act, L->act_param, ql->z_scale * (float)(z - ql->z_zero));
            ql->table[z + 128] = nn__quantize_one(a, ql->out_scale, ql->out_zero);
        }
}

static nn_status check_model(const nn_model *m)
{
    const char *fn = "nn_quantize";
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->n_in > NN__QUANT_MAX_INPUTS)
            return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: layer %d has %d inputs; the "
                            "int8 model's 32-bit sums hold at most %d", fn, l, L->n_in,
                            NN__QUANT_MAX_INPUTS);
        if (L->act == NN_ACT_SOFTMAX && l < m->n_layers - 1)
            return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: layer %d of %d is softmax; "
                            "the int8 model has softmax only as the last layer", fn, l,
                            m->n_layers);
        size_t n = (size_t)L->n_out * ((size_t)L->n_in + 1) + (size_t)L->n_slopes;
        for (size_t i = 0; i < n; i++) /* W, b and the slopes are contiguous */
            if (!isfinite(L->W[i]))
                return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: layer %d's parameter %zu "
                                "(W, b, slopes in turn) is %g; every parameter must be finite",
                                fn, l, i, (double)L->W[i]);
    }
    return NN_OK;
}

nn_status nn_quantize(nn_model *m, const nn_mat *X, const nn_quant_opts *opts, nn_quant **out)
{
    const char *fn = "nn_quantize";
    nn_quant_opts o = opts ? *opts : (nn_quant_opts){0};
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!out)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    if (!nn__mat_ok(X))
        return nn__bad_mat(m, fn, "X_calib", X);
    if (o.calib != NN_CALIB_MINMAX && o.calib != NN_CALIB_PERCENTILE)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: opts.calib is %d; "
                        "NN_CALIB_MINMAX (0) or NN_CALIB_PERCENTILE (1)", fn, (int)o.calib);
    if (o.percentile != 0.0f && !(o.percentile >= 50.0f && o.percentile <= 100.0f))
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: opts.percentile is %g; 0 (99.99) "
                        "or in [50, 100]", fn, (double)o.percentile);
    if (X->cols != m->n_in)
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: X_calib is (%d, %d); the model takes "
                        "%d inputs", fn, X->rows, X->cols, m->n_in);
    nn_status s = check_model(m);
    if (s != NN_OK)
        return s;
    size_t n_ranges = 1 + 2 * (size_t)m->n_layers;
    range *r = nn__alloc(m, NULL, 0, n_ranges * sizeof *r);
    if (!r)
        return nn__no_memory(m, fn, "the calibration ranges");
    s = calibrate(m, X, &o, r);
    size_t bytes = layout(m, NULL, NULL);
    uint8_t *block = s == NN_OK ? nn__alloc(m, NULL, 0, bytes) : NULL;
    if (!block) {
        nn__alloc(m, r, n_ranges * sizeof *r, 0);
        return s != NN_OK ? s : nn__no_memory(m, fn, "the int8 model");
    }
    memset(block, 0, bytes);
    nn_quant *q = (nn_quant *)block;
    layout(m, q, block);
    q->n_in = m->n_in;
    q->n_layers = m->n_layers;
    q->alloc = m->alloc;
    q->alloc_user = m->alloc_user;
    q->bytes = bytes;
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        nn__qlayer *ql = &q->layers[l];
        if (l == 0)
            range_params(&r[0], &ql->in_scale, &ql->in_zero);
        else
            ql->in_scale = q->layers[l - 1].out_scale, ql->in_zero = q->layers[l - 1].out_zero;
        quantize_weights(L, ql);
        if (ql->kind == NN__Q_FLOAT) {
            for (int j = 0; j < L->n_out; j++)
                ql->deq[j] = (float)((double)ql->in_scale * ql->w_scale[j]);
            if (L->n_slopes)
                memcpy(ql->slopes, L->s, (size_t)L->n_slopes * sizeof(float));
        } else {
            range_params(&r[1 + 2 * l], &ql->out_scale, &ql->out_zero);
            if (ql->kind == NN__Q_TABLE)
                range_params(&r[2 + 2 * l], &ql->z_scale, &ql->z_zero);
            quantize_output(L, ql);
            q->max_hidden = L->n_out > q->max_hidden ? L->n_out : q->max_hidden;
        }
        q->int8_bytes += layer_bytes(ql);
    }
    nn__alloc(m, r, n_ranges * sizeof *r, 0);
    *out = q;
    return NN_OK;
}

void nn_quant_destroy(nn_quant *q)
{
    if (q)
        q->alloc(q->alloc_user, q, q->bytes, 0);
}

/* ------------------------------------------------------------ running it */

/* A hidden layer's output unit from its sum. */
static int8_t hidden_unit(const nn__qlayer *ql, int j, int32_t acc)
{
    switch (ql->kind) {
    case NN__Q_LEAKY:
        return nn__sat8(ql->out_zero + nn__qmul_apply(acc, acc < 0 ? ql->mul_neg[j] : ql->mul[j]));
    case NN__Q_TABLE:
        return ql->table[nn__sat8(ql->z_zero + nn__qmul_apply(acc, ql->mul[j])) + 128];
    default: {
        int64_t v = ql->out_zero + nn__qmul_apply(acc, ql->mul[j]);
        return nn__sat8(v < ql->floor ? ql->floor : v);
    }
    }
}

/* The bytes of nn__quant_row's scratch. */
static size_t row_scratch(const nn_quant *q)
{
    return (size_t)q->n_in + 2 * (size_t)q->max_hidden;
}

void nn__quant_row(const nn_quant *q, const float *x, int8_t *t, float *z, float *a)
{
    int8_t *in = t, *buf[2] = {t + q->n_in, t + q->n_in + q->max_hidden};
    for (int i = 0; i < q->n_in; i++)
        in[i] = nn__quantize_one(x[i], q->layers[0].in_scale, q->layers[0].in_zero);
    for (int l = 0; l < q->n_layers; l++) {
        const nn__qlayer *ql = &q->layers[l];
        int8_t *out = buf[l % 2];
        for (int j = 0; j < ql->n_out; j++) {
            int32_t acc = nn__qdot(ql->n_in, ql->W + (size_t)j * ql->n_in, in, ql->bias[j]);
            if (ql->kind == NN__Q_FLOAT)
                (z ? z : a)[j] = (float)acc * ql->deq[j];
            else
                out[j] = hidden_unit(ql, j, acc);
        }
        in = out;
    }
    const nn__qlayer *last = &q->layers[q->n_layers - 1];
    nn__act_forward(last->act, last->act_param, last->slopes, last->n_slopes, 1, last->n_out,
                    z ? z : a, a);
}

static nn_status check_rows(const nn_quant *q, const nn_mat *X, const nn_mat *Out)
{
    if (!q || !nn__mat_ok(X) || !nn__mat_ok(Out))
        return NN_ERR_INVALID_ARG;
    if (X->cols != q->n_in || Out->rows != X->rows || Out->cols != q->layers[q->n_layers - 1].n_out)
        return NN_ERR_SHAPE;
    return NN_OK;
}

nn_status nn_quant_predict(const nn_quant *q, const nn_mat *X, nn_mat *Out)
{
    nn_status s = check_rows(q, X, Out);
    if (s != NN_OK)
        return s;
    int8_t *t = q->alloc(q->alloc_user, NULL, 0, row_scratch(q));
    if (!t)
        return NN_ERR_NOMEM;
    int O = Out->cols;
    for (int r = 0; r < X->rows; r++)
        nn__quant_row(q, X->data + (size_t)r * q->n_in, t, NULL, Out->data + (size_t)r * O);
    q->alloc(q->alloc_user, t, row_scratch(q), 0);
    return NN_OK;
}

/* ------------------------------------------------------------ the comparison */

bool nn__quant_fits(const nn_model *m, const nn_quant *q)
{
    if (m->n_in != q->n_in || m->n_layers != q->n_layers)
        return false;
    for (int l = 0; l < m->n_layers; l++)
        if (m->layers[l].n_out != q->layers[l].n_out || m->layers[l].act != q->layers[l].act)
            return false;
    return true;
}

/* Scratch of the comparison: a chunk of float outputs, int8 outputs and logits. */
typedef struct compare_buf {
    float *f, *a, *z;
    int8_t *t;
    size_t bytes;
} compare_buf;

nn_status nn_quant_evaluate(nn_model *m, const nn_quant *q, const nn_mat *X, const nn_mat *Y,
                            nn_quant_report *report)
{
    const char *fn = "nn_quant_evaluate";
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!q || !report)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: %s is NULL", fn, q ? "report" : "q");
    if (!nn__quant_fits(m, q))
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: q was not quantized from a model "
                        "of this one's shape (inputs, layers, units, activations)", fn);
    nn_loss loss;
    nn_status s = nn__check_data(m, "nn_quant_evaluate", X, "X", Y, "Y", NN_LOSS_AUTO, &loss);
    if (s != NN_OK)
        return s;
    nn_quant_report r = {.float_bytes = m->n_params * sizeof(float), .int8_bytes = q->int8_bytes};
    s = nn_evaluate(m, X, Y, loss, NULL, &r.float_accuracy);
    if (s != NN_OK)
        return s;
    int O = nn__out_layer(m)->n_out, rows = X->rows < CALIB_ROWS ? X->rows : CALIB_ROWS;
    size_t chunk = (size_t)rows * O * sizeof(float);
    compare_buf b = {.bytes = 3 * chunk + row_scratch(q)};
    uint8_t *block = nn__alloc(m, NULL, 0, b.bytes);
    if (!block)
        return nn__no_memory(m, fn, "the comparison's outputs");
    b.f = (float *)block, b.a = b.f + (size_t)rows * O, b.z = b.a + (size_t)rows * O;
    b.t = (int8_t *)(block + 3 * chunk);
    long hits = 0;
    double sum_diff = 0.0;
    for (int start = 0; s == NN_OK && start < X->rows; start += rows) {
        int B = X->rows - start < rows ? X->rows - start : rows;
        nn_mat Xb = nn_mat_wrap(X->data + (size_t)start * m->n_in, B, m->n_in);
        nn_mat Fb = nn_mat_wrap(b.f, B, O);
        s = nn_predict(m, &Xb, &Fb);
        for (int i = 0; s == NN_OK && i < B; i++)
            nn__quant_row(q, Xb.data + (size_t)i * m->n_in, b.t, b.z + (size_t)i * O,
                          b.a + (size_t)i * O);
        for (size_t i = 0; s == NN_OK && i < (size_t)B * O; i++) {
            double d = fabs((double)b.f[i] - b.a[i]);
            r.max_output_diff = d > r.max_output_diff ? d : r.max_output_diff;
            sum_diff += d;
        }
        long chunk_hits = 0;
        if (s == NN_OK && loss != NN_LOSS_MSE) /* hits are counted on the logits */
            nn__loss(loss, B, O, b.z, Y->data + (size_t)start * Y->cols, Y->cols, NULL,
                     &chunk_hits);
        hits += chunk_hits;
    }
    nn__alloc(m, block, b.bytes, 0);
    if (s != NN_OK)
        return s;
    r.mean_output_diff = sum_diff / ((double)X->rows * O);
    r.int8_accuracy = loss == NN_LOSS_CE    ? (double)hits / X->rows
                      : loss == NN_LOSS_BCE ? (double)hits / ((double)X->rows * O)
                                            : NAN;
    *report = r;
    return NN_OK;
}
