/* Tests for the model's threads (src/kernels/pool.c): nn__gemm_mt against nn__gemm bit for bit, training
 * with 2 and 3 threads against 1 bit for bit, the threads option's limits, allocation failures
 * while the pool is built, a pool that has gone to sleep, and two threaded models at once.
 * CI runs this under ThreadSanitizer too. Shape letters: M, N, K as in nn_internal.h; B batch
 * rows. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#define _DEFAULT_SOURCE         /* MAP_ANONYMOUS */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#include "test_util.h"

#include "nn_internal.h"

/* ------------------------------------------------------------- the pool itself */

typedef struct count_ctx {
    int calls[8];
    int parts_seen[8];
    int thread[8];          /* the thread number each part ran on */
    pthread_t ran_on[8];
} count_ctx;

static void count_part(void *ctx, int part, int parts, int thread)
{
    count_ctx *c = ctx;
    c->calls[part]++;
    c->parts_seen[part] = parts;
    c->thread[part] = thread;
    c->ran_on[part] = pthread_self();
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
    nanosleep(&ts, NULL);
}

/* Every part runs exactly once, also after the workers have stopped spinning and sleep. Each
 * runs under a thread number in 0 .. 3 that belongs to one thread only, 0 to the caller. */
static void test_run_every_part_once(void **state)
{
    (void)state;
    nn__pool *pool;
    assert_int_equal(nn__pool_create(nn__default_alloc, NULL, 4, &pool), NN_OK);
    assert_non_null(pool);
    assert_int_equal(nn__pool_threads(pool), 4);
    pthread_t owner[4];
    bool seen[4] = {false};
    for (int round = 0; round < 200; round++) {
        int parts = 1 + round % 4;
        count_ctx c = {{0}, {0}, {0}, {0}};
        nn__pool_run(pool, parts, count_part, &c);
        for (int p = 0; p < 8; p++)
            assert_int_equal(c.calls[p], p < parts ? 1 : 0);
        for (int p = 0; p < parts; p++) {
            int t = c.thread[p];
            assert_int_equal(c.parts_seen[p], parts);
            assert_true(t >= 0 && t < 4);
            if (t == 0)
                assert_true(pthread_equal(c.ran_on[p], pthread_self()));
            else if (seen[t])
                assert_true(pthread_equal(c.ran_on[p], owner[t]));
            else
                owner[t] = c.ran_on[p];
            seen[t] = true;
        }
        if (round % 50 == 49)
            sleep_ms(5); /* longer than the spin: the workers block, and must wake */
    }
    nn__pool_destroy(pool);

    /* One thread is no pool at all; NULL runs the job on the caller. */
    assert_int_equal(nn__pool_create(nn__default_alloc, NULL, 1, &pool), NN_OK);
    assert_null(pool);
    assert_int_equal(nn__pool_threads(NULL), 1);
    count_ctx c = {{0}, {0}, {0}, {0}};
    nn__pool_run(NULL, 3, count_part, &c);
    assert_int_equal(c.calls[0], 1);
    assert_int_equal(c.parts_seen[0], 1);
    assert_int_equal(c.thread[0], 0);
    nn__pool_destroy(NULL);
}

/* ------------------------------------------------------------- the split product */

static float rand_float(nn_rng *r)
{
    return 2.0f * nn_rng_uniform(r) - 1.0f;
}

/* One product through nn__gemm and through nn__gemm_mt with the pool: the same bits. C's
 * padding columns (ldc > N) must be left alone by both. */
static void check_mt(nn__pool *pool, nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K,
                     float alpha, float beta, nn_rng *r)
{
    int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
    size_t nc = (size_t)M * ldc;
    float *A = malloc((na + 1) * sizeof *A), *B = malloc((nb + 1) * sizeof *B);
    float *C1 = malloc((nc + 1) * sizeof *C1), *C2 = malloc((nc + 1) * sizeof *C2);
    assert_non_null(A), assert_non_null(B), assert_non_null(C1), assert_non_null(C2);
    for (size_t i = 0; i < na; i++)
        A[i] = rand_float(r);
    for (size_t i = 0; i < nb; i++)
        B[i] = rand_float(r);
    for (size_t i = 0; i < nc; i++)
        C1[i] = C2[i] = rand_float(r);
    /* A workspace per thread, each exactly the size promised (AddressSanitizer checks it). */
    size_t ws_floats = nn__gemm_ws_floats();
    float *ws = malloc((size_t)nn__pool_threads(pool) * ws_floats * sizeof *ws);
    assert_non_null(ws);
    nn__gemm(k, ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
    nn__gemm_mt(pool, ws, k, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
    free(ws);
    if (memcmp(C1, C2, nc * sizeof *C1) != 0)
        fail_msg("kernel %d ta %d tb %d M %d N %d K %d alpha %g beta %g: results differ", (int)k,
                 ta, tb, M, N, K, (double)alpha, (double)beta);
    free(A), free(B), free(C1), free(C2);
}

/* Random shapes, from tiny (not split) to a few hundred (split both ways), every transpose
 * case, alpha and beta that round differently from 1 and 0, every kernel the CPU runs. */
static void test_gemm_mt_equals_gemm(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 5, 6, 7, 13, 16, 31, 32, 33, 64, 65, 97, 130, 200, 300};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    static const float alphas[] = {1.0f, 0.7f, -1.3f}, betas[] = {0.0f, 1.0f, 0.3f};
    nn_rng r;
    nn_rng_seed(&r, 99);
    for (int threads = 2; threads <= 3; threads++) {
        nn__pool *pool;
        assert_int_equal(nn__pool_create(nn__default_alloc, NULL, threads, &pool), NN_OK);
        for (int k = NN__GEMM_AUTO; k < NN__GEMM_COUNT; k++) {
            if (k == NN__GEMM_REF || !nn__gemm_available((nn__gemm_kernel)k))
                continue;
            for (int c = 0; c < 60; c++) {
                int M = sizes[nn_rng_next(&r) % NS], N = sizes[nn_rng_next(&r) % NS];
                int K = sizes[nn_rng_next(&r) % NS];
                check_mt(pool, (nn__gemm_kernel)k, c & 1, c >> 1 & 1, M, N, K,
                         alphas[nn_rng_next(&r) % 3], betas[nn_rng_next(&r) % 3], &r);
            }
        }
        /* The MLP's own products at batch 64 and at a ragged batch of 37. */
        static const int mlp[][5] = {{64, 256, 784, 0, 1}, {256, 784, 64, 1, 0},
                                     {64, 784, 256, 0, 0}, {64, 10, 128, 0, 1},
                                     {10, 128, 64, 1, 0},  {64, 128, 10, 0, 0},
                                     {37, 256, 784, 0, 1}, {256, 784, 37, 1, 0}};
        for (size_t i = 0; i < sizeof mlp / sizeof mlp[0]; i++)
            check_mt(pool, NN__GEMM_AUTO, mlp[i][3], mlp[i][4], mlp[i][0], mlp[i][1], mlp[i][2],
                     1.0f, mlp[i][3] ? 1.0f : 0.0f, &r);
        nn__pool_destroy(pool);
    }
    /* No pool: plain nn__gemm. */
    check_mt(NULL, NN__GEMM_AUTO, false, true, 64, 256, 100, 1.0f, 0.0f, &r);
}

/* ------------------------------------------------------------- models */

enum { NS = 150, NI = 400 };

/* A malloc'd copy of the model's parameters (the caller frees it), and their count. */
static float *copy_params(nn_model *m, size_t *count)
{
    float *params;
    *count = nn_model_params(m, &params, NULL);
    float *copy = malloc(*count * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, params, *count * sizeof *copy);
    return copy;
}

/* Trains a 400-350-70-7 network with the given threads and batch size, and returns its
 * parameters (malloc'd) and its predictions for X in *pred (malloc'd). Its first layer is
 * large enough to be split even at batch 1 (2·65536 multiply-adds: MIN_PART_MACS, pool.c). */
static float *train_with(int threads, int batch, const nn_mat *X, const nn_mat *Y, float **pred,
                         size_t *n_params)
{
    nn_layer_spec specs[] = {{.units = 350, .act = NN_ACT_RELU},
                             {.units = 70, .act = NN_ACT_TANH},
                             {.units = 7, .act = NN_ACT_SOFTMAX}};
    nn_model_opts mo = {.seed = 5, .threads = threads};
    nn_model *m;
    assert_int_equal(nn_model_create(NI, specs, 3, &mo, &m), NN_OK);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 2;
    o.batch_size = batch;
    o.learning_rate = 0.05f;
    o.shuffle_seed = 3;
    assert_int_equal(nn_train(m, X, Y, &o), NN_OK);
    size_t P;
    float *copy = copy_params(m, &P);
    *pred = malloc((size_t)X->rows * 7 * sizeof **pred);
    assert_non_null(*pred);
    nn_mat Out = nn_mat_wrap(*pred, X->rows, 7);
    assert_int_equal(nn_predict(m, X, &Out), NN_OK);
    nn_model_destroy(m);
    *n_params = P;
    return copy;
}

static void make_data(nn_mat *X, nn_mat *Y)
{
    assert_int_equal(nn_mat_alloc(X, NS, NI), NN_OK);
    assert_int_equal(nn_mat_alloc(Y, NS, 1), NN_OK);
    fill_uniform(X, -1, 1, 21);
    for (int i = 0; i < NS; i++)
        Y->data[i] = (float)((X->data[(size_t)i * NI] > 0) * 3 + (X->data[(size_t)i * NI + 1] > 0));
}

/* Batches 1, divisible by neither 2 nor 3 (7, 37), and 64 with its ragged last batch. */
static void test_training_bit_identical(void **state)
{
    (void)state;
    nn_mat X, Y;
    make_data(&X, &Y);
    static const int batches[] = {1, 7, 37, 64};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        float *pred1, *params1;
        size_t P1;
        params1 = train_with(1, batches[b], &X, &Y, &pred1, &P1);
        for (int threads = 2; threads <= 3; threads++) {
            float *pred, *params;
            size_t P;
            params = train_with(threads, batches[b], &X, &Y, &pred, &P);
            assert_int_equal(P, P1);
            assert_memory_equal(params, params1, P * sizeof *params);
            assert_memory_equal(pred, pred1, (size_t)NS * 7 * sizeof *pred);
            free(params), free(pred);
        }
        free(params1), free(pred1);
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
}

/* The element-wise passes split over the threads (pool.c's nn__pool_for): the bias and
 * activation by rows, db by columns, cross-entropy by rows (the loss summed in row order),
 * the optimizers by ranges of parameters. Each configuration is large enough for them to be
 * split at 2 and 3 threads: a first layer of 256+ units at batch 64+, and batch 128 or more
 * for CE over 7 classes. Weights, predictions and every epoch's loss and accuracy must be the
 * bits of one thread's. */
typedef struct config {
    nn_layer_spec specs[3];
    int n_layers, batch;
    bool soft;       /* Y: (N, 7) rows of soft targets rather than (N, 1) class indices */
    nn_loss loss;
    nn_optim_opts optim;
} config;

typedef struct epoch_log {
    double loss[4], accuracy[4];
    int n;
} epoch_log;

static int log_epoch(void *user, const nn_epoch_info *info)
{
    epoch_log *log = user;
    if (log->n < 4) {
        log->loss[log->n] = info->loss;
        log->accuracy[log->n] = info->accuracy;
        log->n++;
    }
    return 0;
}

/* Trains configuration c with `threads`; returns its parameters and predictions (malloc'd). */
static float *train_config(const config *c, int threads, const nn_mat *X, const nn_mat *Y,
                           float **pred, size_t *n_params, epoch_log *log)
{
    nn_model_opts mo = {.seed = 8, .threads = threads};
    nn_model *m;
    assert_int_equal(nn_model_create(NI, c->specs, c->n_layers, &mo, &m), NN_OK);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 3;
    o.batch_size = c->batch;
    o.learning_rate = 0.01f;
    o.shuffle_seed = 4;
    o.loss = c->loss;
    o.optim = c->optim;
    o.on_epoch = log_epoch;
    o.user = log;
    assert_int_equal(nn_train(m, X, Y, &o), NN_OK);
    size_t P;
    float *copy = copy_params(m, &P);
    int O = nn_model_outputs(m);
    *pred = malloc((size_t)X->rows * O * sizeof **pred);
    assert_non_null(*pred);
    nn_mat Out = nn_mat_wrap(*pred, X->rows, O);
    assert_int_equal(nn_predict(m, X, &Out), NN_OK);
    nn_model_destroy(m);
    *n_params = P;
    return copy;
}

static void test_split_passes_bit_identical(void **state)
{
    (void)state;
    static const config configs[] = {
        {{{.units = 350, .act = NN_ACT_GELU, .dropout = 0.2f}, {.units = 70, .act = NN_ACT_PRELU},
          {.units = 7, .act = NN_ACT_SOFTMAX}}, 3, 128, false, NN_LOSS_CE,
         {.kind = NN_OPT_ADAM, .clip_norm = 1.0f}},
        {{{.units = 300, .act = NN_ACT_ELU}, {.units = 64, .act = NN_ACT_PRELU_UNITS},
          {.units = 7, .act = NN_ACT_SOFTMAX}}, 3, NS, true, NN_LOSS_CE,
         {.kind = NN_OPT_SGD, .momentum = 0.9f, .nesterov = true, .weight_decay = 1e-3f}},
        {{{.units = 256, .act = NN_ACT_TANH}, {.units = 7, .act = NN_ACT_SIGMOID}}, 2, 64, true,
         NN_LOSS_BCE, {.kind = NN_OPT_RMSPROP, .momentum = 0.5f}},
        {{{.units = 300, .act = NN_ACT_SIGMOID}, {.units = 7, .act = NN_ACT_SOFTMAX}}, 2, 64,
         true, NN_LOSS_MSE, {.kind = NN_OPT_ADAMW, .decay_biases = true}},
    };
    nn_mat X, Y, Ysoft;
    make_data(&X, &Y);
    assert_int_equal(nn_mat_alloc(&Ysoft, NS, 7), NN_OK);
    fill_uniform(&Ysoft, 0, 1, 22);
    /* Rows of soft targets that sum to 1. */
    assert_int_equal(nn_act_forward(&Ysoft, &Ysoft, NN_ACT_SOFTMAX, 0.0f), NN_OK);
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        const config *c = &configs[k];
        const nn_mat *T = c->soft ? &Ysoft : &Y;
        float *pred1, *params1;
        size_t P1;
        epoch_log log1 = {0};
        params1 = train_config(c, 1, &X, T, &pred1, &P1, &log1);
        assert_int_equal(log1.n, 3);
        for (int threads = 2; threads <= 3; threads++) {
            float *pred, *params;
            size_t P;
            epoch_log log = {0};
            params = train_config(c, threads, &X, T, &pred, &P, &log);
            assert_int_equal(P, P1);
            assert_memory_equal(params, params1, P * sizeof *params);
            assert_memory_equal(pred, pred1, (size_t)NS * 7 * sizeof *pred);
            assert_memory_equal(log.loss, log1.loss, sizeof log.loss);
            assert_memory_equal(log.accuracy, log1.accuracy, sizeof log.accuracy);
            free(params), free(pred);
        }
        free(params1), free(pred1);
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
    nn_mat_free(&Ysoft);
}

/* The check for non-finite gradients is split over the threads too: an infinite dW in the
 * first or in the last part must stop training before any update, as on one thread. One
 * linear unit over NB inputs, MSE: an input of 1e30 keeps the loss finite (it is summed in
 * double) but makes that input's weight gradient overflow to inf. */
static void test_nonfinite_gradient_in_any_part(void **state)
{
    (void)state;
    enum { NB = 40000, ROWS = 4 };
    nn_mat X, Y;
    assert_int_equal(nn_mat_alloc(&X, ROWS, NB), NN_OK);
    assert_int_equal(nn_mat_alloc(&Y, ROWS, 1), NN_OK);
    nn_layer_spec spec = {.units = 1, .act = NN_ACT_LINEAR};
    static const int columns[] = {0, NB - 1};
    for (size_t k = 0; k < 2; k++) {
        fill_uniform(&X, -1, 1, 23);
        memset(Y.data, 0, ROWS * sizeof *Y.data);
        X.data[(size_t)2 * NB + columns[k]] = 1e30f;
        for (int threads = 1; threads <= 3; threads++) {
            nn_model_opts mo = {.seed = 9, .threads = threads};
            nn_model *m;
            assert_int_equal(nn_model_create(NB, &spec, 1, &mo, &m), NN_OK);
            float *params, *grads;
            size_t P = nn_model_params(m, &params, &grads);
            float *before = malloc(P * sizeof *before);
            assert_non_null(before);
            memcpy(before, params, P * sizeof *before);
            nn_train_opts o = nn_train_defaults();
            o.batch_size = ROWS;
            o.loss = NN_LOSS_MSE;
            assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_DIVERGED);
            assert_true(isinf(grads[columns[k]]));
            assert_memory_equal(params, before, P * sizeof *params); /* no update applied */
            free(before);
            nn_model_destroy(m);
        }
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
}

static void test_threads_option_limits(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 3};
    nn_model *m = NULL;
    static const int bad[] = {-1, -100, NN__MAX_THREADS + 1, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_model_opts mo = {.threads = bad[i]};
        assert_int_equal(nn_model_create(4, &spec, 1, &mo, &m), NN_ERR_INVALID_ARG);
        assert_null(m);
    }
    for (int threads = 0; threads <= 2; threads++) {
        nn_model_opts mo = {.threads = threads};
        assert_int_equal(nn_model_create(4, &spec, 1, &mo, &m), NN_OK);
        assert_int_equal(nn__pool_threads(m->pool), threads < 1 ? 1 : threads);
        assert_true((m->pool == NULL) == (threads <= 1));
        nn_model_destroy(m);
    }
}

/* Fails each allocation of a threaded create in turn: NN_ERR_NOMEM, nothing leaked, and the
 * started threads joined (ASan and TSan would see them otherwise). */
static void test_allocation_failures(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 8, .act = NN_ACT_RELU}, {.units = 2}};
    for (int threads = 2; threads <= 3; threads++) {
        bool succeeded = false;
        for (long k = 1; k < 50 && !succeeded; k++) {
            counting_alloc c = {.fail_at = k};
            nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &c, .threads = threads};
            nn_model *m = NULL;
            nn_status s = nn_model_create(5, specs, 2, &mo, &m);
            if (s == NN_OK) {
                succeeded = true;
                assert_true(c.calls >= 4); /* model, layers, params, pool */
                nn_model_destroy(m);
            } else {
                assert_int_equal(s, NN_ERR_NOMEM);
                assert_null(m);
            }
            assert_int_equal(c.live_blocks, 0);
            assert_int_equal(c.live_bytes, 0);
        }
        assert_true(succeeded);
    }
}

/* Two threaded models trained at once from two threads (4 threads in all on 2 cores, so the
 * workers also get preempted mid-job) end as they end one after the other. */
typedef struct job {
    int batch;
    const nn_mat *X, *Y;
    float *params, *pred;
    size_t P;
} job;

static void *train_job(void *arg)
{
    job *j = arg;
    j->params = train_with(2, j->batch, j->X, j->Y, &j->pred, &j->P);
    return NULL;
}

static void test_two_threaded_models_at_once(void **state)
{
    (void)state;
    nn_mat X, Y;
    make_data(&X, &Y);
    job seq[2] = {{.batch = 16, .X = &X, .Y = &Y}, {.batch = 37, .X = &X, .Y = &Y}};
    job par[2] = {seq[0], seq[1]};
    train_job(&seq[0]);
    train_job(&seq[1]);
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&t[k], NULL, train_job, &par[k]), 0);
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_join(t[k], NULL), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(par[k].P, seq[k].P);
        assert_memory_equal(par[k].params, seq[k].params, seq[k].P * sizeof(float));
        assert_memory_equal(par[k].pred, seq[k].pred, (size_t)NS * 7 * sizeof(float));
        free(seq[k].params), free(seq[k].pred), free(par[k].params), free(par[k].pred);
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
}

/* A thread with musl's default stack (128 KiB) trains and predicts, with products that pack
 * their operands and one nn_mat_mul, and gets what the main thread gets: the packing buffers
 * (1.1 MiB) are not on its stack. Below the stack lie 4 MiB of memory that may not be
 * touched, so that a frame too large for the stack faults instead of landing, unnoticed, in
 * whatever is mapped there (what the 226 KiB of buffers on the stack used to do). */
typedef struct small_stack_job {
    job train;
    nn_mat C;
} small_stack_job;

static void *small_stack_main(void *arg)
{
    small_stack_job *j = arg;
    train_job(&j->train);
    nn_mat A = nn_mat_wrap(j->train.X->data, 100, 50);  /* (100, 50) of X */
    nn_mat B = nn_mat_wrap(j->train.X->data, 40, 50);   /* (40, 50) of X, transposed */
    j->C = (nn_mat){0};
    if (nn_mat_alloc(&j->C, 100, 40) == NN_OK &&
        nn_mat_mul(&j->C, &A, false, &B, true, 1.0f, 0.0f) != NN_OK)
        nn_mat_free(&j->C);
    return NULL;
}

/* ThreadSanitizer keeps its thread-local state (about 135 KiB) at the top of a thread's
 * stack; under it the thread gets that much more, so that its frames still have 128 KiB. */
#if defined(__SANITIZE_THREAD__)
#define SANITIZER_STACK (256 << 10)
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANITIZER_STACK (256 << 10)
#endif
#endif
#ifndef SANITIZER_STACK
#define SANITIZER_STACK 0
#endif

static void test_small_thread_stack(void **state)
{
    (void)state;
    nn_mat X, Y;
    make_data(&X, &Y);
    for (int threads = 1; threads <= 2; threads++) {
        small_stack_job here = {.train = {.batch = 16, .X = &X, .Y = &Y}};
        small_stack_job there = here;
        here.train.params = train_with(threads, 16, &X, &Y, &here.train.pred, &here.train.P);
        const size_t guard = 4 << 20, stack = (128 << 10) + SANITIZER_STACK;
        char *base = mmap(NULL, guard + stack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(base != MAP_FAILED);
        assert_int_equal(mprotect(base + guard, stack, PROT_READ | PROT_WRITE), 0);
        pthread_attr_t attr;
        pthread_t t;
        assert_int_equal(pthread_attr_init(&attr), 0);
        assert_int_equal(pthread_attr_setstack(&attr, base + guard, stack), 0);
        assert_int_equal(pthread_create(&t, &attr, small_stack_main, &there), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        pthread_attr_destroy(&attr);
        munmap(base, guard + stack);
        assert_int_equal(there.train.P, here.train.P);
        assert_memory_equal(there.train.params, here.train.params, here.train.P * sizeof(float));
        assert_memory_equal(there.train.pred, here.train.pred, (size_t)NS * 7 * sizeof(float));
        assert_non_null(there.C.data);
        for (int i = 0; i < 100; i++) /* C = A·Bᵀ: floats 50i.. of X against floats 50j.. */
            for (int j = 0; j < 40; j++) {
                double dot = 0.0;
                for (int p = 0; p < 50; p++)
                    dot += (double)X.data[i * 50 + p] * X.data[j * 50 + p];
                assert_float_equal(there.C.data[i * 40 + j], dot, 1e-4);
            }
        free(here.train.params), free(here.train.pred);
        free(there.train.params), free(there.train.pred);
        nn_mat_free(&there.C);
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
}

int main(void)
{
    const struct CMUnitTest pool[] = {
        cmocka_unit_test(test_run_every_part_once),
        cmocka_unit_test(test_gemm_mt_equals_gemm),
    };
    const struct CMUnitTest model[] = {
        cmocka_unit_test(test_training_bit_identical),
        cmocka_unit_test(test_split_passes_bit_identical),
        cmocka_unit_test(test_nonfinite_gradient_in_any_part),
        cmocka_unit_test(test_threads_option_limits),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_two_threaded_models_at_once),
        cmocka_unit_test(test_small_thread_stack),
    };
    int failed = cmocka_run_group_tests_name("pool", pool, NULL, NULL);
    failed += cmocka_run_group_tests_name("threaded model", model, NULL, NULL);
    return failed;
}
