/* The public matrix type and its operations. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

bool nn__mat_ok(const nn_mat *m)
{
    return m && m->rows > 0 && m->cols > 0 && m->data;
}

size_t nn__mat_size(const nn_mat *m)
{
    return (size_t)m->rows * (size_t)m->cols;
}

bool nn__mat_overlap(const nn_mat *a, const nn_mat *b)
{
    uintptr_t a0 = (uintptr_t)a->data, a1 = a0 + nn__mat_size(a) * sizeof(float);
    uintptr_t b0 = (uintptr_t)b->data, b1 = b0 + nn__mat_size(b) * sizeof(float);
    return a0 < b1 && b0 < a1;
}

nn_mat nn_mat_wrap(float *data, int rows, int cols)
{
    nn_mat m = {rows, cols, data};
    return m;
}

nn_status nn_mat_alloc(nn_mat *m, int rows, int cols)
{
    if (!m || rows <= 0 || cols <= 0)
        return NN_ERR_INVALID_ARG;
    /* No object may be larger than PTRDIFF_MAX bytes (pointer differences must fit): a
     * larger matrix, such as INT_MAX × INT_MAX, is refused without asking calloc. */
    if ((size_t)rows > (size_t)PTRDIFF_MAX / sizeof(float) / (size_t)cols)
        return NN_ERR_NOMEM;
    float *data = calloc((size_t)rows, (size_t)cols * sizeof *data);
    if (!data)
        return NN_ERR_NOMEM;
    *m = nn_mat_wrap(data, rows, cols);
    return NN_OK;
}

void nn_mat_free(nn_mat *m)
{
    if (!m)
        return;
    free(m->data);
    *m = nn_mat_wrap(NULL, 0, 0);
}

nn_status nn_mat_alloc_with(nn_mat *m, int rows, int cols, nn_alloc_fn alloc, void *user)
{
    if (!alloc)
        return nn_mat_alloc(m, rows, cols);
    if (!m || rows <= 0 || cols <= 0)
        return NN_ERR_INVALID_ARG;
    if ((size_t)rows > (size_t)PTRDIFF_MAX / sizeof(float) / (size_t)cols)
        return NN_ERR_NOMEM;
    size_t bytes = (size_t)rows * (size_t)cols * sizeof(float);
    float *data = alloc(user, NULL, 0, bytes);
    if (!data)
        return NN_ERR_NOMEM;
    memset(data, 0, bytes);
    *m = nn_mat_wrap(data, rows, cols);
    return NN_OK;
}

void nn_mat_free_with(nn_mat *m, nn_alloc_fn alloc, void *user)
{
    if (!alloc || !m) {
        nn_mat_free(m);
        return;
    }
    if (m->data)
        alloc(user, m->data, (size_t)m->rows * (size_t)m->cols * sizeof(float), 0);
    *m = nn_mat_wrap(NULL, 0, 0);
}

nn_status nn_mat_add(nn_mat *Y, float alpha, const nn_mat *X)
{
    if (!nn__mat_ok(Y) || !nn__mat_ok(X))
        return NN_ERR_INVALID_ARG;
    if (Y->rows != X->rows || Y->cols != X->cols)
        return NN_ERR_SHAPE;
    size_t n = nn__mat_size(Y);
    for (size_t i = 0; i < n; i++)
        Y->data[i] += alpha * X->data[i];
    return NN_OK;
}

nn_status nn_mat_scale(nn_mat *X, float alpha)
{
    if (!nn__mat_ok(X))
        return NN_ERR_INVALID_ARG;
    size_t n = nn__mat_size(X);
    for (size_t i = 0; i < n; i++)
        X->data[i] *= alpha;
    return NN_OK;
}

bool nn__any_nonfinite(const float *x, size_t n)
{
    /* A float is infinite or NaN exactly when its exponent bits are all ones; testing the bits
     * (not isfinite) lets the compiler vectorize the loop. */
    uint32_t all_ones = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        all_ones |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return all_ones != 0;
}

bool nn__find_nonfinite(const float *x, size_t n, size_t *at)
{
    enum { BLOCK = 4096 }; /* scanned without a branch per value, then searched if hit */
    for (size_t lo = 0; lo < n; lo += BLOCK) {
        size_t len = n - lo < BLOCK ? n - lo : BLOCK;
        if (!nn__any_nonfinite(x + lo, len))
            continue;
        for (size_t i = lo; i < lo + len; i++)
            if (!isfinite(x[i])) {
                *at = i;
                return true;
            }
    }
    return false;
}

int nn__argmax(const float *x, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (x[j] > x[best])
            best = j;
    return best;
}

int nn__class_index(float y, int K)
{
    return y >= 0.0f && y < (float)K && y == floorf(y) ? (int)y : -1;
}

nn_status nn_mat_argmax(const nn_mat *X, int *index)
{
    if (!nn__mat_ok(X) || !index)
        return NN_ERR_INVALID_ARG;
    for (int r = 0; r < X->rows; r++)
        index[r] = nn__argmax(X->data + (size_t)r * X->cols, X->cols);
    return NN_OK;
}
