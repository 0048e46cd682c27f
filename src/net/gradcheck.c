/* nn_grad_check: back-propagation against central finite differences.
 * Shape letters: B batch rows, P parameters. */
#include <math.h>
#include <string.h>

#include "net/net.h"

nn_status nn_grad_check(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss, float h,
                        size_t max_params, double *worst_rel_error)
{
    if (!m || !worst_rel_error || !isfinite(h) || h < 0.0f)
        return NN_ERR_INVALID_ARG;
    nn_status s = nn__check_data(m, "nn_grad_check", X, "X", Y, "Y", loss, &loss);
    if (s == NN_OK)
        s = nn__reserve(m, X->rows, X->rows);
    if (s != NN_OK)
        return s;
    size_t P = m->n_params, bytes = P * sizeof(float);
    float *saved_grads = nn__alloc(m, NULL, 0, bytes);
    if (!saved_grads)
        return NN_ERR_NOMEM;
    memcpy(saved_grads, m->grads, bytes);
    if (h == 0.0f)
        h = 1e-3f;
    int B = X->rows;

    nn__forward(m, X->data, B, false);
    nn__backward(m, X->data, B, Y->data, Y->cols, loss, false);

    size_t count = max_params > 0 && max_params < P ? max_params : P;
    double worst = 0.0;
    for (size_t k = 0; k < count; k++) {
        size_t i = (size_t)((double)k * (double)P / (double)count); /* spread over all layers */
        float p = m->params[i], plus = p + h, minus = p - h;
        m->params[i] = plus;
        nn__forward(m, X->data, B, false);
        double loss_plus = nn__forward_loss(m, B, Y->data, Y->cols, loss, NULL);
        m->params[i] = minus;
        nn__forward(m, X->data, B, false);
        double loss_minus = nn__forward_loss(m, B, Y->data, Y->cols, loss, NULL);
        m->params[i] = p;
        /* Divide by the step actually taken: p ± h is rounded to float. */
        double fd = (loss_plus - loss_minus) / ((double)plus - (double)minus);
        double g = m->grads[i];
        double scale = fmax(fmax(fabs(g), fabs(fd)), 1e-3);
        double err = fabs(g - fd) / scale;
        if (isnan(err)) /* a NaN gradient or loss is the worst error there is */
            err = INFINITY;
        if (err > worst)
            worst = err;
    }
    memcpy(m->grads, saved_grads, bytes);
    nn__alloc(m, saved_grads, bytes, 0);
    m->batch = 0; /* the workspace no longer holds a forward of the caller's */
    *worst_rel_error = worst;
    return NN_OK;
}
