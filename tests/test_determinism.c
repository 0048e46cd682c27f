/* nn_model_opts.deterministic: a network trained with every kernel this CPU runs, on 1 and
 * 2 threads, ends with the same weights bit for bit; the weights are those of the fast mode
 * to rounding; GELU is refused. The fast mode's kernels sum in different orders, so their
 * weights differ in the last bits: what this test holds equal is what the mode adds. */
#include <math.h>
#include <stdio.h>

#include "test_util.h"

static const nn_kernel kernels[] = {NN_KERNEL_PORTABLE, NN_KERNEL_AVX2, NN_KERNEL_AVX512,
                                    NN_KERNEL_NEON};
enum { N_KERNELS = sizeof kernels / sizeof kernels[0] };

typedef struct net {
    const char *name;
    int n_in, n_layers, n, batch, epochs;
    nn_layer_spec layers[3];
    nn_optimizer optim;
} net;

/* Trains net on X, Y with the given kernel and threads; NULL if the CPU lacks the kernel. */
static nn_model *train(const net *t, nn_kernel kernel, int threads, bool deterministic,
                       const nn_mat *X, const nn_mat *Y)
{
    nn_model_opts mo = {.seed = 11, .kernel = kernel, .threads = threads,
                        .deterministic = deterministic};
    nn_model *m = NULL;
    nn_status st = nn_model_create(t->n_in, t->layers, t->n_layers, &mo, &m);
    if (st == NN_ERR_UNSUPPORTED)
        return NULL;
    assert_int_equal(st, NN_OK);
    assert_int_equal(nn_model_kernel(m), kernel);
    nn_train_opts o = nn_train_defaults();
    o.epochs = t->epochs, o.batch_size = t->batch, o.learning_rate = 0.05f;
    o.shuffle_seed = 3;
    o.optim.kind = t->optim;
    if (t->optim == NN_OPT_ADAM)
        o.learning_rate = 1e-3f;
    assert_int_equal(nn_train(m, X, Y, &o), NN_OK);
    return m;
}

static void check_net(const net *t)
{
    nn_mat X, Y;
    assert_int_equal(nn_mat_alloc(&X, t->n, t->n_in), NN_OK);
    assert_int_equal(nn_mat_alloc(&Y, t->n, 1), NN_OK);
    fill_uniform(&X, -1, 1, 21);
    int classes = t->layers[t->n_layers - 1].units;
    for (int r = 0; r < t->n; r++) { /* a class from the signs of a few inputs' sums */
        const float *x = X.data + (size_t)r * t->n_in;
        Y.data[r] = (float)(((x[0] + x[1] > 0) + 2 * (x[0] * x[1] > 0.1f)) % classes);
    }
    nn_model *first = NULL;
    size_t P = 0;
    float *want = NULL;
    int runs = 0;
    for (int k = 0; k < N_KERNELS; k++)
        for (int threads = 1; threads <= 2; threads++) {
            nn_model *m = train(t, kernels[k], threads, true, &X, &Y);
            if (!m)
                continue;
            float *got;
            size_t n = nn_model_params(m, &got, NULL);
            if (!first) {
                first = m, P = n, want = got;
            } else {
                assert_int_equal(n, P);
                if (memcmp(got, want, P * sizeof *got) != 0)
                    fail_msg("%s: kernel %s, %d threads: weights differ from %s on 1 thread",
                             t->name, nn_kernel_name(kernels[k]), threads,
                             nn_kernel_name(nn_model_kernel(first)));
                nn_model_destroy(m);
            }
            runs++;
        }
    assert_true(runs >= 2);
    /* The fast mode trains the same network to rounding. */
    nn_model *fast = train(t, NN_KERNEL_PORTABLE, 1, false, &X, &Y);
    float *f;
    assert_int_equal(nn_model_params(fast, &f, NULL), P);
    double worst = 0;
    for (size_t i = 0; i < P; i++)
        worst = fmax(worst, fabs((double)f[i] - want[i]));
    printf("%s: %d runs bit-identical; largest difference from the fast mode %.3g\n", t->name,
           runs, worst);
    assert_true(worst < 1e-3);
    nn_model_destroy(fast);
    nn_model_destroy(first);
    nn_mat_free(&X), nn_mat_free(&Y);
}

/* Small layers, batches of 16, momentum: the spiral example's shape. */
static void test_small_net(void **state)
{
    (void)state;
    net t = {"2-64-64-3", 2, 3, 240, 16, 4,
             {{.units = 64, .act = NN_ACT_TANH}, {.units = 64, .act = NN_ACT_RELU},
              {.units = 3, .act = NN_ACT_SOFTMAX}},
             NN_OPT_SGD};
    check_net(&t);
}

/* One row at a time: products that the fast mode computes in its one-row loops. */
static void test_batch_of_one(void **state)
{
    (void)state;
    net t = {"8-16-2, batch 1", 8, 2, 64, 1, 3,
             {{.units = 16, .act = NN_ACT_SIGMOID}, {.units = 2, .act = NN_ACT_SOFTMAX}},
             NN_OPT_SGD};
    check_net(&t);
}

/* Fashion-MNIST's network on 256 synthetic rows: K = 784 spans several of the fixed order's
 * K blocks, and the products are large enough to be split between 2 threads. Adam. */
static void test_mlp_slice(void **state)
{
    (void)state;
    net t = {"784-256-128-10", 784, 3, 256, 64, 1,
             {{.units = 256, .act = NN_ACT_RELU}, {.units = 128, .act = NN_ACT_RELU},
              {.units = 10, .act = NN_ACT_SOFTMAX}},
             NN_OPT_ADAM};
    check_net(&t);
}

static void test_gelu_refused(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_RELU}, {.units = 4, .act = NN_ACT_GELU},
                             {.units = 1, .act = NN_ACT_LINEAR}};
    nn_error err;
    nn_model_opts mo = {.deterministic = true, .error = &err};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(3, specs, 3, &mo, &m), NN_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(err.message, "layers[1] is GELU"));
    mo.deterministic = false;
    assert_int_equal(nn_model_create(3, specs, 3, &mo, &m), NN_OK);
    nn_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_net),
        cmocka_unit_test(test_batch_of_one),
        cmocka_unit_test(test_mlp_slice),
        cmocka_unit_test(test_gelu_refused),
    };
    return cmocka_run_group_tests_name("deterministic mode", tests, NULL, NULL);
}
