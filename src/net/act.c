/* Activations: forward/backward pairs, on (B, O) row-major blocks, PReLU's learned slopes
 * included. The element-wise formulas are in act_inline.h.
 * Shape letters: B rows (samples), O columns (units). */
#include <math.h>

#include "net/act_inline.h"
#include "net/net.h"

bool nn__act_valid(nn_act act)
{
    return act >= NN_ACT_LINEAR && act <= NN_ACT_PRELU_UNITS;
}

int nn__act_slopes(nn_act act, int O)
{
    return act == NN_ACT_PRELU ? 1 : act == NN_ACT_PRELU_UNITS ? O : 0;
}

float nn__act_param(nn_act act, float param)
{
    if (param == 0.0f && act == NN_ACT_LEAKY_RELU)
        return 0.01f;
    if (param == 0.0f && act == NN_ACT_ELU)
        return 1.0f;
    if (param == 0.0f && (act == NN_ACT_PRELU || act == NN_ACT_PRELU_UNITS))
        return 0.25f; /* PyTorch's initial slope */
    return param;
}

/* a = softmax(z) for one row; subtracting the max first keeps every e^x in (0, 1]. */
static void softmax_row(int O, const float *z, float *a)
{
    float max = z[0];
    for (int j = 1; j < O; j++)
        max = z[j] > max ? z[j] : max;
    float sum = 0.0f;
    for (int j = 0; j < O; j++) {
        a[j] = nn__exp(z[j] - max);
        sum += a[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < O; j++)
        a[j] *= inv;
}

/* Each case loops with its activation constant, so nn__act_one's switch folds away. */
#define EACH(kind, expr)                                                                   \
    case kind:                                                                             \
        for (size_t i = 0; i < n; i++)                                                     \
            expr;                                                                          \
        break

/* PReLU: a = z > 0 ? z : s·z, with slope s_j one shared (n_slopes 1) or one per unit. */
static void prelu_forward(const float *s, int n_slopes, int B, int O, const float *Z, float *A)
{
    for (int r = 0; r < B; r++, Z += O, A += O)
        for (int j = 0; j < O; j++)
            A[j] = Z[j] > 0.0f ? Z[j] : s[n_slopes > 1 ? j : 0] * Z[j];
}

/* PReLU's backward: dz = dL/da where z > 0, s·dL/da elsewhere; and, if ds is not NULL,
 * ∂L/∂s_j += Σ over outputs of unit j with z <= 0 of z·∂L/∂a. That sum runs over the rows,
 * so a block with ds is never split between threads. */
static void prelu_backward(const float *s, int n_slopes, float *ds, int B, int O,
                           const float *Z, const float *dA, float *dZ)
{
    for (int r = 0; r < B; r++, Z += O, dA += O, dZ += O)
        for (int j = 0; j < O; j++) {
            int k = n_slopes > 1 ? j : 0;
            if (Z[j] <= 0.0f) {
                if (ds)
                    ds[k] += Z[j] * dA[j];
                dZ[j] = dA[j] * s[k];
            } else {
                dZ[j] = dA[j];
            }
        }
}

void nn__act_forward(nn_act act, float param, const float *slopes, int n_slopes, int B, int O,
                     const float *Z /* (B, O) */, float *A /* (B, O), may be Z */)
{
    size_t n = (size_t)B * O;
    switch (act) {
        EACH(NN_ACT_LINEAR, A[i] = Z[i]);
        EACH(NN_ACT_SIGMOID, A[i] = nn__act_one(NN_ACT_SIGMOID, param, Z[i]));
        EACH(NN_ACT_TANH, A[i] = nn__act_one(NN_ACT_TANH, param, Z[i]));
        EACH(NN_ACT_RELU, A[i] = nn__act_one(NN_ACT_RELU, param, Z[i]));
        EACH(NN_ACT_LEAKY_RELU, A[i] = nn__act_one(NN_ACT_LEAKY_RELU, param, Z[i]));
        EACH(NN_ACT_ELU, A[i] = nn__act_one(NN_ACT_ELU, param, Z[i]));
        EACH(NN_ACT_GELU, A[i] = nn__act_one(NN_ACT_GELU, param, Z[i]));
    case NN_ACT_PRELU:
    case NN_ACT_PRELU_UNITS:
        prelu_forward(slopes, n_slopes, B, O, Z, A);
        break;
    case NN_ACT_SOFTMAX:
        for (int r = 0; r < B; r++)
            softmax_row(O, Z + (size_t)r * O, A + (size_t)r * O);
        break;
    }
}

void nn__act_backward(nn_act act, float param, const float *slopes, int n_slopes, float *ds,
                      int B, int O, const float *Z /* (B, O) */, const float *A /* (B, O) */,
                      const float *dA /* (B, O) */, float *dZ /* (B, O), may be dA */)
{
    size_t n = (size_t)B * O;
#define GRAD(kind) dZ[i] = nn__act_grad_one(kind, param, Z[i], A[i], dA[i])
    switch (act) {
        EACH(NN_ACT_LINEAR, dZ[i] = dA[i]);
        EACH(NN_ACT_SIGMOID, GRAD(NN_ACT_SIGMOID));
        EACH(NN_ACT_TANH, GRAD(NN_ACT_TANH));
        EACH(NN_ACT_RELU, GRAD(NN_ACT_RELU));
        EACH(NN_ACT_LEAKY_RELU, GRAD(NN_ACT_LEAKY_RELU));
        EACH(NN_ACT_ELU, GRAD(NN_ACT_ELU));
        EACH(NN_ACT_GELU, GRAD(NN_ACT_GELU));
    case NN_ACT_PRELU:
    case NN_ACT_PRELU_UNITS:
        prelu_backward(slopes, n_slopes, ds, B, O, Z, dA, dZ);
        break;
    case NN_ACT_SOFTMAX:
        /* Jacobian-vector product of softmax: dz_i = a_i (da_i - Σ_j da_j a_j). */
        for (int r = 0; r < B; r++) {
            const float *a = A + (size_t)r * O, *da = dA + (size_t)r * O;
            float *dz = dZ + (size_t)r * O, dot = 0.0f;
            for (int j = 0; j < O; j++)
                dot += da[j] * a[j];
            for (int j = 0; j < O; j++)
                dz[j] = a[j] * (da[j] - dot);
        }
        break;
    }
#undef GRAD
}
#undef EACH

const char *nn__act_name(nn_act act)
{
    switch (act) {
    case NN_ACT_LINEAR:
        return "linear";
    case NN_ACT_SIGMOID:
        return "sigmoid";
    case NN_ACT_TANH:
        return "tanh";
    case NN_ACT_RELU:
        return "relu";
    case NN_ACT_LEAKY_RELU:
        return "leaky_relu";
    case NN_ACT_SOFTMAX:
        return "softmax";
    case NN_ACT_ELU:
        return "elu";
    case NN_ACT_GELU:
        return "gelu";
    case NN_ACT_PRELU:
        return "prelu";
    case NN_ACT_PRELU_UNITS:
        return "prelu_units";
    }
    return "unknown activation";
}

static bool same_shape(const nn_mat *x, const nn_mat *y)
{
    return x->rows == y->rows && x->cols == y->cols;
}

nn_status nn_act_forward(nn_mat *A, const nn_mat *Z, nn_act act, float param)
{
    if (!nn__mat_ok(A) || !nn__mat_ok(Z) || !nn__act_valid(act) || !isfinite(param))
        return NN_ERR_INVALID_ARG;
    if (!same_shape(A, Z))
        return NN_ERR_SHAPE;
    /* On its own, outside a model, PReLU has the one slope param: leaky ReLU's formula. */
    float p = nn__act_param(act, param);
    nn__act_forward(act, p, &p, 1, Z->rows, Z->cols, Z->data, A->data);
    return NN_OK;
}

nn_status nn_act_backward(nn_mat *dZ, const nn_mat *dA, const nn_mat *Z, const nn_mat *A,
                          nn_act act, float param)
{
    if (!nn__mat_ok(dZ) || !nn__mat_ok(dA) || !nn__mat_ok(Z) || !nn__mat_ok(A) ||
        !nn__act_valid(act) || !isfinite(param))
        return NN_ERR_INVALID_ARG;
    if (!same_shape(dZ, dA) || !same_shape(dZ, Z) || !same_shape(dZ, A))
        return NN_ERR_SHAPE;
    float p = nn__act_param(act, param); /* PReLU: the one slope param, as in the forward */
    nn__act_backward(act, p, &p, 1, NULL, dZ->rows, dZ->cols, Z->data, A->data, dA->data,
                     dZ->data);
    return NN_OK;
}
