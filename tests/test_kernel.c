/* nn_model_opts.kernel: a forced kernel runs every product of the model (its output is that
 * kernel's product, bit for bit), each kernel this CPU runs trains a network to the weights
 * the reference kernel trains within a tolerance, and a kernel the CPU or build lacks is
 * refused with a message naming it and what is missing. tests/CMakeLists.txt builds this file
 * a second time on a gemm.c that hides AVX-512F from the CPU check, so that the refusal is
 * tested on every x86-64 machine, AVX-512 ones included. */
#include <math.h>
#include <stdio.h>

#include "nn_internal.h" /* the reference kernel, and the kernels behind nn_kernel */
#include "test_util.h"

static const nn_kernel kernels[] = {NN_KERNEL_PORTABLE, NN_KERNEL_AVX2, NN_KERNEL_AVX512,
                                    NN_KERNEL_NEON};
static const nn__gemm_kernel gemm_of[] = {NN__GEMM_PORTABLE, NN__GEMM_AVX2, NN__GEMM_AVX512,
                                          NN__GEMM_NEON};
enum { N_KERNELS = sizeof kernels / sizeof kernels[0] };

/* The model for kernel `kernel`, or NULL if nn_model_create refused it (status in *st). */
static nn_model *make(nn_kernel kernel, int n_in, const nn_layer_spec *specs, int n,
                      nn_status *st, nn_error *err)
{
    nn_model_opts mo = {.seed = 5, .kernel = kernel, .error = err};
    nn_model *m = NULL;
    *st = nn_model_create(n_in, specs, n, &mo, &m);
    return m;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(nn_kernel_name(NN_KERNEL_AUTO), "auto");
    assert_string_equal(nn_kernel_name(NN_KERNEL_PORTABLE), "portable");
    assert_string_equal(nn_kernel_name(NN_KERNEL_AVX2), "avx2");
    assert_string_equal(nn_kernel_name(NN_KERNEL_AVX512), "avx512");
    assert_string_equal(nn_kernel_name(NN_KERNEL_NEON), "neon");
    assert_string_equal(nn_kernel_name((nn_kernel)99), "unknown kernel");
    assert_int_equal(nn_model_kernel(NULL), NN_KERNEL_AUTO);
    assert_int_equal(NN_ERR_UNSUPPORTED, 13);
}

/* AUTO runs the fastest available kernel and says which; a forced one is what runs. */
static void test_auto_and_forced(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 4, .act = NN_ACT_LINEAR};
    nn_status st;
    nn_model *m = make(NN_KERNEL_AUTO, 3, &spec, 1, &st, NULL);
    assert_int_equal(st, NN_OK);
    nn_kernel want = nn__gemm_available(NN__GEMM_AVX512) ? NN_KERNEL_AVX512
                     : nn__gemm_available(NN__GEMM_AVX2) ? NN_KERNEL_AVX2
                     : nn__gemm_available(NN__GEMM_NEON) ? NN_KERNEL_NEON
                                                         : NN_KERNEL_PORTABLE;
    assert_int_equal(nn_model_kernel(m), want);
    nn_model_destroy(m);
    for (int k = 0; k < N_KERNELS; k++) {
        m = make(kernels[k], 3, &spec, 1, &st, NULL);
        assert_int_equal(st, nn__gemm_available(gemm_of[k]) ? NN_OK : NN_ERR_UNSUPPORTED);
        if (m)
            assert_int_equal(nn_model_kernel(m), kernels[k]);
        nn_model_destroy(m);
    }
    nn_error err;
    m = make((nn_kernel)7, 3, &spec, 1, &st, &err);
    assert_int_equal(st, NN_ERR_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err.message, "opts.kernel is 7"));
}

/* A kernel this CPU or build lacks: NN_ERR_UNSUPPORTED, no model, and a message that names
 * the kernel and the instructions. The hidden-AVX-512 build always has one such kernel. */
static void test_unsupported_refused(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 4, .act = NN_ACT_LINEAR};
    int refused = 0;
    for (int k = 0; k < N_KERNELS; k++) {
        if (nn__gemm_available(gemm_of[k]))
            continue;
        nn_error err;
        nn_status st;
        nn_model *m = make(kernels[k], 3, &spec, 1, &st, &err);
        assert_int_equal(st, NN_ERR_UNSUPPORTED);
        assert_int_equal(err.status, NN_ERR_UNSUPPORTED);
        assert_null(m);
        char want[128];
        snprintf(want, sizeof want, "opts.kernel is %s, but ", nn_kernel_name(kernels[k]));
        assert_non_null(strstr(err.message, want));
        assert_non_null(strstr(err.message, nn__gemm_missing(gemm_of[k])));
        printf("refused: %s\n", err.message);
        refused++;
    }
#ifdef NN_GEMM_HIDE_AVX512
    assert_false(nn__gemm_available(NN__GEMM_AVX512));
    assert_true(refused >= 1);
    nn_error err;
    nn_status st;
    assert_null(make(NN_KERNEL_AVX512, 3, &spec, 1, &st, &err));
    assert_string_equal(err.message, "nn_model_create: opts.kernel is avx512, but this CPU has "
                                     "no AVX-512F");
#else
    (void)refused;
#endif
}

/* The model's forward product is the forced kernel's product, bit for bit: a linear layer
 * with zero biases outputs X·Wᵀ as nn__gemm computes it with that kernel. */
static void test_forward_runs_the_forced_kernel(void **state)
{
    (void)state;
    enum { B = 24, I = 40, O = 36 };
    nn_layer_spec spec = {.units = O, .act = NN_ACT_LINEAR};
    nn_mat X, Out, Z;
    assert_int_equal(nn_mat_alloc(&X, B, I), NN_OK);
    assert_int_equal(nn_mat_alloc(&Out, B, O), NN_OK);
    assert_int_equal(nn_mat_alloc(&Z, B, O), NN_OK);
    fill_uniform(&X, -1, 1, 3);
    float *ws = malloc(nn__gemm_ws_floats() * sizeof *ws);
    assert_non_null(ws);
    for (int k = 0; k < N_KERNELS; k++) {
        if (!nn__gemm_available(gemm_of[k]))
            continue;
        nn_status st;
        nn_model *m = make(kernels[k], I, &spec, 1, &st, NULL);
        assert_int_equal(st, NN_OK);
        assert_int_equal(nn_predict(m, &X, &Out), NN_OK);
        nn_layer_view v;
        assert_int_equal(nn_model_layer(m, 0, &v), NN_OK);
        nn__gemm(gemm_of[k], ws, false, true, B, O, I, 1.0f, X.data, I, v.W.data, I, 0.0f,
                 Z.data, O);
        assert_memory_equal(Out.data, Z.data, sizeof(float) * B * O);
        nn_model_destroy(m);
    }
    free(ws);
    nn_mat_free(&X), nn_mat_free(&Out), nn_mat_free(&Z);
}

/* Every kernel this CPU runs trains the same network, from the same seed on the same data,
 * to the weights the reference kernel (plain loops) trains: only the order of each sum
 * differs, so they agree to rounding, which 60 steps of SGD grow to some 1e-7. */
static void test_every_kernel_trains_as_the_reference(void **state)
{
    (void)state;
    enum { N = 192, I = 12, O = 3 };
    nn_mat X, Y;
    assert_int_equal(nn_mat_alloc(&X, N, I), NN_OK);
    assert_int_equal(nn_mat_alloc(&Y, N, 1), NN_OK);
    fill_uniform(&X, -1, 1, 8);
    for (int r = 0; r < N; r++) /* 3 classes from two inputs' signs */
        Y.data[r] = (float)((X.data[r * I] > 0) + (X.data[r * I + 1] > 0.3f));
    /* Products well above the plain loops' 512 multiply-adds: 32 × 48 × 12 and more. */
    nn_layer_spec specs[] = {{.units = 48, .act = NN_ACT_TANH},
                             {.units = 40, .act = NN_ACT_RELU},
                             {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_train_opts o = nn_train_defaults();
    o.epochs = 10, o.batch_size = 32, o.learning_rate = 0.1f, o.shuffle_seed = 4;

    nn_status st;
    nn_model *ref = make(NN_KERNEL_PORTABLE, I, specs, 3, &st, NULL);
    assert_int_equal(st, NN_OK);
    ref->kernel = NN__GEMM_REF;
    assert_int_equal(nn_train(ref, &X, &Y, &o), NN_OK);
    float *want, *init;
    size_t P = nn_model_params(ref, &want, NULL);
    nn_model *fresh = make(NN_KERNEL_PORTABLE, I, specs, 3, &st, NULL);
    assert_int_equal(nn_model_params(fresh, &init, NULL), P);
    double moved = 0; /* how far training took the weights, so the tolerance means something */
    for (size_t i = 0; i < P; i++)
        moved = fmax(moved, fabs((double)want[i] - init[i]));
    assert_true(moved > 0.05);
    nn_model_destroy(fresh);

    for (int k = 0; k < N_KERNELS; k++) {
        if (!nn__gemm_available(gemm_of[k]))
            continue;
        nn_model *m = make(kernels[k], I, specs, 3, &st, NULL);
        assert_int_equal(st, NN_OK);
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
        float *got;
        assert_int_equal(nn_model_params(m, &got, NULL), P);
        double worst = 0;
        for (size_t i = 0; i < P; i++)
            worst = fmax(worst, fabs((double)got[i] - want[i]));
        printf("%-8s largest weight difference from the reference: %.3g\n",
               nn_kernel_name(kernels[k]), worst);
        assert_true(worst < 1e-5);
        nn_model_destroy(m);
    }
    nn_model_destroy(ref);
    nn_mat_free(&X), nn_mat_free(&Y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_auto_and_forced),
        cmocka_unit_test(test_unsupported_refused),
        cmocka_unit_test(test_forward_runs_the_forced_kernel),
        cmocka_unit_test(test_every_kernel_trains_as_the_reference),
    };
    return cmocka_run_group_tests_name("kernel choice", tests, NULL, NULL);
}
