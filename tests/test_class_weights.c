/* Class weights (nn_train_opts.class_weights): the weighted losses and their gradients against
 * PyTorch (tests/ref/class_weight_ref.h, made by tests/ref/make_class_weight_ref.py), training
 * steps against PyTorch's SGD on the same weighted loss, the weighted gradient against
 * nn_grad_check's independent double-precision reference, the bits that must not change
 * (no weights, all weights 1, all weights scaled by 2), and the refusals of bad weights.
 * Shape letters: B rows, O outputs, P parameters. */
#include <math.h>
#include <stdio.h>

#include "test_util.h"

#include "nn_internal.h"
#include "ref/class_weight_ref.h"

#define MAXN 64 /* the largest B·O of a loss case */

static void assert_close(double got, double want, double atol, double rtol, const char *what,
                         int i)
{
    double tol = atol + rtol * fabs(want);
    if (!(fabs(got - want) <= tol))
        fail_msg("%s[%d]: got %.9g, want %.9g (tol %.3g)", what, i, got, want, tol);
}

/* ------------------------------------------------------------- the loss */

/* Loss and gradient within 1e-6 of PyTorch's: both are a handful of float operations from
 * float inputs, summed in double, so they sit within a few float ulps of the exact values. */
static void test_loss_matches_pytorch(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cw_loss_refs / sizeof cw_loss_refs[0]; c++) {
        const cw_loss_ref *r = &cw_loss_refs[c];
        int B = r->rows, O = r->cols;
        assert_true(B * O <= MAXN);
        assert_int_equal(nn__check_class_weights(NULL, "test", "w", r->loss, O, r->w,
                                                 r->n_weights), NN_OK);
        float grad[MAXN];
        long hits = 0;
        double value = nn__loss_mt(NULL, r->loss, r->w, B, O, r->out, r->y, r->ycols, grad,
                                   &hits);
        assert_close(value, r->value, 1e-6, 1e-6, r->name, -1);
        for (int i = 0; i < B * O; i++)
            assert_close(grad[i], r->grad[i], 1e-6, 1e-6, r->name, i);
        /* The value alone (no gradient asked) is the same number. */
        assert_true(nn__loss_mt(NULL, r->loss, r->w, B, O, r->out, r->y, r->ycols, NULL,
                                NULL) == value);
    }
}

/* Without weights, with every weight 1 and with every weight 2 the loss and gradient are the
 * same bits: the weights cancel exactly when they are powers of 2. */
static void test_uniform_weights_change_nothing(void **state)
{
    (void)state;
    const cw_loss_ref *r = &cw_loss_refs[0];
    int B = r->rows, O = r->cols;
    float ones[16], twos[16];
    for (int c = 0; c < r->n_weights; c++)
        ones[c] = 1.0f, twos[c] = 2.0f;
    float g_none[MAXN], g_ones[MAXN], g_twos[MAXN];
    double none = nn__loss_mt(NULL, r->loss, NULL, B, O, r->out, r->y, r->ycols, g_none, NULL);
    double with_ones = nn__loss_mt(NULL, r->loss, ones, B, O, r->out, r->y, r->ycols, g_ones,
                                   NULL);
    double with_twos = nn__loss_mt(NULL, r->loss, twos, B, O, r->out, r->y, r->ycols, g_twos,
                                   NULL);
    assert_true(none == with_ones && none == with_twos);
    assert_memory_equal(g_none, g_ones, sizeof(float) * (size_t)(B * O));
    assert_memory_equal(g_none, g_twos, sizeof(float) * (size_t)(B * O));
}

/* A class of weight 0 contributes nothing: its rows' gradients are exactly 0. */
static void test_zero_weight_rows_have_no_gradient(void **state)
{
    (void)state;
    const cw_loss_ref *r = NULL;
    for (size_t c = 0; c < sizeof cw_loss_refs / sizeof cw_loss_refs[0]; c++)
        if (strcmp(cw_loss_refs[c].name, "ce_zero_class_5x3") == 0)
            r = &cw_loss_refs[c];
    assert_non_null(r);
    float grad[MAXN];
    nn__loss_mt(NULL, r->loss, r->w, r->rows, r->cols, r->out, r->y, r->ycols, grad, NULL);
    int zero_rows = 0;
    for (int b = 0; b < r->rows; b++) {
        if (r->w[(int)r->y[b]] != 0.0f)
            continue;
        zero_rows++;
        for (int j = 0; j < r->cols; j++)
            assert_true(grad[b * r->cols + j] == 0.0f);
    }
    assert_int_equal(zero_rows, 2);
}

/* ------------------------------------------------------------- training */

static nn_model *make_ref_model(const cw_train_ref *r)
{
    nn_layer_spec specs[] = {{.units = r->hidden, .act = NN_ACT_TANH},
                             {.units = r->n_out,
                              .act = r->loss == NN_LOSS_CE ? NN_ACT_SOFTMAX : NN_ACT_SIGMOID}};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(r->n_in, specs, 2, NULL, &m), NN_OK);
    float *p;
    size_t P = nn_model_params(m, &p, NULL);
    memcpy(p, r->init, P * sizeof(float));
    return m;
}

static nn_train_opts ref_opts(const cw_train_ref *r)
{
    nn_train_opts o = nn_train_defaults();
    o.epochs = r->steps, o.batch_size = r->rows, o.learning_rate = r->learning_rate;
    o.no_shuffle = true, o.loss = r->loss;
    o.class_weights = r->w, o.n_class_weights = r->n_weights;
    return o;
}

/* nn_train's full-batch SGD on the weighted loss lands where torch.optim.SGD does, within
 * 1e-6 (float32 both, summed in different orders); without the weights it lands elsewhere. */
static void test_training_matches_pytorch(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cw_train_refs / sizeof cw_train_refs[0]; c++) {
        const cw_train_ref *r = &cw_train_refs[c];
        nn_mat X = nn_mat_wrap((float *)r->x, r->rows, r->n_in);
        nn_mat Y = nn_mat_wrap((float *)r->y, r->rows, r->ycols);
        nn_model *m = make_ref_model(r);
        nn_train_opts o = ref_opts(r);
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
        float *p;
        size_t P = nn_model_params(m, &p, NULL);
        for (size_t i = 0; i < P; i++)
            assert_close(p[i], r->final[i], 1e-6, 1e-6, r->name, (int)i);
        nn_model_destroy(m);

        m = make_ref_model(r);
        o.class_weights = NULL, o.n_class_weights = 0;
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
        nn_model_params(m, &p, NULL);
        double moved = 0.0; /* how far the unweighted run ends from the weighted one */
        for (size_t i = 0; i < P; i++)
            moved = fmax(moved, fabs(p[i] - r->final[i]));
        assert_true(moved > 1e-3);
        nn_model_destroy(m);
    }
}

/* The weighted gradient against nn_grad_check's reference (its own double forward and
 * weighted loss), and that reference against an unweighted gradient, which it must reject. */
static void test_grad_check_with_weights(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cw_train_refs / sizeof cw_train_refs[0]; c++) {
        const cw_train_ref *r = &cw_train_refs[c];
        nn_mat X = nn_mat_wrap((float *)r->x, r->rows, r->n_in);
        nn_mat Y = nn_mat_wrap((float *)r->y, r->rows, r->ycols);
        nn_model *m = make_ref_model(r);
        nn_grad_check_opts go = {.class_weights = r->w, .n_class_weights = r->n_weights};
        nn_grad_check_result res;
        assert_int_equal(nn_grad_check(m, &X, &Y, r->loss, &go, &res), NN_OK);
        if (!res.passed)
            fail_msg("%s: worst ratio %g at layer %d %c[%d][%d]", r->name, res.worst_ratio,
                     res.layer, res.kind, res.row, res.col);
        /* The unweighted gradient (nn_backward takes no weights), judged against the
         * weighted reference. */
        assert_int_equal(nn_zero_grad(m), NN_OK);
        assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
        assert_int_equal(nn_backward(m, &Y, r->loss, NULL), NN_OK);
        assert_int_equal(nn__grad_compare(m, &X, &Y, r->loss, &go, &res), NN_OK);
        assert_false(res.passed);
        assert_true(res.worst_ratio > 10.0);
        nn_model_destroy(m);
    }
}

/* ------------------------------------------------------------- refusals */

/* Each bad set of weights is refused before anything changes, with a message naming the
 * field and the numbers; the parameters are the same bits after. */
static void test_bad_weights_refused(void **state)
{
    (void)state;
    const cw_train_ref *r = &cw_train_refs[0]; /* CE over 4 classes */
    nn_mat X = nn_mat_wrap((float *)r->x, r->rows, r->n_in);
    nn_mat Y = nn_mat_wrap((float *)r->y, r->rows, r->ycols);
    nn_model *m = make_ref_model(r);
    float *p;
    size_t P = nn_model_params(m, &p, NULL);
    float before[64];
    assert_true(P <= 64);
    memcpy(before, p, P * sizeof(float));

    const float three[3] = {1, 1, 1}, negative[4] = {1, -0.5f, 1, 1}, zeros[4] = {0, 0, 0, 0};
    const float nan4[4] = {1, 1, NAN, 1};
    struct {
        const float *w;
        int n;
        const char *facts[3];
    } cases[] = {
        {three, 3, {"opts.class_weights", "3 weights", "takes 4"}},
        {NULL, 4, {"opts.class_weights", "NULL", "takes 4"}},
        {negative, 4, {"opts.class_weights[1]", "-0.5", ">= 0"}},
        {nan4, 4, {"opts.class_weights[2]", "nan", "finite"}},
        {zeros, 4, {"opts.class_weights", "4 weights", "0"}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nn_train_opts o = ref_opts(r);
        o.class_weights = cases[c].w, o.n_class_weights = cases[c].n;
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
        const char *msg = nn_model_errmsg(m);
        for (int f = 0; f < 3; f++)
            if (!strstr(msg, cases[c].facts[f]))
                fail_msg("case %zu: \"%s\" does not say \"%s\"", c, msg, cases[c].facts[f]);
        assert_memory_equal(p, before, P * sizeof(float));
    }
    nn_model_destroy(m);

    /* MSE has no classes to weigh. */
    nn_layer_spec lin[] = {{.units = 2, .act = NN_ACT_LINEAR}};
    assert_int_equal(nn_model_create(3, lin, 1, NULL, &m), NN_OK);
    float y2[24] = {0};
    nn_mat Y2 = nn_mat_wrap(y2, 12, 2);
    nn_train_opts o = nn_train_defaults();
    const float two[2] = {1, 2};
    o.class_weights = two, o.n_class_weights = 2;
    assert_int_equal(nn_train(m, &X, &Y2, &o), NN_ERR_INVALID_ARG);
    assert_non_null(strstr(nn_model_errmsg(m), "mean squared error"));
    nn_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_matches_pytorch),
        cmocka_unit_test(test_uniform_weights_change_nothing),
        cmocka_unit_test(test_zero_weight_rows_have_no_gradient),
        cmocka_unit_test(test_training_matches_pytorch),
        cmocka_unit_test(test_grad_check_with_weights),
        cmocka_unit_test(test_bad_weights_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
