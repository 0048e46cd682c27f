/* Metrics of predictions against targets: the confusion matrix and what it gives
 * (accuracy, per-class precision, recall, F1), and MSE and R² for regression.
 * Shape letters: N samples, K classes, D regression outputs. */
#include <string.h>

#include "data/data.h"

/* The predicted class of row r of Out: the argmax, or for one sigmoid column 1 above 0.5. */
static int predicted(const nn_mat *Out, int r)
{
    const float *row = Out->data + (size_t)r * Out->cols;
    return Out->cols == 1 ? row[0] > 0.5f : nn__argmax(row, Out->cols);
}

/* The true class of row r of Y: an index (checked by the caller) or a one-hot row's argmax. */
static int actual(const nn_mat *Y, int r)
{
    const float *row = Y->data + (size_t)r * Y->cols;
    return Y->cols == 1 ? (int)row[0] : nn__argmax(row, Y->cols);
}

nn_status nn_confusion(const nn_mat *Out, const nn_mat *Y, int64_t *counts)
{
    if (!nn__mat_ok(Out) || !nn__mat_ok(Y) || !counts)
        return NN_ERR_INVALID_ARG;
    int N = Out->rows, K = Out->cols == 1 ? 2 : Out->cols;
    if (Y->rows != N || (Y->cols != 1 && Y->cols != Out->cols))
        return NN_ERR_SHAPE;
    if (Y->cols == 1)
        for (int r = 0; r < N; r++)
            if (nn__class_index(Y->data[r], K) < 0)
                return NN_ERR_LABEL;
    memset(counts, 0, (size_t)K * (size_t)K * sizeof *counts);
    for (int r = 0; r < N; r++)
        counts[(size_t)actual(Y, r) * K + predicted(Out, r)]++;
    return NN_OK;
}

nn_status nn_class_metrics(const int64_t *counts, int n_classes, double *accuracy,
                           nn_class_score *per_class)
{
    int K = n_classes;
    if (!counts || K <= 0)
        return NN_ERR_INVALID_ARG;
    /* Every count non-negative and the total within int64: then so are all row and column sums. */
    int64_t total = 0, hits = 0;
    for (size_t i = 0; i < (size_t)K * K; i++) {
        if (counts[i] < 0 || counts[i] > INT64_MAX - total)
            return NN_ERR_INVALID_ARG;
        total += counts[i];
    }
    if (total == 0)
        return NN_ERR_INVALID_ARG;
    for (int k = 0; k < K; k++)
        hits += counts[(size_t)k * K + k];
    if (accuracy)
        *accuracy = (double)hits / (double)total;
    for (int k = 0; per_class && k < K; k++) {
        int64_t tp = counts[(size_t)k * K + k], row = 0, col = 0;
        for (int j = 0; j < K; j++) {
            row += counts[(size_t)k * K + j]; /* samples of class k */
            col += counts[(size_t)j * K + k]; /* samples predicted as k */
        }
        double p = col ? (double)tp / (double)col : 0.0, r = row ? (double)tp / (double)row : 0.0;
        per_class[k] = (nn_class_score){.precision = p, .recall = r,
                                        .f1 = p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0,
                                        .support = row};
    }
    return NN_OK;
}

nn_status nn_regression_metrics(const nn_mat *Out, const nn_mat *Y, double *mse, double *r2)
{
    if (!nn__mat_ok(Out) || !nn__mat_ok(Y))
        return NN_ERR_INVALID_ARG;
    if (Out->rows != Y->rows || Out->cols != Y->cols)
        return NN_ERR_SHAPE;
    int N = Y->rows, D = Y->cols;
    double residual_total = 0.0, r2_sum = 0.0;
    for (int d = 0; d < D; d++) {
        double mean = 0.0, residual = 0.0, spread = 0.0;
        for (int r = 0; r < N; r++)
            mean += Y->data[(size_t)r * D + d];
        mean /= N;
        for (int r = 0; r < N; r++) {
            double y = Y->data[(size_t)r * D + d], e = Out->data[(size_t)r * D + d] - y;
            residual += e * e;
            spread += (y - mean) * (y - mean);
        }
        residual_total += residual;
        /* A constant target has no variance to explain: scored as scikit-learn does. */
        r2_sum += spread > 0.0 ? 1.0 - residual / spread : residual == 0.0 ? 1.0 : 0.0;
    }
    if (mse)
        *mse = residual_total / ((double)N * D);
    if (r2)
        *r2 = r2_sum / D;
    return NN_OK;
}
