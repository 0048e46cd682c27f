/* The int8 version of a model (quant.c): what nn_quantize makes, nn_quant_predict runs and
 * the C exporter (formats/export_c.c) writes out. The integer arithmetic is defined here once,
 * in the inline functions below; the exporter emits the same operations as C source, and
 * tests/test_export_c.c holds the two to the same bits.
 * Shape letters: I a layer's inputs, O its outputs. */
#ifndef NN_QUANT_H
#define NN_QUANT_H

#include "net/net.h"

/* How a layer turns its int32 sums into its output. */
typedef enum nn__qkind {
    NN__Q_LINEAR, /* hidden linear or ReLU: q = zp + round(acc·M), then clamped (ReLU: at zp) */
    NN__Q_LEAKY,  /* hidden leaky ReLU / PReLU: M for acc >= 0, M·slope for acc < 0 */
    NN__Q_TABLE,  /* hidden sigmoid, tanh, ELU, GELU: z = zp_z + round(acc·M_z), q = table[z] */
    NN__Q_FLOAT,  /* the last layer: z = acc·deq in float, then its activation in float */
} nn__qkind;

/* A fixed-point multiplier: x·M is computed as round(x·m / 2^n), m an int32 (|m| in
 * [2^30, 2^31) or 0), n in 1 .. 62. */
typedef struct nn__qmul {
    int32_t m;
    int32_t n;
} nn__qmul;

typedef struct nn__qlayer {
    int n_in, n_out;
    nn_act act;
    float act_param;     /* with its default applied */
    nn__qkind kind;
    int8_t *W;           /* (O, I) weights, w ≈ w_scale[j]·W[j][i] */
    int32_t *bias;       /* (O) round(b / (in_scale·w_scale)) − in_zero·Σ_i W[j][i] */
    float *w_scale;      /* (O) */
    nn__qmul *mul;       /* (O) hidden layers: acc to the output (LINEAR, LEAKY) or to z (TABLE) */
    nn__qmul *mul_neg;   /* (O) LEAKY: acc < 0 to the output */
    int8_t *table;       /* (256) TABLE: table[z + 128] */
    float *deq;          /* (O) FLOAT: in_scale·w_scale[j] */
    float *slopes;       /* (n_slopes) FLOAT with PReLU: the learned slopes */
    int n_slopes;
    float in_scale;      /* the input: x ≈ in_scale·(q − in_zero) */
    int in_zero;
    float out_scale;     /* hidden layers: the output, likewise */
    int out_zero;
    float z_scale;       /* TABLE: the pre-activation */
    int z_zero;
    int floor;           /* LINEAR: the lowest output, out_zero for ReLU, −128 otherwise */
} nn__qlayer;

struct nn_quant {
    int n_in, n_layers;
    nn__qlayer *layers;  /* (n_layers) */
    int max_hidden;      /* the widest hidden layer's units (0 with one layer) */
    size_t int8_bytes;   /* the constants an exported file holds */
    nn_alloc_fn alloc;
    void *alloc_user;
    size_t bytes;        /* the one block everything above lives in, this struct first */
};

/* round(x·m / 2^n), half up, for |x| < 2^31: the requantization of an int32 sum. The
 * product is under 2^62 in magnitude; offset by 2^63 it is a positive uint64, so the shift
 * is a logical one and no signed shift (implementation-defined) is needed. */
static inline int64_t nn__qmul_apply(int32_t x, nn__qmul k)
{
    uint64_t u = (uint64_t)((int64_t)x * k.m) + (UINT64_C(1) << 63) + (UINT64_C(1) << (k.n - 1));
    return (int64_t)(u >> k.n) - (int64_t)(UINT64_C(1) << (63 - k.n));
}

static inline int8_t nn__sat8(int64_t v)
{
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

/* x to its int8 code with scale s and zero point zp: round half away from zero of x/s + zp,
 * clamped; NaN gives −128. */
static inline int8_t nn__quantize_one(float x, float s, int zp)
{
    float v = x / s + (float)zp;
    if (!(v >= -128.0f))
        v = -128.0f;
    if (v > 127.0f)
        v = 127.0f;
    return (int8_t)(v >= 0.0f ? (int)(v + 0.5f) : -(int)(0.5f - v));
}

/* acc_j = bias_j + Σ_i W[j][i]·x[i] (exact in int32: the inputs are limited by
 * NN__QUANT_MAX_INPUTS). */
static inline int32_t nn__qdot(int I, const int8_t *w, const int8_t *x, int32_t bias)
{
    int32_t acc = bias;
    for (int i = 0; i < I; i++)
        acc += (int32_t)w[i] * (int32_t)x[i];
    return acc;
}
#define NN__QUANT_MAX_INPUTS 65536 /* 65536·127·128 + a bias < 2^31 */

/* One row through the int8 model: x (n_in) floats in, a (n_out) out, and z (n_out) the last
 * layer's pre-activation if not NULL; t is scratch of 2·max_hidden bytes. */
/* Whether q was made from a model of m's shape: inputs, layers, units and activations. */
bool nn__quant_fits(const nn_model *m, const nn_quant *q);

void nn__quant_row(const nn_quant *q, const float *x, int8_t *t, float *z, float *a);

#endif /* NN_QUANT_H */
