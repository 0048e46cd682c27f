/* Weight initialisers. W is (fan_out, fan_in), as every dense layer stores it.
 *
 * Why random at all: if every weight starts equal, every unit of a layer computes the same
 * value and receives the same gradient, so they stay equal forever. Why these scales: Xavier
 * keeps the variance of activations and gradients the same from layer to layer for tanh and
 * sigmoid, He does the same for ReLU, which zeroes half its inputs. */
#include <math.h>

#include "net/net.h"

bool nn__init_valid(nn_init init)
{
    return init >= NN_INIT_AUTO && init <= NN_INIT_ZEROS;
}

nn_init nn__init_resolve(nn_init init, nn_act act)
{
    if (init != NN_INIT_AUTO)
        return init;
    bool relu_family = act == NN_ACT_RELU || act == NN_ACT_LEAKY_RELU || act == NN_ACT_PRELU ||
                       act == NN_ACT_PRELU_UNITS;
    return relu_family ? NN_INIT_HE_NORMAL : NN_INIT_XAVIER_UNIFORM;
}

void nn__init_fill(float *W, int fan_out, int fan_in, nn_init init, float param, nn_rng *rng)
{
    size_t n = (size_t)fan_out * fan_in;
    double fans = (double)fan_in + fan_out;
    if (init == NN_INIT_XAVIER_UNIFORM) {
        float r = (float)sqrt(6.0 / fans);
        for (size_t i = 0; i < n; i++)
            W[i] = (2.0f * nn_rng_uniform(rng) - 1.0f) * r;
        return;
    }
    float sigma = init == NN_INIT_XAVIER_NORMAL ? (float)sqrt(2.0 / fans)
                : init == NN_INIT_HE_NORMAL     ? (float)sqrt(2.0 / fan_in)
                : init == NN_INIT_NORMAL        ? (param == 0.0f ? 0.01f : param)
                                                : 0.0f; /* NN_INIT_ZEROS */
    for (size_t i = 0; i < n; i++)
        W[i] = sigma == 0.0f ? 0.0f : sigma * nn_rng_normal(rng);
}

nn_status nn_init_fill(nn_mat *W, nn_init init, float param, nn_rng *rng)
{
    if (!nn__mat_ok(W) || !rng || !nn__init_valid(init) || init == NN_INIT_AUTO ||
        !isfinite(param) || param < 0.0f)
        return NN_ERR_INVALID_ARG;
    nn__init_fill(W->data, W->rows, W->cols, init, param, rng);
    return NN_OK;
}
