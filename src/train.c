/* The training loop (mini-batch SGD), prediction and evaluation.
 * Shape letters: N samples, B batch rows, I model inputs, O model outputs. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <math.h>
#include <string.h>
#include <time.h>

#include "nn_internal.h"

/* Rows processed at once by predict and evaluate: bounds their workspace. */
enum { CHUNK_ROWS = 256 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nn_train_opts nn_train_defaults(void)
{
    return (nn_train_opts){.epochs = 10, .batch_size = 32, .learning_rate = 0.01f,
                           .loss = NN_LOSS_AUTO};
}

/* Fisher–Yates: every permutation equally likely (up to the generator). */
static void shuffle(int *order, int n, nn_rng *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(((uint64_t)nn_rng_next(rng) * (uint64_t)(i + 1)) >> 32);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Copies rows order[0..B) of src (N, cols) into dst (B, cols). */
static void gather(float *dst, const float *src, int cols, const int *order, int B)
{
    for (int r = 0; r < B; r++)
        memcpy(dst + (size_t)r * cols, src + (size_t)order[r] * cols, (size_t)cols * sizeof *dst);
}

/* Units the accuracy counts: samples for CE, elements for BCE, none for MSE. */
static long hit_units(nn_loss loss, long rows, int O)
{
    return loss == NN_LOSS_CE ? rows : loss == NN_LOSS_BCE ? rows * O : 0;
}

/* Whether every gradient is finite. A float is inf or NaN exactly when its exponent bits
 * are all ones; testing the bits (not isfinite) lets the compiler vectorize the loop. */
static bool grads_finite(const nn_model *m)
{
    uint32_t all_ones = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        uint32_t bits;
        memcpy(&bits, &m->grads[i], sizeof bits);
        all_ones |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return all_ones == 0;
}

/* One epoch of steps over the samples in `order`; sums the loss (weighted by batch rows)
 * and the hits. NN_ERR_DIVERGED before an update whose loss or gradient is not finite. */
static nn_status run_epoch(nn_model *m, const nn_mat *X, const nn_mat *Y, const int *order,
                           float *Ybatch, const nn_train_opts *o, nn_loss loss,
                           double *loss_sum, long *hits)
{
    int N = X->rows;
    for (int start = 0; start < N; start += o->batch_size) {
        int B = N - start < o->batch_size ? N - start : o->batch_size;
        gather(m->X, X->data, X->cols, order + start, B);
        gather(Ybatch, Y->data, Y->cols, order + start, B);
        nn__forward(m, m->X, B);
        long batch_hits = 0;
        /* GRAD_SET: the product writes dW afresh, so no zero_grad pass over all gradients. */
        double value =
            nn__backward(m, m->X, B, Ybatch, Y->cols, loss, NN__GRAD_SET, &batch_hits);
        if (!isfinite(value) || !grads_finite(m))
            return NN_ERR_DIVERGED;
        for (size_t i = 0; i < m->n_params; i++)
            m->params[i] -= o->learning_rate * m->grads[i];
        *loss_sum += value * B;
        *hits += batch_hits;
    }
    return NN_OK;
}

static nn_status check_opts(const nn_train_opts *o)
{
    if (o->epochs < 0 || o->batch_size <= 0 || !isfinite(o->learning_rate) ||
        o->learning_rate < 0.0f || !nn__loss_valid(o->loss))
        return NN_ERR_INVALID_ARG;
    return NN_OK;
}

nn_status nn_train(nn_model *m, const nn_mat *X, const nn_mat *Y, const nn_train_opts *opts)
{
    nn_train_opts o = opts ? *opts : nn_train_defaults();
    nn_loss loss;
    if (!m)
        return NN_ERR_INVALID_ARG;
    nn_status s = check_opts(&o);
    if (s == NN_OK)
        s = nn__check_data(m, X, Y, o.loss, &loss);
    if (s != NN_OK)
        return s;
    int N = X->rows, B = o.batch_size < N ? o.batch_size : N, O = nn__out_layer(m)->n_out;
    s = nn__reserve(m, B);
    if (s != NN_OK)
        return s;
    /* One block for the visiting order (N) and the gathered targets (B, Y cols). */
    size_t order_bytes = (size_t)N * sizeof(int);
    size_t bytes = order_bytes + (size_t)B * Y->cols * sizeof(float);
    int *order = nn__alloc(m, NULL, 0, bytes);
    if (!order)
        return NN_ERR_NOMEM;
    float *Ybatch = (float *)((char *)order + order_bytes);
    for (int i = 0; i < N; i++)
        order[i] = i;
    nn_rng rng;
    nn_rng_seed(&rng, o.shuffle_seed);
    m->batch = 0; /* the workspace is about to hold training batches */

    for (int epoch = 1; epoch <= o.epochs && s == NN_OK; epoch++) {
        double t0 = now_seconds(), loss_sum = 0.0;
        long hits = 0;
        if (!o.no_shuffle)
            shuffle(order, N, &rng);
        s = run_epoch(m, X, Y, order, Ybatch, &o, loss, &loss_sum, &hits);
        if (s != NN_OK || !o.on_epoch)
            continue;
        long units = hit_units(loss, N, O);
        nn_epoch_info info = {.epoch = epoch, .epochs = o.epochs, .loss = loss_sum / N,
                              .accuracy = units ? (double)hits / (double)units : NAN,
                              .seconds = now_seconds() - t0};
        if (o.on_epoch(o.user, &info) != 0)
            break;
    }
    nn__alloc(m, order, bytes, 0);
    return s;
}

nn_status nn_predict(nn_model *m, const nn_mat *X, nn_mat *Out)
{
    if (!m || !nn__mat_ok(X) || !nn__mat_ok(Out))
        return NN_ERR_INVALID_ARG;
    int N = X->rows, O = nn__out_layer(m)->n_out;
    if (X->cols != m->n_in || Out->rows != N || Out->cols != O)
        return NN_ERR_SHAPE;
    nn_status s = nn__reserve(m, N < CHUNK_ROWS ? N : CHUNK_ROWS);
    if (s != NN_OK)
        return s;
    m->batch = 0;
    for (int start = 0; start < N; start += m->cap) {
        int B = N - start < m->cap ? N - start : m->cap;
        nn__forward(m, X->data + (size_t)start * m->n_in, B);
        memcpy(Out->data + (size_t)start * O, nn__out_layer(m)->A, (size_t)B * O * sizeof(float));
    }
    return NN_OK;
}

nn_status nn_evaluate(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                      double *loss_value, double *accuracy)
{
    if (!m)
        return NN_ERR_INVALID_ARG;
    nn_status s = nn__check_data(m, X, Y, loss, &loss);
    if (s == NN_OK)
        s = nn__reserve(m, X->rows < CHUNK_ROWS ? X->rows : CHUNK_ROWS);
    if (s != NN_OK)
        return s;
    m->batch = 0;
    int N = X->rows, O = nn__out_layer(m)->n_out;
    double total = 0.0;
    long hits = 0;
    for (int start = 0; start < N; start += m->cap) {
        int B = N - start < m->cap ? N - start : m->cap;
        long chunk_hits = 0;
        nn__forward(m, X->data + (size_t)start * m->n_in, B);
        /* Every loss is a mean over rows (times O), so chunk means weighted by rows add up. */
        total += B * nn__backward(m, NULL, B, Y->data + (size_t)start * Y->cols, Y->cols, loss,
                                  NN__LOSS_ONLY, &chunk_hits);
        hits += chunk_hits;
    }
    long units = hit_units(loss, N, O);
    if (loss_value)
        *loss_value = total / N;
    if (accuracy)
        *accuracy = units ? (double)hits / (double)units : NAN;
    return NN_OK;
}
