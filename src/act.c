/* Activations: forward/backward pairs, on (B, O) row-major blocks.
 * Shape letters: B rows (samples), O columns (units). */
#include <math.h>

#include "nn_internal.h"

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

/* 1/(1+e^-z) written so that e^x is only taken of x <= 0: no overflow for any z. */
float nn__sigmoid(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* a = softmax(z) for one row; subtracting the max first keeps every e^x in (0, 1]. */
static void softmax_row(int O, const float *z, float *a)
{
    float max = z[0];
    for (int j = 1; j < O; j++)
        max = z[j] > max ? z[j] : max;
    float sum = 0.0f;
    for (int j = 0; j < O; j++) {
        a[j] = expf(z[j] - max);
        sum += a[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < O; j++)
        a[j] *= inv;
}

void nn__act_forward(nn_act act, float param, int B, int O, const float *Z /* (B, O) */,
                     float *A /* (B, O), may be Z */)
{
    size_t n = (size_t)B * O;
    switch (act) {
    case NN_ACT_LINEAR:
        for (size_t i = 0; i < n; i++)
            A[i] = Z[i];
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            A[i] = nn__sigmoid(Z[i]);
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            A[i] = tanhf(Z[i]);
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            A[i] = Z[i] > 0.0f ? Z[i] : 0.0f;
        break;
    case NN_ACT_LEAKY_RELU:
    case NN_ACT_PRELU: /* on its own (outside a model) PReLU is leaky ReLU with slope param */
    case NN_ACT_PRELU_UNITS:
        for (size_t i = 0; i < n; i++)
            A[i] = Z[i] > 0.0f ? Z[i] : param * Z[i];
        break;
    case NN_ACT_SOFTMAX:
        for (int r = 0; r < B; r++)
            softmax_row(O, Z + (size_t)r * O, A + (size_t)r * O);
        break;
    case NN_ACT_ELU:
        for (size_t i = 0; i < n; i++)
            A[i] = Z[i] > 0.0f ? Z[i] : param * expm1f(Z[i]);
        break;
    case NN_ACT_GELU: /* the exact form, as PyTorch's default GELU */
        for (size_t i = 0; i < n; i++)
            A[i] = 0.5f * Z[i] * (1.0f + erff(Z[i] * 0.70710678f));
        break;
    }
}

void nn__act_backward(nn_act act, float param, int B, int O, const float *Z /* (B, O) */,
                      const float *A /* (B, O) */, const float *dA /* (B, O) */,
                      float *dZ /* (B, O), may be dA */)
{
    size_t n = (size_t)B * O;
    switch (act) {
    case NN_ACT_LINEAR:
        for (size_t i = 0; i < n; i++)
            dZ[i] = dA[i];
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dZ[i] = dA[i] * A[i] * (1.0f - A[i]);
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dZ[i] = dA[i] * (1.0f - A[i] * A[i]);
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dZ[i] = Z[i] > 0.0f ? dA[i] : 0.0f;
        break;
    case NN_ACT_LEAKY_RELU:
    case NN_ACT_PRELU:
    case NN_ACT_PRELU_UNITS:
        for (size_t i = 0; i < n; i++)
            dZ[i] = Z[i] > 0.0f ? dA[i] : param * dA[i];
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
    case NN_ACT_ELU: /* for z <= 0, α(e^z - 1) has derivative α·e^z = a + α */
        for (size_t i = 0; i < n; i++)
            dZ[i] = Z[i] > 0.0f ? dA[i] : dA[i] * (A[i] + param);
        break;
    case NN_ACT_GELU: /* d/dz z·Φ(z) = Φ(z) + z·φ(z) */
        for (size_t i = 0; i < n; i++) {
            float z = Z[i], cdf = 0.5f * (1.0f + erff(z * 0.70710678f));
            float pdf = 0.39894228f * expf(-0.5f * z * z);
            dZ[i] = dA[i] * (cdf + z * pdf);
        }
        break;
    }
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
    nn__act_forward(act, nn__act_param(act, param), Z->rows, Z->cols, Z->data, A->data);
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
    nn__act_backward(act, nn__act_param(act, param), dZ->rows, dZ->cols, Z->data, A->data,
                     dA->data, dZ->data);
    return NN_OK;
}
