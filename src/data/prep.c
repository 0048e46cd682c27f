/* Preparing data for training: per-column scaling, one-hot targets, a seeded split.
 * Shape letters: N rows, C columns, K classes, D columns of Y. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "data/data.h"

/* One column's statistics, summed in double in two passes (the mean, then the squared
 * deviations from it): no cancellation as in E[x²] - E[x]². */
static void column_stats(const nn_mat *X, int c, nn_scale scaling, double *shift,
                         double *spread)
{
    int N = X->rows, C = X->cols;
    double lo = INFINITY, hi = -INFINITY, sum = 0.0, sq = 0.0;
    for (int r = 0; r < N; r++) {
        double x = X->data[(size_t)r * C + c];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        sum += x;
    }
    if (scaling == NN_SCALE_MINMAX) {
        *shift = lo;
        *spread = hi - lo;
        return;
    }
    double mean = sum / N;
    for (int r = 0; r < N; r++) {
        double d = X->data[(size_t)r * C + c] - mean;
        sq += d * d;
    }
    *shift = mean;
    *spread = sqrt(sq / N);
}

nn_status nn_scale_fit(const nn_mat *X, nn_scale scaling, nn_mat *stats)
{
    if (!nn__mat_ok(X) || !nn__mat_ok(stats) ||
        (scaling != NN_SCALE_MINMAX && scaling != NN_SCALE_ZSCORE))
        return NN_ERR_INVALID_ARG;
    int C = X->cols;
    if (stats->rows != 2 || stats->cols != C)
        return NN_ERR_SHAPE;
    size_t n = nn__mat_size(X);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(X->data[i]))
            return NN_ERR_INVALID_ARG;
    for (int c = 0; c < C; c++) {
        double shift, spread;
        column_stats(X, c, scaling, &shift, &spread);
        /* A constant column (or one so narrow that 1/spread overflows a float) keeps factor
         * 1: it maps to 0 instead of dividing by zero. */
        double factor = spread > 0.0 ? 1.0 / spread : 1.0;
        stats->data[c] = (float)shift;
        stats->data[C + c] = factor <= FLT_MAX ? (float)factor : 1.0f;
    }
    return NN_OK;
}

nn_status nn_scale_apply(const nn_mat *stats, nn_mat *X)
{
    if (!nn__mat_ok(stats) || !nn__mat_ok(X))
        return NN_ERR_INVALID_ARG;
    int C = X->cols;
    if (stats->rows != 2 || stats->cols != C)
        return NN_ERR_SHAPE;
    const float *shift = stats->data, *factor = stats->data + C;
    for (int r = 0; r < X->rows; r++) {
        float *x = X->data + (size_t)r * C;
        for (int c = 0; c < C; c++)
            x[c] = (x[c] - shift[c]) * factor[c];
    }
    return NN_OK;
}

nn_status nn_one_hot(const nn_mat *labels, nn_mat *out)
{
    if (!nn__mat_ok(labels) || !nn__mat_ok(out) || nn__mat_overlap(labels, out))
        return NN_ERR_INVALID_ARG;
    int N = labels->rows, K = out->cols;
    if (labels->cols != 1 || out->rows != N)
        return NN_ERR_SHAPE;
    for (int i = 0; i < N; i++)
        if (nn__class_index(labels->data[i], K) < 0)
            return NN_ERR_LABEL;
    memset(out->data, 0, nn__mat_size(out) * sizeof(float));
    for (int i = 0; i < N; i++)
        out->data[(size_t)i * K + nn__class_index(labels->data[i], K)] = 1.0f;
    return NN_OK;
}

/* Exchanges rows i and j of m, element by element: no scratch row to allocate. */
static void swap_rows(nn_mat *m, int i, int j)
{
    float *a = m->data + (size_t)i * m->cols, *b = m->data + (size_t)j * m->cols;
    for (int c = 0; c < m->cols; c++) {
        float t = a[c];
        a[c] = b[c];
        b[c] = t;
    }
}

typedef struct row_pair {
    nn_mat *X, *Y; /* Y may be NULL */
} row_pair;

static void swap_row_pair(void *ctx, int i, int j)
{
    row_pair *p = ctx;
    swap_rows(p->X, i, j);
    if (p->Y)
        swap_rows(p->Y, i, j);
}

nn_status nn_split_rows(nn_mat *X, nn_mat *Y, double val_fraction, uint64_t seed, nn_split *out)
{
    if (!nn__mat_ok(X) || (Y && !nn__mat_ok(Y)) || (Y && nn__mat_overlap(X, Y)) || !out ||
        !(val_fraction > 0.0) || !(val_fraction < 1.0))
        return NN_ERR_INVALID_ARG;
    int N = X->rows;
    if (Y && Y->rows != N)
        return NN_ERR_SHAPE;
    int V = (int)floor(val_fraction * N + 0.5);
    if (V < 1 || V > N - 1)
        return NN_ERR_INVALID_ARG; /* a part would be empty */

    /* The shuffle nn_train uses, applied to the rows in place. */
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn__shuffle_swaps(N, &rng, swap_row_pair, &(row_pair){X, Y});
    int T = N - V;
    nn_split s = {0};
    s.X_train = nn_mat_wrap(X->data, T, X->cols);
    s.X_val = nn_mat_wrap(X->data + (size_t)T * X->cols, V, X->cols);
    if (Y) {
        s.Y_train = nn_mat_wrap(Y->data, T, Y->cols);
        s.Y_val = nn_mat_wrap(Y->data + (size_t)T * Y->cols, V, Y->cols);
    }
    *out = s;
    return NN_OK;
}
