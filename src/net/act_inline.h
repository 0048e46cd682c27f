/* Every element-wise activation and its derivative, and the binary cross-entropy of a logit,
 * one element at a time: the single place their formulas are written. act.c runs them over
 * whole blocks, with the activation constant in each loop, so the switch folds away and the
 * loop vectorizes; loss.c takes BCE from here. Softmax (per row) and PReLU
 * (learned slopes) are not one element with a constant parameter: they live in act.c. */
#ifndef NN_ACT_INLINE_H
#define NN_ACT_INLINE_H

#include <math.h>

#include "kernels/fastmath.h"
#include "nn.h"

/* a = g(z); param is the activation's parameter with its default applied. */
static inline float nn__act_one(nn_act act, float param, float z)
{
    switch (act) {
    case NN_ACT_SIGMOID:
        return nn__sigmoid_inline(z);
    case NN_ACT_TANH:
        return nn__tanh(z);
    case NN_ACT_RELU:
        return z > 0.0f ? z : 0.0f;
    case NN_ACT_LEAKY_RELU:
        return z > 0.0f ? z : param * z;
    case NN_ACT_ELU:
        return z > 0.0f ? z : param * nn__expm1(z);
    case NN_ACT_GELU: /* the exact form, as PyTorch's default GELU */
        return 0.5f * z * (1.0f + erff(z * 0.70710678f));
    default: /* NN_ACT_LINEAR */
        return z;
    }
}

/* dL/dz = g'(z)·dL/da, from z, a = g(z) and da = dL/da. */
static inline float nn__act_grad_one(nn_act act, float param, float z, float a, float da)
{
    switch (act) {
    case NN_ACT_SIGMOID:
        return da * a * (1.0f - a);
    case NN_ACT_TANH:
        return da * (1.0f - a * a);
    case NN_ACT_RELU:
        return z > 0.0f ? da : 0.0f;
    case NN_ACT_LEAKY_RELU:
        return z > 0.0f ? da : param * da;
    case NN_ACT_ELU: /* for z <= 0, α(e^z - 1) has derivative α·e^z = a + α */
        return z > 0.0f ? da : da * (a + param);
    case NN_ACT_GELU: { /* d/dz z·Φ(z) = Φ(z) + z·φ(z) */
        float cdf = 0.5f * (1.0f + erff(z * 0.70710678f));
        float pdf = 0.39894228f * expf(-0.5f * z * z);
        return da * (cdf + z * pdf);
    }
    default: /* NN_ACT_LINEAR */
        return da;
    }
}

/* Binary cross-entropy of one logit z against y in [0, 1], and its gradient σ(z) - y in *dz.
 * log(1 + e^-|z|) never overflows; max(z, 0) - z·y completes the identity
 * -[y log σ(z) + (1-y) log(1-σ(z))]. The same e^-|z| gives σ(z). */
static inline float nn__bce_one(float z, float y, float *dz)
{
    float t = nn__exp(-fabsf(z));
    *dz = nn__sigmoid_of(z, t) - y;
    return (z > 0.0f ? z : 0.0f) - z * y + nn__log1p_unit(t);
}

#endif /* NN_ACT_INLINE_H */
