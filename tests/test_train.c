/* The training loop, prediction and evaluation: equivalence with the public step functions,
 * determinism, callbacks, divergence, learning XOR and a line, and every bad input. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, close, unlink */
#include <math.h>
#include <unistd.h>

#include "nn_internal.h" /* nn__grads_surely_finite */
#include "test_util.h"

static nn_model *make_model(int n_in, const nn_layer_spec *specs, int n, uint64_t seed)
{
    nn_model_opts opts = {.seed = seed};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(n_in, specs, n, &opts, &m), NN_OK);
    return m;
}

static float *params_of(nn_model *m, size_t *count)
{
    float *p;
    *count = nn_model_params(m, &p, NULL);
    return p;
}

/* --------------------------------------------------------------- the loop */

/* nn_train with no shuffling must be the loop a user writes with the step functions, batches
 * of `batch` rows and a last partial batch (used, not dropped). Up to 256 rows, nn_train's
 * plain SGD step happens inside the product for dW (W - lr·dZᵀ·X, dW never stored), the
 * loop's in nn_optim_step with zeroed options: the same arithmetic, but where the compiler fuses a product's last
 * multiply and add (gemm.c's ragged tile edges, with FMA) W - lr·dW is rounded once instead of
 * twice. So the weights agree to a few units in the last place, not bit for bit; a step that
 * missed a bias, a slope or a layer would be off by lr·gradient, about 1e-3 here. */
static void check_train_equals_manual_loop(int N, int I, const nn_layer_spec *specs,
                                           int n_layers, int batch, int threads)
{
    enum { EPOCHS = 3 };
    nn_model_opts mo = {.seed = 5, .threads = threads};
    nn_model *a, *b;
    assert_int_equal(nn_model_create(I, specs, n_layers, &mo, &a), NN_OK);
    assert_int_equal(nn_model_create(I, specs, n_layers, &mo, &b), NN_OK);
    int O = specs[n_layers - 1].units;
    float *x = test_malloc((size_t)N * I * sizeof *x), *y = test_malloc((size_t)N * sizeof *y);
    nn_mat X = nn_mat_wrap(x, N, I), Y = nn_mat_wrap(y, N, 1);
    fill_uniform(&X, -1, 1, 1);
    for (int i = 0; i < N; i++) /* the class of the first input's slice of [-1, 1] */
        y[i] = fminf(floorf((x[i * I] + 1.0f) * 0.5f * (float)O), (float)(O - 1));

    nn_train_opts o = nn_train_defaults();
    o.epochs = EPOCHS;
    o.batch_size = batch;
    o.learning_rate = 0.3f;
    o.no_shuffle = true;
    assert_int_equal(nn_train(a, &X, &Y, &o), NN_OK);

    for (int e = 0; e < EPOCHS; e++)
        for (int start = 0; start < N; start += batch) {
            int rows = N - start < batch ? N - start : batch;
            nn_mat Xb = nn_mat_wrap(x + (size_t)start * I, rows, I);
            nn_mat Yb = nn_mat_wrap(y + start, rows, 1);
            assert_int_equal(nn_zero_grad(b), NN_OK);
            assert_int_equal(nn_forward(b, &Xb, NULL), NN_OK);
            assert_int_equal(nn_backward(b, &Yb, NN_LOSS_CE, NULL), NN_OK);
            assert_int_equal(nn_optim_step(b, &(nn_optim_opts){0}, 0.3f), NN_OK);
        }
    size_t P;
    float *pa = params_of(a, &P), *pb = params_of(b, &P);
    for (size_t i = 0; i < P; i++)
        assert_true(fabsf(pa[i] - pb[i]) <= 1e-6f * fmaxf(1.0f, fabsf(pb[i])));
    test_free(x);
    test_free(y);
    nn_model_destroy(a);
    nn_model_destroy(b);
}

static void test_train_equals_manual_loop(void **state)
{
    (void)state;
    /* 3-5-2 in batches of 4, 4 and 2: products of a few dozen terms, in plain loops. */
    nn_layer_spec tiny[] = {{.units = 5, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    check_train_equals_manual_loop(10, 3, tiny, 2, 4, 1);
    /* 40-48-24-10 in batches of 32, 32 and 16 (forward 32·48·40): packed products, PReLU
     * slopes per unit, on one thread and on two. */
    nn_layer_spec wide[] = {{.units = 48, .act = NN_ACT_PRELU_UNITS},
                            {.units = 24, .act = NN_ACT_RELU},
                            {.units = 10, .act = NN_ACT_SOFTMAX}};
    check_train_equals_manual_loop(80, 40, wide, 3, 32, 1);
    check_train_equals_manual_loop(80, 40, wide, 3, 32, 2);
    /* Batches of 300 and 200 rows: the first longer than the product's one block of K. */
    check_train_equals_manual_loop(500, 40, wide, 3, 300, 2);
}

static void test_same_seeds_same_weights(void **state)
{
    (void)state;
    enum { N = 64, I = 4 };
    nn_layer_spec specs[] = {{.units = 8, .act = NN_ACT_RELU}, {.units = 3, .act = NN_ACT_SOFTMAX}};
    float x[N * I], y[N];
    nn_mat X = nn_mat_wrap(x, N, I), Y = nn_mat_wrap(y, N, 1);
    fill_uniform(&X, -1, 1, 2);
    for (int i = 0; i < N; i++)
        y[i] = (float)(i % 3);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 5;
    o.batch_size = 8;
    o.shuffle_seed = 77;
    nn_model *m[3];
    for (int k = 0; k < 3; k++) {
        m[k] = make_model(I, specs, 2, 9);
        o.shuffle_seed = k < 2 ? 77 : 78;
        assert_int_equal(nn_train(m[k], &X, &Y, &o), NN_OK);
    }
    size_t P;
    float *p0 = params_of(m[0], &P), *p1 = params_of(m[1], &P), *p2 = params_of(m[2], &P);
    assert_memory_equal(p0, p1, P * sizeof(float));     /* bit-identical */
    assert_memory_not_equal(p0, p2, P * sizeof(float)); /* the shuffle seed matters */
    for (int k = 0; k < 3; k++)
        nn_model_destroy(m[k]);
}

typedef struct epoch_log {
    int calls, stop_at, last_epoch, epochs;
    double first_loss, last_loss, last_accuracy;
    bool all_valid;
} epoch_log;

static int log_epoch(void *user, const nn_epoch_info *info)
{
    epoch_log *log = user;
    log->calls++;
    if (log->calls == 1)
        log->first_loss = info->loss;
    log->all_valid &= info->epoch == log->calls && isfinite(info->loss) && info->seconds >= 0.0;
    log->last_epoch = info->epoch;
    log->epochs = info->epochs;
    log->last_loss = info->loss;
    log->last_accuracy = info->accuracy;
    return log->stop_at && info->epoch >= log->stop_at;
}

/* XOR with the recipe of the example: learned from a fixed seed, the callback sees every
 * epoch with a falling loss, and the outputs are on the right sides of 0.5. */
static void test_learns_xor(void **state)
{
    (void)state;
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0}, p[4];
    nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1), P = nn_mat_wrap(p, 4, 1);
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    nn_model *m = make_model(2, specs, 2, 42);
    epoch_log log = {.all_valid = true};
    nn_train_opts o = nn_train_defaults();
    o.epochs = 2000;
    o.batch_size = 4;
    o.learning_rate = 0.5f;
    o.on_epoch = log_epoch;
    o.user = &log;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    assert_int_equal(log.calls, 2000);
    assert_true(log.all_valid);
    assert_true(log.last_loss < 0.05 && log.last_loss < log.first_loss);
    assert_true(log.last_accuracy == 1.0);
    assert_int_equal(nn_predict(m, &X, &P), NN_OK);
    for (int i = 0; i < 4; i++)
        assert_true((p[i] > 0.5f) == (y[i] > 0.5f));
    nn_model_destroy(m);
}

/* The seed article's first example: one linear neuron, MSE, learns y = 3x + 2. */
static void test_learns_a_line(void **state)
{
    (void)state;
    enum { N = 50 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i / N;
        y[i] = 3.0f * x[i] + 2.0f;
    }
    nn_mat X = nn_mat_wrap(x, N, 1), Y = nn_mat_wrap(y, N, 1);
    nn_layer_spec specs[] = {{.units = 1, .act = NN_ACT_LINEAR}};
    nn_model *m = make_model(1, specs, 1, 3);
    epoch_log log = {.all_valid = true};
    nn_train_opts o = nn_train_defaults();
    o.epochs = 500;
    o.batch_size = 10;
    o.learning_rate = 0.1f;
    o.on_epoch = log_epoch;
    o.user = &log;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    assert_true(isnan(log.last_accuracy)); /* accuracy has no meaning for MSE */
    nn_layer_view v;
    nn_model_layer(m, 0, &v);
    assert_float_equal(v.W.data[0], 3.0f, 1e-3);
    assert_float_equal(v.b.data[0], 2.0f, 1e-3);
    nn_model_destroy(m);
}

static void test_callback_stops_training(void **state)
{
    (void)state;
    float x[] = {0, 1, 2, 3}, y[] = {0, 1, 2, 3};
    nn_mat X = nn_mat_wrap(x, 4, 1), Y = nn_mat_wrap(y, 4, 1);
    nn_layer_spec specs[] = {{.units = 1}};
    nn_model *m = make_model(1, specs, 1, 1);
    epoch_log log = {.stop_at = 3, .all_valid = true};
    nn_train_opts o = nn_train_defaults();
    o.epochs = 100;
    o.on_epoch = log_epoch;
    o.user = &log;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    assert_int_equal(log.calls, 3);
    assert_int_equal(log.epochs, 100);
    /* Zero epochs is a valid request for no training. */
    size_t P;
    float before[2], *p = params_of(m, &P);
    memcpy(before, p, sizeof before);
    o.epochs = 0;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    assert_memory_equal(before, p, sizeof before);
    nn_model_destroy(m);
}

/* At batch 1 nn_train's step (plain SGD taken inside the weight products, or dW and the
 * optimizer) must give what the public step functions give, sample by sample, up to float
 * rounding. Each case covers other activations, losses and optimizers; a wrong formula on
 * either side shows up as differences of 1e-2 or more. */
typedef struct batch1_case {
    int n_in, n_layers;
    nn_layer_spec specs[3];
    nn_loss loss;
    int ycols;
    nn_optim_opts optim;
} batch1_case;

static int sum_epoch_loss(void *user, const nn_epoch_info *info)
{
    *(double *)user += info->loss;
    return 0;
}

static void test_batch1_training_matches_steps(void **state)
{
    (void)state;
    enum { N = 12, EPOCHS = 3, MAX_IN = 3, MAX_Y = 3 };
    const float lr = 0.1f;
    const batch1_case cases[] = {
        {2, 2, {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}},
         NN_LOSS_BCE, 1, {.kind = NN_OPT_SGD}},
        {3, 3,
         {{.units = 6, .act = NN_ACT_GELU}, {.units = 5, .act = NN_ACT_LEAKY_RELU},
          {.units = 3, .act = NN_ACT_SOFTMAX}},
         NN_LOSS_CE, 1, {.kind = NN_OPT_SGD, .momentum = 0.9f}},
        {3, 2, {{.units = 5, .act = NN_ACT_ELU}, {.units = 3, .act = NN_ACT_SOFTMAX}},
         NN_LOSS_CE, 3, {.kind = NN_OPT_ADAM}}, /* one-hot rows rather than indices */
        {2, 2, {{.units = 5, .act = NN_ACT_SOFTMAX}, {.units = 2, .act = NN_ACT_SIGMOID}},
         NN_LOSS_MSE, 2, {.kind = NN_OPT_SGD, .weight_decay = 0.01f}},
        {3, 2, {{.units = 4, .act = NN_ACT_RELU}, {.units = 2, .act = NN_ACT_SIGMOID}},
         NN_LOSS_BCE, 2, {.kind = NN_OPT_RMSPROP}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const batch1_case *k = &cases[c];
        int O = k->specs[k->n_layers - 1].units;
        float x[N * MAX_IN], y[N * MAX_Y];
        nn_mat X = nn_mat_wrap(x, N, k->n_in), Y = nn_mat_wrap(y, N, k->ycols);
        fill_uniform(&X, -2, 2, 40 + c);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < k->ycols; j++) /* a class index, one-hot rows or 0/1 targets */
                y[i * k->ycols + j] = k->loss == NN_LOSS_CE && k->ycols == 1
                                          ? (float)(i % O)
                                      : k->loss == NN_LOSS_CE ? (float)(j == i % O)
                                                              : (float)((i + j) % 2);
        nn_model *a = make_model(k->n_in, k->specs, k->n_layers, 3);
        nn_model *b = make_model(k->n_in, k->specs, k->n_layers, 3);

        double train_loss = 0.0, step_loss = 0.0;
        nn_train_opts o = nn_train_defaults();
        o.epochs = EPOCHS;
        o.batch_size = 1;
        o.learning_rate = lr;
        o.loss = k->loss;
        o.optim = k->optim;
        o.no_shuffle = true;
        o.on_epoch = sum_epoch_loss;
        o.user = &train_loss;
        assert_int_equal(nn_train(a, &X, &Y, &o), NN_OK);

        for (int e = 0; e < EPOCHS; e++)
            for (int i = 0; i < N; i++) {
                nn_mat Xi = nn_mat_wrap(x + i * k->n_in, 1, k->n_in);
                nn_mat Yi = nn_mat_wrap(y + i * k->ycols, 1, k->ycols);
                float value;
                assert_int_equal(nn_zero_grad(b), NN_OK);
                assert_int_equal(nn_forward(b, &Xi, NULL), NN_OK);
                assert_int_equal(nn_backward(b, &Yi, k->loss, &value), NN_OK);
                assert_int_equal(nn_optim_step(b, &k->optim, lr), NN_OK);
                step_loss += value / N;
            }
        size_t P;
        float *pa = params_of(a, &P), *pb = params_of(b, &P);
        for (size_t i = 0; i < P; i++)
            if (!(fabsf(pa[i] - pb[i]) <= 1e-5f * fmaxf(1.0f, fabsf(pb[i]))))
                fail_msg("case %zu, parameter %zu: nn_train %.9g, steps %.9g", c, i, pa[i],
                         pb[i]);
        assert_true(fabs(train_loss - step_loss) <= 1e-5 * fmax(1.0, step_loss));
        nn_model_destroy(a);
        nn_model_destroy(b);
    }
}

/* nn_train skips its scan of every gradient when the products' operands vouch for them
 * (nn__grads_surely_finite). On a 1-1 linear model trained with MSE on 4 rows, one input of
 * 1e19 and a weight w give dW ≈ (w/2)·1e38: the operands vouch for ordinary data only, not
 * for w = 6 (dW 3e38, finite) nor w = 8 (dW overflows) nor w = NaN; and nn_train, which then
 * scans, trains on with w = 6 and stops at once with w = 8 or NaN. */
static void test_operands_vouch_for_gradients(void **state)
{
    (void)state;
    static const struct {
        float x0, w;
        bool vouched, finite;
    } cases[] = {{0.5f, 0.7f, true, true}, {1e19f, 6.0f, false, true},
                 {1e19f, 8.0f, false, false}, {0.5f, NAN, false, false}};
    nn_layer_spec spec = {.units = 1, .act = NN_ACT_LINEAR};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        float x[4] = {cases[c].x0, 0.5f, -0.5f, 0.25f}, y[4] = {0};
        nn_mat X = nn_mat_wrap(x, 4, 1), Y = nn_mat_wrap(y, 4, 1);
        nn_model *m = make_model(1, &spec, 1, 1);
        float *params, *grads;
        size_t P = nn_model_params(m, &params, &grads);
        params[0] = cases[c].w, params[1] = 0.0f;
        assert_int_equal(nn_zero_grad(m), NN_OK);
        assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
        assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, NULL), NN_OK);
        assert_true(nn__grads_surely_finite(m, m->X, 4) == cases[c].vouched);
        bool finite = true;
        for (size_t i = 0; i < P; i++)
            finite = finite && isfinite(grads[i]);
        assert_true(finite == cases[c].finite);
        if (cases[c].vouched)
            assert_true(finite); /* what the condition promises */

        params[0] = cases[c].w, params[1] = 0.0f;
        nn_train_opts o = nn_train_defaults();
        o.epochs = 1;
        o.batch_size = 4;
        o.loss = NN_LOSS_MSE;
        assert_int_equal(nn_train(m, &X, &Y, &o), cases[c].finite ? NN_OK : NN_ERR_DIVERGED);
        float w = cases[c].w;
        if (cases[c].finite) {
            assert_true(params[0] != w); /* the step was taken */
        } else { /* and here it was not: w (NaN included) and b keep their bits */
            assert_memory_equal(&params[0], &w, sizeof w);
            assert_true(params[1] == 0.0f && !signbit(params[1]));
        }
        nn_model_destroy(m);
    }
    /* Wider layers (20 by 20, 4 rows: 80 values of dZ and of X each), so that the maxima run
     * over several vector lanes: one NaN weight, or one input of 1e37, anywhere, is seen. */
    nn_layer_spec wide = {.units = 20, .act = NN_ACT_LINEAR};
    for (int c = 0; c < 3; c++) {
        float x[4 * 20], y[4 * 20] = {0};
        for (int i = 0; i < 4 * 20; i++)
            x[i] = 0.01f * (float)(i % 7);
        if (c == 2)
            x[53] = 1e37f;
        nn_mat X = nn_mat_wrap(x, 4, 20), Y = nn_mat_wrap(y, 4, 20);
        nn_model *m = make_model(20, &wide, 1, 2);
        float *params, *grads;
        nn_model_params(m, &params, &grads);
        if (c == 1)
            params[20 * 13 + 5] = NAN; /* W(13, 5): output 13 is NaN in every row */
        assert_int_equal(nn_zero_grad(m), NN_OK);
        assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
        assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, NULL), NN_OK);
        assert_true(nn__grads_surely_finite(m, m->X, 4) == (c == 0));
        nn_model_destroy(m);
    }
}

/* A learning rate far too large makes the loss overflow: training stops with its own status
 * and the weights are those of the last step whose loss and gradient were finite. At batch 4
 * and at batch 1. */
static void test_divergence_stops(void **state)
{
    (void)state;
    float x[] = {1, 2, 3, 4}, y[] = {1e3f, 2e3f, 3e3f, 4e3f};
    nn_mat X = nn_mat_wrap(x, 4, 1), Y = nn_mat_wrap(y, 4, 1);
    nn_layer_spec specs[] = {{.units = 8, .act = NN_ACT_LINEAR}, {.units = 1}};
    for (int batch = 4; batch >= 1; batch -= 3) {
        nn_model *m = make_model(1, specs, 2, 1);
        epoch_log log = {.all_valid = true};
        nn_train_opts o = nn_train_defaults();
        o.epochs = 1000;
        o.batch_size = batch;
        o.learning_rate = 1.0f;
        o.on_epoch = log_epoch;
        o.user = &log;
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_DIVERGED);
        assert_true(log.calls < 1000);
        size_t P;
        float *p = params_of(m, &P);
        for (size_t i = 0; i < P; i++)
            assert_true(isfinite(p[i]));
        nn_model_destroy(m);
    }
}

/* ------------------------------------------------------ predict, evaluate */

/* Predict works in chunks; the result must not depend on them: compare with one forward per
 * row over more rows than a chunk. */
static void test_predict_matches_forward(void **state)
{
    (void)state;
    enum { N = 600, I = 3, O = 4 };
    nn_layer_spec specs[] = {{.units = 7, .act = NN_ACT_RELU}, {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(I, specs, 2, 4);
    static float x[N * I], out[N * O];
    nn_mat X = nn_mat_wrap(x, N, I), Out = nn_mat_wrap(out, N, O);
    fill_uniform(&X, -3, 3, 4);
    assert_int_equal(nn_predict(m, &X, &Out), NN_OK);
    for (int r = 0; r < N; r += 37) {
        float row[O];
        nn_mat Xr = nn_mat_wrap(x + r * I, 1, I), Or = nn_mat_wrap(row, 1, O);
        assert_int_equal(nn_forward(m, &Xr, &Or), NN_OK);
        for (int j = 0; j < O; j++)
            assert_float_equal(out[r * O + j], row[j], 1e-6);
    }
    nn_mat Bad = nn_mat_wrap(out, N - 1, O);
    assert_int_equal(nn_predict(m, &X, &Bad), NN_ERR_SHAPE);
    assert_int_equal(nn_predict(m, NULL, &Out), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_predict(NULL, &X, &Out), NN_ERR_INVALID_ARG);
    nn_model_destroy(m);
}

/* Evaluate against the definitions applied to predict's probabilities: mean -log p_label and
 * the fraction of rows whose argmax is the label. */
static void test_evaluate_matches_definitions(void **state)
{
    (void)state;
    enum { N = 300, I = 2, O = 3 };
    nn_layer_spec specs[] = {{.units = 6, .act = NN_ACT_TANH}, {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(I, specs, 2, 6);
    static float x[N * I], y[N], onehot[N * O], p[N * O];
    nn_mat X = nn_mat_wrap(x, N, I), P = nn_mat_wrap(p, N, O);
    fill_uniform(&X, -2, 2, 6);
    for (int i = 0; i < N; i++) {
        y[i] = (float)(i % O);
        onehot[i * O + i % O] = 1.0f;
    }
    assert_int_equal(nn_predict(m, &X, &P), NN_OK);
    double want_loss = 0, want_acc = 0;
    int idx[N];
    nn_mat_argmax(&P, idx);
    for (int i = 0; i < N; i++) {
        want_loss -= log(p[i * O + i % O]) / N;
        want_acc += (idx[i] == i % O) / (double)N;
    }
    double loss = 0, acc = 0;
    nn_mat Yi = nn_mat_wrap(y, N, 1), Yh = nn_mat_wrap(onehot, N, O);
    assert_int_equal(nn_evaluate(m, &X, &Yi, NN_LOSS_AUTO, &loss, &acc), NN_OK);
    assert_float_equal(loss, want_loss, 1e-5);
    assert_float_equal(acc, want_acc, 1e-12);
    assert_int_equal(nn_evaluate(m, &X, &Yh, NN_LOSS_CE, &loss, &acc), NN_OK);
    assert_float_equal(loss, want_loss, 1e-5);
    assert_float_equal(acc, want_acc, 1e-12);
    assert_int_equal(nn_evaluate(m, &X, &Yi, NN_LOSS_MSE, &loss, &acc), NN_ERR_SHAPE);
    nn_model_destroy(m);
}

/* ------------------------------------------------------------ bad input */

/* Every bad argument gets its status, and the model's weights are untouched. */
static void test_train_rejects_bad_input(void **state)
{
    (void)state;
    enum { N = 6, I = 2, O = 3 };
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_RELU}, {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(I, specs, 2, 1);
    float x[N * I] = {0}, y[N] = {0, 1, 2, 0, 1, 2}, yhot[N * O] = {0};
    float y_range[N] = {0, 1, 3, 0, 1, 2}, y_neg[N] = {0, -1, 2, 0, 1, 2}, y_frac[N] = {0, 1.5f};
    nn_mat X = nn_mat_wrap(x, N, I), Y = nn_mat_wrap(y, N, 1);
    nn_mat Xcols = nn_mat_wrap(x, N / 2, I * 2), Yrows = nn_mat_wrap(y, N - 1, 1);
    nn_mat Ycols = nn_mat_wrap(yhot, N / 3, O + 3), Ynull = nn_mat_wrap(NULL, N, 1);
    nn_mat Yrange = nn_mat_wrap(y_range, N, 1), Yneg = nn_mat_wrap(y_neg, N, 1);
    nn_mat Yfrac = nn_mat_wrap(y_frac, N, 1), Xempty = nn_mat_wrap(x, 0, I);
    size_t P;
    float *p = params_of(m, &P), *before = malloc(P * sizeof(float));
    assert_non_null(before);
    memcpy(before, p, P * sizeof(float));
    nn_train_opts ok = nn_train_defaults(), o;

    assert_int_equal(nn_train(NULL, &X, &Y, &ok), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_train(m, NULL, &Y, &ok), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_train(m, &X, NULL, &ok), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_train(m, &X, &Ynull, &ok), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_train(m, &Xempty, &Y, &ok), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_train(m, &Xcols, &Y, &ok), NN_ERR_SHAPE);
    assert_int_equal(nn_train(m, &X, &Yrows, &ok), NN_ERR_SHAPE);
    assert_int_equal(nn_train(m, &X, &Ycols, &ok), NN_ERR_SHAPE);
    assert_int_equal(nn_train(m, &X, &Yrange, &ok), NN_ERR_LABEL);
    assert_int_equal(nn_train(m, &X, &Yneg, &ok), NN_ERR_LABEL);
    assert_int_equal(nn_train(m, &X, &Yfrac, &ok), NN_ERR_LABEL);
    o = ok, o.batch_size = 0;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.batch_size = -4;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.epochs = -1;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    float rates[] = {NAN, INFINITY, -0.01f};
    for (int k = 0; k < 3; k++) {
        o = ok, o.learning_rate = rates[k];
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    }
    o = ok, o.loss = (nn_loss)9;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.loss = NN_LOSS_BCE; /* the output is a softmax */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_LOSS_ACT);
    assert_int_equal(nn_evaluate(m, &X, &Yrange, NN_LOSS_AUTO, NULL, NULL), NN_ERR_LABEL);
    assert_int_equal(nn_evaluate(NULL, &X, &Y, NN_LOSS_AUTO, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_memory_equal(before, p, P * sizeof(float));

    assert_int_equal(nn_train(m, &X, &Y, NULL), NN_OK); /* NULL options: the defaults */
    free(before);
    nn_model_destroy(m);
}

static void test_defaults(void **state)
{
    (void)state;
    nn_train_opts o = nn_train_defaults();
    assert_int_equal(o.epochs, 10);
    assert_int_equal(o.batch_size, 32);
    assert_float_equal(o.learning_rate, 0.01f, 0);
    assert_int_equal(o.loss, NN_LOSS_AUTO);
    assert_false(o.no_shuffle);
    assert_null(o.on_epoch);
}

/* Every allocation nn_train makes may fail: NN_ERR_NOMEM, nothing leaked, weights untouched,
 * and the model trains normally afterwards. */
static void test_train_allocation_failures(void **state)
{
    (void)state;
    enum { N = 20, I = 3 };
    nn_layer_spec specs[] = {{.units = 5, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    float x[N * I], y[N];
    nn_mat X = nn_mat_wrap(x, N, I), Y = nn_mat_wrap(y, N, 1);
    fill_uniform(&X, -1, 1, 8);
    for (int i = 0; i < N; i++)
        y[i] = (float)(x[i * I] > 0);
    int failures_seen = 0;
    for (long k = 1;; k++) {
        counting_alloc c = {0};
        nn_model_opts mo = {.seed = 2, .alloc = counting_alloc_fn, .alloc_user = &c};
        nn_model *m = NULL;
        assert_int_equal(nn_model_create(I, specs, 2, &mo, &m), NN_OK);
        size_t P;
        float *p = params_of(m, &P), before[64];
        assert_true(P <= 64);
        memcpy(before, p, P * sizeof(float));
        c.fail_at = c.calls + k;
        nn_status s = nn_train(m, &X, &Y, NULL);
        if (s == NN_OK) {
            nn_model_destroy(m);
            assert_int_equal(c.live_blocks, 0);
            break;
        }
        failures_seen++;
        assert_int_equal(s, NN_ERR_NOMEM);
        assert_memory_equal(before, p, P * sizeof(float));
        assert_int_equal(nn_train(m, &X, &Y, NULL), NN_OK);
        nn_model_destroy(m);
        assert_int_equal(c.live_blocks, 0);
        assert_int_equal(c.live_bytes, 0);
    }
    assert_true(failures_seen >= 2); /* the workspace and the visiting order */
}

/* After the first step at a batch size, a step allocates nothing: the allocations of a
 * whole nn_train call do not grow with the number of epochs (steps), and a hand-written loop
 * allocates only on its first forward. */
static void test_steps_do_not_allocate(void **state)
{
    (void)state;
    enum { N = 100, I = 5 };
    nn_layer_spec specs[] = {{.units = 16, .act = NN_ACT_RELU}, {.units = 4, .act = NN_ACT_SOFTMAX}};
    float x[N * I], y[N];
    nn_mat X = nn_mat_wrap(x, N, I), Y = nn_mat_wrap(y, N, 1);
    fill_uniform(&X, -1, 1, 9);
    for (int i = 0; i < N; i++)
        y[i] = (float)(i % 4);
    long calls[4];
    for (int k = 0; k < 4; k++) { /* 1 epoch, then 20, at batch 32 and at batch 1 */
        counting_alloc c = {0};
        nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &c};
        nn_model *m = NULL;
        assert_int_equal(nn_model_create(I, specs, 2, &mo, &m), NN_OK);
        long after_create = c.calls;
        nn_train_opts o = nn_train_defaults();
        o.epochs = k % 2 == 0 ? 1 : 20;
        o.batch_size = k < 2 ? 32 : 1; /* batch 1: one-row loops, no packing */
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
        calls[k] = c.calls - after_create;

        nn_mat Xb = nn_mat_wrap(x, 32, I), Yb = nn_mat_wrap(y, 32, 1);
        long before_loop = c.calls;
        for (int step = 0; k < 2 && step < 10; step++) { /* on a workspace of 32 rows */
            assert_int_equal(nn_forward(m, &Xb, NULL), NN_OK);
            assert_int_equal(nn_backward(m, &Yb, NN_LOSS_CE, NULL), NN_OK);
            assert_int_equal(nn_optim_step(m, &(nn_optim_opts){0}, 0.01f), NN_OK);
            assert_int_equal(nn_zero_grad(m), NN_OK);
        }
        assert_int_equal(c.calls, before_loop); /* the workspace already holds 32 rows */
        nn_model_destroy(m);
    }
    assert_true(calls[0] > 0 && calls[2] > 0);
    assert_int_equal(calls[0], calls[1]);
    assert_int_equal(calls[2], calls[3]);
}

/* ----------------------------------------------- schedules, validation, resume */

typedef struct rate_log {
    int calls;
    double rate[32], val_loss[32], val_accuracy[32];
} rate_log;

static int log_rates(void *user, const nn_epoch_info *info)
{
    rate_log *log = user;
    if (log->calls < 32) {
        log->rate[log->calls] = info->learning_rate;
        log->val_loss[log->calls] = info->val_loss;
        log->val_accuracy[log->calls] = info->val_accuracy;
    }
    log->calls++;
    return 0;
}

enum { SMALL_N = 40, SMALL_I = 3 };

/* The small classification set of these tests: which side of a line each point is on. */
static void small_data(nn_mat *X, nn_mat *Y)
{
    static float x[SMALL_N * SMALL_I], y[SMALL_N];
    *X = nn_mat_wrap(x, SMALL_N, SMALL_I);
    *Y = nn_mat_wrap(y, SMALL_N, 1);
    fill_uniform(X, -1, 1, 21);
    for (int i = 0; i < SMALL_N; i++)
        y[i] = (float)(x[i * SMALL_I] + x[i * SMALL_I + 1] > 0);
}

/* Trains a small classifier for `epochs` with the given options and records each epoch. */
static nn_model *train_small(nn_train_opts o, rate_log *log)
{
    enum { I = SMALL_I };
    nn_mat X, Y;
    small_data(&X, &Y);
    nn_layer_spec specs[] = {{.units = 6, .act = NN_ACT_TANH, .dropout = 0.2f},
                             {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(I, specs, 2, 13);
    o.on_epoch = log_rates;
    o.user = log;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    return m;
}

/* Each schedule against its formula, evaluated by hand for lr = 0.1. */
static void test_schedules(void **state)
{
    (void)state;
    nn_train_opts o = nn_train_defaults();
    o.epochs = 6;
    o.learning_rate = 0.1f;
    struct {
        nn_schedule schedule;
        double want[6];
    } cases[] = {
        {{.kind = NN_SCHED_CONSTANT}, {0.1, 0.1, 0.1, 0.1, 0.1, 0.1}},
        {{.kind = NN_SCHED_STEP, .step_epochs = 2, .gamma = 0.5f}, {0.1, 0.1, 0.05, 0.05, 0.025, 0.025}},
        {{.kind = NN_SCHED_EXPONENTIAL, .gamma = 0.5f}, {0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125}},
        /* cos(π e/4): 1, √½, 0, -√½, -1, then held at the floor */
        {{.kind = NN_SCHED_COSINE, .period_epochs = 4, .min_lr = 0.02f},
         {0.1, 0.02 + 0.08 * (1 + 0.70710678) / 2, 0.06, 0.02 + 0.08 * (1 - 0.70710678) / 2, 0.02, 0.02}},
        /* warm-up: (e + 1)/3 of the rate for the first two epochs */
        {{.kind = NN_SCHED_CONSTANT, .warmup_epochs = 2}, {0.1 / 3, 0.2 / 3, 0.1, 0.1, 0.1, 0.1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rate_log log = {0};
        o.schedule = cases[c].schedule;
        nn_model_destroy(train_small(o, &log));
        assert_int_equal(log.calls, 6);
        for (int e = 0; e < 6; e++)
            if (fabs(log.rate[e] - cases[c].want[e]) > 1e-6)
                fail_msg("schedule %zu, epoch %d: rate %g, want %g", c, e, log.rate[e],
                         cases[c].want[e]);
    }
}

/* A validation split is reported every epoch; early stopping ends on the best epoch. */
static void test_validation_and_early_stopping(void **state)
{
    (void)state;
    nn_train_opts o = nn_train_defaults();
    o.epochs = 30;
    o.batch_size = 8;
    o.learning_rate = 0.5f;
    o.val_split = 0.25f;
    rate_log log = {0};
    nn_model *m = train_small(o, &log);
    for (int e = 0; e < 30; e++) {
        assert_true(isfinite(log.val_loss[e]));
        assert_true(log.val_accuracy[e] >= 0.0 && log.val_accuracy[e] <= 1.0);
    }
    nn_model_destroy(m);

    /* With a learning rate that overshoots, the validation loss rises after some epoch:
     * early stopping must stop patience epochs after the best and restore its weights. */
    enum { N = 40, I = 3 };
    static float x[N * I], y[N];
    fill_uniform(&(nn_mat){N, I, x}, -1, 1, 22);
    for (int i = 0; i < N; i++)
        y[i] = (float)(x[i * I] * x[i * I + 1] > 0); /* XOR-like: not one line */
    nn_mat X = nn_mat_wrap(x, 30, I), Y = nn_mat_wrap(y, 30, 1);
    nn_mat Xv = nn_mat_wrap(x + 30 * I, 10, I), Yv = nn_mat_wrap(y + 30, 10, 1);
    nn_layer_spec specs[] = {{.units = 16, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    m = make_model(I, specs, 2, 4);
    rate_log es = {0};
    o = nn_train_defaults();
    o.epochs = 32;
    o.batch_size = 2;
    o.learning_rate = 2.0f;
    o.X_val = &Xv, o.Y_val = &Yv, o.patience = 3;
    o.on_epoch = log_rates, o.user = &es;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    int best = 0;
    for (int e = 1; e < es.calls; e++)
        if (es.val_loss[e] < es.val_loss[best])
            best = e;
    assert_true(es.calls < 32); /* it did stop early */
    assert_int_equal(es.calls, best + 1 + 3);
    double loss = 0;
    assert_int_equal(nn_evaluate(m, &Xv, &Yv, NN_LOSS_AUTO, &loss, NULL), NN_OK);
    assert_true(loss == es.val_loss[best]); /* the weights of the best epoch */
    nn_model_destroy(m);
}

/* Training 10 epochs equals training 5, saving a checkpoint, loading it and training on to
 * 10 with resume — bit for bit: weights, Adam's moments, the shuffle order, the dropout
 * masks and the schedule position all carry on. */
static void test_checkpoint_resume_is_exact(void **state)
{
    (void)state;
    nn_train_opts o = nn_train_defaults();
    o.epochs = 10;
    o.batch_size = 6;
    o.learning_rate = 0.2f;
    o.shuffle_seed = 5;
    o.schedule = (nn_schedule){.kind = NN_SCHED_COSINE, .period_epochs = 10, .warmup_epochs = 2};
    o.optim = (nn_optim_opts){.kind = NN_OPT_ADAM, .weight_decay = 1e-3f};
    o.learning_rate = 0.01f;
    rate_log full_log = {0};
    nn_model *full = train_small(o, &full_log);

    o.epochs = 5;
    rate_log first = {0};
    nn_model *half = train_small(o, &first);
    char path[] = "/tmp/nn_test_ckpt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nn_model_save_checkpoint(half, path), NN_OK);
    nn_model_destroy(half);
    nn_model *resumed = NULL;
    assert_int_equal(nn_model_load(path, NULL, &resumed), NN_OK);
    unlink(path);

    nn_mat X, Y;
    small_data(&X, &Y);
    rate_log second = {0};
    o.epochs = 10;
    o.resume = true;
    o.on_epoch = log_rates;
    o.user = &second;
    assert_int_equal(nn_train(resumed, &X, &Y, &o), NN_OK);
    assert_int_equal(second.calls, 5);
    for (int e = 0; e < 5; e++)
        assert_true(second.rate[e] == full_log.rate[5 + e]);
    size_t P;
    float *pf = params_of(full, &P), *pr = params_of(resumed, &P);
    assert_memory_equal(pf, pr, P * sizeof(float));
    nn_model_destroy(full);
    nn_model_destroy(resumed);
}

static void test_bad_training_options(void **state)
{
    (void)state;
    float x[8] = {0}, y[4] = {0, 1, 0, 1};
    nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1), Xv = nn_mat_wrap(x, 2, 2);
    nn_layer_spec specs[] = {{.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(2, specs, 1, 1);
    nn_train_opts ok = nn_train_defaults(), o;
    o = ok, o.schedule.kind = (nn_schedule_kind)9;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.schedule.gamma = NAN;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.schedule.warmup_epochs = -1;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.val_split = 1.0f;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.val_split = 0.1f; /* 0.1 of 4 rows holds out none */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.patience = 2; /* early stopping needs a validation set */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    o = ok, o.X_val = &Xv; /* X_val without Y_val */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    nn_mat Yv3 = nn_mat_wrap(y, 3, 1);
    o = ok, o.X_val = &Xv, o.Y_val = &Yv3; /* rows differ */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_SHAPE);
    nn_mat Yv = nn_mat_wrap(y, 2, 1);
    o = ok, o.X_val = &Xv, o.Y_val = &Yv, o.patience = 1;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    nn_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest loop[] = {
        cmocka_unit_test(test_train_equals_manual_loop),
        cmocka_unit_test(test_same_seeds_same_weights),
        cmocka_unit_test(test_learns_xor),
        cmocka_unit_test(test_learns_a_line),
        cmocka_unit_test(test_callback_stops_training),
        cmocka_unit_test(test_divergence_stops),
        cmocka_unit_test(test_operands_vouch_for_gradients),
        cmocka_unit_test(test_batch1_training_matches_steps),
    };
    const struct CMUnitTest inference[] = {
        cmocka_unit_test(test_predict_matches_forward),
        cmocka_unit_test(test_evaluate_matches_definitions),
    };
    const struct CMUnitTest input[] = {
        cmocka_unit_test(test_train_rejects_bad_input),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_train_allocation_failures),
        cmocka_unit_test(test_steps_do_not_allocate),
        cmocka_unit_test(test_bad_training_options),
    };
    const struct CMUnitTest runs[] = {
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_validation_and_early_stopping),
        cmocka_unit_test(test_checkpoint_resume_is_exact),
    };
    int failed = cmocka_run_group_tests_name("training loop", loop, NULL, NULL);
    failed += cmocka_run_group_tests_name("predict and evaluate", inference, NULL, NULL);
    failed += cmocka_run_group_tests_name("bad input", input, NULL, NULL);
    failed += cmocka_run_group_tests_name("schedules, validation, resume", runs, NULL, NULL);
    return failed != 0;
}
