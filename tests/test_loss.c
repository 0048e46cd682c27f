/* Tests for nn_loss_eval: MSE, BCE (from logits) and CE (from logits, with class indices or
 * probability rows) against values worked by hand, against PyTorch (tests/ref/loss_ref.h,
 * made by tests/ref/make_loss_ref.py) and against central finite differences; then the
 * statuses of bad labels, enums and shapes, which must leave dOut and *value untouched.
 * Shape letters: B rows (samples), O outputs; Y is (B, O), or (B, 1) class indices for CE. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "ref/loss_ref.h"

/* Tolerances. The library sums the loss in double and rounds it to float once, and each
 * gradient element is a handful of float operations, so both are within a few float ulps
 * (2^-24 ≈ 6e-8 relative) of exact: 1e-5 relative + 1e-6 absolute leaves a wide margin and
 * still catches any wrong term (the smallest element of any case here is ~1e-3). */
#define VALUE_RTOL 1e-5
#define GRAD_ATOL 1e-6
#define GRAD_RTOL 1e-5

#define MAXN 64 /* the largest B·O any test here uses */

static void assert_close(double got, double want, double atol, double rtol, const char *what,
                         int i)
{
    double tol = atol + rtol * fabs(want);
    if (!(fabs(got - want) <= tol))
        fail_msg("%s[%d]: got %.9g, want %.9g (tol %.3g)", what, i, got, want, tol);
}

/* Evaluates `loss` on (Out, Y) and checks the value and gradient against the expected ones. */
static void check_loss(nn_loss loss, int B, int O, int ycols, const float *out, const float *y,
                       double want_value, const float *want_grad, const char *name)
{
    float o[MAXN], t[MAXN], g[MAXN], value = NAN;
    assert_true(B * O <= MAXN && B * ycols <= MAXN);
    memcpy(o, out, sizeof(float) * (size_t)(B * O));
    memcpy(t, y, sizeof(float) * (size_t)(B * ycols));
    nn_mat Out = nn_mat_wrap(o, B, O), Y = nn_mat_wrap(t, B, ycols), dOut = nn_mat_wrap(g, B, O);
    assert_int_equal(nn_loss_eval(loss, &Out, &Y, &value, &dOut), NN_OK);
    assert_close(value, want_value, 1e-6, VALUE_RTOL, name, -1);
    for (int i = 0; i < B * O; i++) {
        if (!isfinite(g[i]))
            fail_msg("%s: gradient [%d] is not finite", name, i);
        assert_close(g[i], want_grad[i], GRAD_ATOL, GRAD_RTOL, name, i);
    }
    float value_only = NAN; /* dOut NULL: the same value, nothing written */
    assert_int_equal(nn_loss_eval(loss, &Out, &Y, &value_only, NULL), NN_OK);
    assert_true(value_only == value);
}

/* ------------------------------------------------------------ by hand */

static void test_mse_by_hand(void **state)
{
    (void)state;
    /* a - y = [1, 0, -2, 0]: L = (1 + 4) / 4 = 1.25; dL/da = 2 (a - y) / 4 = [0.5, 0, -1, 0]. */
    const float a[] = {1, 2, 3, 4}, y[] = {0, 2, 5, 4}, g[] = {0.5f, 0, -1, 0};
    check_loss(NN_LOSS_MSE, 2, 2, 2, a, y, 1.25, g, "mse");
}

static void test_bce_by_hand(void **state)
{
    (void)state;
    /* z = 0: σ = 1/2, each loss ln 2 whatever y, dL/dz = (1/2 - y) / 3.
     * z = ln 3: σ = 3/4; with y = 1 the loss is -ln(3/4) = ln 4 - ln 3, dL/dz = (3/4 - 1) / 3.
     * L = (2 ln 2 + ln 4 - ln 3) / 3 = (4 ln 2 - ln 3) / 3 = 0.5579921... */
    const float z[] = {0, 0, (float)log(3.0)}, y[] = {1, 0, 1};
    const float g[] = {-0.5f / 3, 0.5f / 3, -0.25f / 3};
    check_loss(NN_LOSS_BCE, 3, 1, 1, z, y, (4 * log(2.0) - log(3.0)) / 3, g, "bce");
}

static void test_ce_index_by_hand(void **state)
{
    (void)state;
    /* Row 0: z = [0, ln 2, ln 5] → p = [1, 2, 5] / 8, label 2: loss -ln(5/8), dz = p - e2.
     * Row 1: z = [0, 0, 0] → p = 1/3 each, label 0: loss ln 3, dz = p - e0.
     * Mean over B = 2 rows: L = (ln 8 - ln 5 + ln 3) / 2 = 0.7843082..., dz / 2. */
    const float z[] = {0, (float)log(2.0), (float)log(5.0), 0, 0, 0}, y[] = {2, 0};
    const float g[] = {0.125f / 2, 0.25f / 2, -0.375f / 2,
                       (1.0f / 3 - 1) / 2, 1.0f / 6, 1.0f / 6};
    check_loss(NN_LOSS_CE, 2, 3, 1, z, y, (log(8.0) - log(5.0) + log(3.0)) / 2, g, "ce index");
}

static void test_ce_prob_by_hand(void **state)
{
    (void)state;
    /* z = [0, ln 2, ln 5] → p = [1, 2, 5] / 8; y = [1/2, 0, 1/2]:
     * L = 1/2 ln 8 + 1/2 (ln 8 - ln 5) = 1.2747227..., dz = p·Σy - y = [-3/8, 1/4, 1/8]. */
    const float z[] = {0, (float)log(2.0), (float)log(5.0)}, y[] = {0.5f, 0, 0.5f};
    const float g[] = {-0.375f, 0.25f, 0.125f};
    check_loss(NN_LOSS_CE, 1, 3, 3, z, y, log(8.0) - 0.5 * log(5.0), g, "ce prob");
}

static void test_ce_huge_logits_by_hand(void **state)
{
    (void)state;
    /* z = [1e4, -1e4, 0]: logsumexp = 1e4 + ln(1 + e^-1e4 + e^-2e4) = 1e4 exactly in float,
     * p = [1, 0, 0]. Label 1: loss 1e4 - (-1e4) = 2e4, dz = [1, -1, 0]. Label 0: loss 0,
     * dz = 0. Mean: L = 1e4, dz / 2. A log(softmax) would give log 0 = -inf here. */
    const float z[] = {1e4f, -1e4f, 0, 1e4f, -1e4f, 0}, y[] = {1, 0};
    const float g[] = {0.5f, -0.5f, 0, 0, 0, 0};
    check_loss(NN_LOSS_CE, 2, 3, 1, z, y, 1e4, g, "ce huge");
}

static void test_bce_huge_logits_by_hand(void **state)
{
    (void)state;
    /* z = -100, y = 1: loss = max(z,0) - z·y + log(1 + e^-100) = 100 (σ = 3.7e-44, whose
     * log a naive formula would take); dz = (σ - 1) / 2 ≈ -1/2. z = 100, y = 1: loss e^-100
     * ≈ 0, dz = (1 - 1) / 2 = 0. L = 50. */
    const float z[] = {-100, 100}, y[] = {1, 1}, g[] = {-0.5f, 0};
    check_loss(NN_LOSS_BCE, 2, 1, 1, z, y, 50.0, g, "bce huge");
}

/* --------------------------------------------------------------- PyTorch */

static void test_matches_pytorch(void **state)
{
    (void)state;
    size_t n = sizeof loss_refs / sizeof loss_refs[0];
    for (size_t c = 0; c < n; c++) {
        const loss_ref *r = &loss_refs[c];
        check_loss(r->loss, r->rows, r->cols, r->ycols, r->out, r->y, r->value, r->grad,
                   r->name);
    }
}

/* ------------------------------------------------------ finite differences */

/* Central differences (L(o + h) - L(o - h)) / (o+ - o-) of nn_loss_eval's own value, with
 * the denominator the perturbation float really made. h = 1e-2 on values of order 1: the
 * truncation error h²/6·L''' is < 1e-5 and the rounding of the float loss (~6e-8·L) costs
 * < 1e-5 after dividing by 2h; tolerance 1e-4 + 1e-3 relative covers both several times. */
static void check_fd(nn_loss loss, int B, int O, int ycols, float *out, float *y)
{
    float g[MAXN], value;
    nn_mat Out = nn_mat_wrap(out, B, O), Y = nn_mat_wrap(y, B, ycols), dOut = nn_mat_wrap(g, B, O);
    assert_int_equal(nn_loss_eval(loss, &Out, &Y, &value, &dOut), NN_OK);
    for (int i = 0; i < B * O; i++) {
        float keep = out[i], lp, lm;
        float op = keep + 1e-2f, om = keep - 1e-2f;
        out[i] = op;
        assert_int_equal(nn_loss_eval(loss, &Out, &Y, &lp, NULL), NN_OK);
        out[i] = om;
        assert_int_equal(nn_loss_eval(loss, &Out, &Y, &lm, NULL), NN_OK);
        out[i] = keep;
        double fd = ((double)lp - lm) / ((double)op - om);
        assert_close(g[i], fd, 1e-4, 1e-3, "fd", i);
    }
}

/* Deterministic pseudo-random values in [lo, hi): a 64-bit LCG, independent of the library. */
static void fill(float *x, int n, float lo, float hi, uint64_t *s)
{
    for (int i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = lo + (hi - lo) * (float)((*s >> 40) * (1.0 / 16777216.0));
    }
}

static void test_mse_finite_differences(void **state)
{
    (void)state;
    uint64_t s = 1;
    float out[12], y[12];
    fill(out, 12, -2, 2, &s);
    fill(y, 12, -2, 2, &s);
    check_fd(NN_LOSS_MSE, 4, 3, 3, out, y);
}

static void test_bce_finite_differences(void **state)
{
    (void)state;
    uint64_t s = 2;
    float out[12], y[12];
    fill(out, 12, -4, 4, &s);
    fill(y, 12, 0, 1, &s);
    y[0] = 0, y[1] = 1;
    check_fd(NN_LOSS_BCE, 3, 4, 4, out, y);
}

static void test_ce_index_finite_differences(void **state)
{
    (void)state;
    uint64_t s = 3;
    float out[20], y[4] = {0, 4, 2, 3};
    fill(out, 20, -3, 3, &s);
    check_fd(NN_LOSS_CE, 4, 5, 1, out, y);
}

static void test_ce_prob_finite_differences(void **state)
{
    (void)state;
    uint64_t s = 4;
    float out[20], y[20];
    fill(out, 20, -3, 3, &s);
    fill(y, 20, 0, 1, &s); /* rows not summing to 1: the gradient's p·Σy term is exercised */
    check_fd(NN_LOSS_CE, 4, 5, 5, out, y);
}

/* ------------------------------------------------------------ bad input */

/* Expects `want` from nn_loss_eval and checks that neither *value nor dOut was touched. */
static void expect_status(nn_loss loss, const nn_mat *Out, const nn_mat *Y, nn_mat *dOut,
                          nn_status want)
{
    float sentinel = -12345.0f, value = sentinel;
    float keep[MAXN];
    size_t n = dOut && dOut->data ? (size_t)dOut->rows * dOut->cols : 0;
    assert_true(n <= MAXN);
    for (size_t i = 0; i < n; i++)
        dOut->data[i] = keep[i] = 777.0f + (float)i;
    assert_int_equal(nn_loss_eval(loss, Out, Y, &value, dOut), want);
    assert_true(value == sentinel);
    for (size_t i = 0; i < n; i++)
        assert_true(dOut->data[i] == keep[i]);
}

static void test_ce_bad_labels(void **state)
{
    (void)state;
    float z[6] = {0}, g[6], y[2] = {0, 0};
    nn_mat Out = nn_mat_wrap(z, 2, 3), Y = nn_mat_wrap(y, 2, 1), dOut = nn_mat_wrap(g, 2, 3);
    const float bad[] = {3.0f, 1.5f, -1.0f, -0.5f, 1e9f};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        y[1] = bad[i];
        expect_status(NN_LOSS_CE, &Out, &Y, &dOut, NN_ERR_LABEL);
    }
    /* A value that is not a number at all is bad data, not a wrong label. */
    const float nonfinite[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
        y[1] = nonfinite[i];
        expect_status(NN_LOSS_CE, &Out, &Y, &dOut, NN_ERR_DATA);
    }
    float value;
    y[1] = 2.0f; /* the largest valid label */
    assert_int_equal(nn_loss_eval(NN_LOSS_CE, &Out, &Y, &value, &dOut), NN_OK);
}

static void test_bce_target_outside_unit_interval(void **state)
{
    (void)state;
    float z[2] = {0}, g[2], y[2] = {0, 1};
    nn_mat Out = nn_mat_wrap(z, 2, 1), Y = nn_mat_wrap(y, 2, 1), dOut = nn_mat_wrap(g, 2, 1);
    const float bad[] = {-0.1f, 1.0001f, 2.0f};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        y[1] = bad[i];
        expect_status(NN_LOSS_BCE, &Out, &Y, &dOut, NN_ERR_LABEL);
    }
    y[1] = NAN;
    expect_status(NN_LOSS_BCE, &Out, &Y, &dOut, NN_ERR_DATA);
}

static void test_bad_enum_and_null(void **state)
{
    (void)state;
    float z[4] = {0}, g[4], y[4] = {0}, value;
    nn_mat Out = nn_mat_wrap(z, 2, 2), Y = nn_mat_wrap(y, 2, 2), dOut = nn_mat_wrap(g, 2, 2);
    nn_mat empty = nn_mat_wrap(NULL, 2, 2), zero = nn_mat_wrap(y, 0, 2);
    expect_status(NN_LOSS_AUTO, &Out, &Y, &dOut, NN_ERR_INVALID_ARG);
    expect_status((nn_loss)4, &Out, &Y, &dOut, NN_ERR_INVALID_ARG);
    expect_status((nn_loss)-1, &Out, &Y, &dOut, NN_ERR_INVALID_ARG);
    expect_status(NN_LOSS_MSE, NULL, &Y, &dOut, NN_ERR_INVALID_ARG);
    expect_status(NN_LOSS_MSE, &Out, NULL, &dOut, NN_ERR_INVALID_ARG);
    expect_status(NN_LOSS_MSE, &empty, &Y, &dOut, NN_ERR_INVALID_ARG);
    expect_status(NN_LOSS_MSE, &Out, &zero, &dOut, NN_ERR_INVALID_ARG);
    assert_int_equal(nn_loss_eval(NN_LOSS_MSE, &Out, &Y, NULL, &dOut), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_loss_eval(NN_LOSS_MSE, &Out, &Y, &value, &empty), NN_ERR_INVALID_ARG);
}

static void test_shape_mismatch(void **state)
{
    (void)state;
    float z[6] = {0}, g[8], y[8] = {0};
    nn_mat Out = nn_mat_wrap(z, 2, 3);
    nn_mat Y23 = nn_mat_wrap(y, 2, 3), Y33 = nn_mat_wrap(y, 3, 3), Y24 = nn_mat_wrap(y, 2, 4);
    nn_mat Y22 = nn_mat_wrap(y, 2, 2), Y21 = nn_mat_wrap(y, 2, 1);
    nn_mat d23 = nn_mat_wrap(g, 2, 3), d32 = nn_mat_wrap(g, 3, 2), d24 = nn_mat_wrap(g, 2, 4);
    for (nn_loss l = NN_LOSS_MSE; l <= NN_LOSS_CE; l++) {
        expect_status(l, &Out, &Y33, &d23, NN_ERR_SHAPE); /* rows differ */
        expect_status(l, &Out, &Y24, &d23, NN_ERR_SHAPE); /* cols differ */
        expect_status(l, &Out, &Y22, &d23, NN_ERR_SHAPE);
        expect_status(l, &Out, &Y23, &d32, NN_ERR_SHAPE); /* dOut not (B, O) */
        expect_status(l, &Out, &Y23, &d24, NN_ERR_SHAPE);
    }
    /* (B, 1) targets are class indices for CE only. */
    expect_status(NN_LOSS_MSE, &Out, &Y21, &d23, NN_ERR_SHAPE);
    expect_status(NN_LOSS_BCE, &Out, &Y21, &d23, NN_ERR_SHAPE);
}

int main(void)
{
    const struct CMUnitTest by_hand[] = {
        cmocka_unit_test(test_mse_by_hand),
        cmocka_unit_test(test_bce_by_hand),
        cmocka_unit_test(test_ce_index_by_hand),
        cmocka_unit_test(test_ce_prob_by_hand),
        cmocka_unit_test(test_ce_huge_logits_by_hand),
        cmocka_unit_test(test_bce_huge_logits_by_hand),
    };
    const struct CMUnitTest reference[] = {
        cmocka_unit_test(test_matches_pytorch),
    };
    const struct CMUnitTest gradients[] = {
        cmocka_unit_test(test_mse_finite_differences),
        cmocka_unit_test(test_bce_finite_differences),
        cmocka_unit_test(test_ce_index_finite_differences),
        cmocka_unit_test(test_ce_prob_finite_differences),
    };
    const struct CMUnitTest errors[] = {
        cmocka_unit_test(test_ce_bad_labels),
        cmocka_unit_test(test_bce_target_outside_unit_interval),
        cmocka_unit_test(test_bad_enum_and_null),
        cmocka_unit_test(test_shape_mismatch),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("loss by hand", by_hand, NULL, NULL);
    failed += cmocka_run_group_tests_name("loss vs PyTorch", reference, NULL, NULL);
    failed += cmocka_run_group_tests_name("loss gradients", gradients, NULL, NULL);
    failed += cmocka_run_group_tests_name("loss errors", errors, NULL, NULL);
    return failed != 0;
}
