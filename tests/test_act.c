/* Tests for nn_act_forward / nn_act_backward: every activation's forward against values
 * worked by hand, its backward against central finite differences, saturation at extreme
 * inputs, in-place use, and the statuses of bad arguments.
 * Shape letters: B rows (samples), O columns (units). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "nn.h"

/* Forward tolerance: the inputs ln 2, ln 3 ... are rounded to float (relative error 6e-8)
 * and expf / tanhf are accurate to an ulp or two, so outputs of magnitude <= 3 are within a
 * few 1e-7 of exact; 1e-6 absolute is a margin of several ulps. */
#define FWD_TOL 1e-6

#define MAXN 64 /* the largest B·O any test here uses */

static void assert_close(double got, double want, double tol, const char *what, int i)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s[%d]: got %.9g, want %.9g (tol %.3g)", what, i, got, want, tol);
}

/* A = g(Z) for a (B, O) block and a check of every element against want. */
static void check_forward(nn_act act, float param, int B, int O, const float *z,
                          const float *want, const char *name)
{
    float zc[MAXN], a[MAXN];
    assert_true(B * O <= MAXN);
    memcpy(zc, z, sizeof(float) * (size_t)(B * O));
    nn_mat Z = nn_mat_wrap(zc, B, O), A = nn_mat_wrap(a, B, O);
    assert_int_equal(nn_act_forward(&A, &Z, act, param), NN_OK);
    for (int i = 0; i < B * O; i++)
        assert_close(a[i], want[i], FWD_TOL, name, i);
}

/* ------------------------------------------------------------- forward */

static void test_linear_forward(void **state)
{
    (void)state;
    const float z[] = {-3.5f, 0, 2.25f, 1e4f}, want[] = {-3.5f, 0, 2.25f, 1e4f};
    check_forward(NN_ACT_LINEAR, 0, 2, 2, z, want, "linear");
}

static void test_sigmoid_forward(void **state)
{
    (void)state;
    /* σ(ln k) = k / (k + 1): σ(0) = 1/2, σ(ln 3) = 3/4, σ(-ln 3) = 1/4, σ(ln 9) = 9/10. */
    const float z[] = {0, (float)log(3.0), (float)-log(3.0), (float)log(9.0)};
    const float want[] = {0.5f, 0.75f, 0.25f, 0.9f};
    check_forward(NN_ACT_SIGMOID, 0, 1, 4, z, want, "sigmoid");
}

static void test_tanh_forward(void **state)
{
    (void)state;
    /* tanh(ln k) = (k - 1/k) / (k + 1/k): tanh(ln 2) = 3/5, tanh(ln 3) = 4/5; odd. */
    const float z[] = {0, (float)log(2.0), (float)-log(2.0), (float)log(3.0)};
    const float want[] = {0, 0.6f, -0.6f, 0.8f};
    check_forward(NN_ACT_TANH, 0, 2, 2, z, want, "tanh");
}

static void test_relu_forward(void **state)
{
    (void)state;
    const float z[] = {-2, -0.5f, 0, 0.5f, 3, -1e4f};
    const float want[] = {0, 0, 0, 0.5f, 3, 0};
    check_forward(NN_ACT_RELU, 0, 2, 3, z, want, "relu");
}

static void test_leaky_relu_default_slope(void **state)
{
    (void)state;
    /* param 0 means slope 0.01. */
    const float z[] = {-2, -0.5f, 0, 0.5f, 3, -100};
    const float want[] = {-0.02f, -0.005f, 0, 0.5f, 3, -1};
    check_forward(NN_ACT_LEAKY_RELU, 0, 3, 2, z, want, "leaky default");
}

static void test_leaky_relu_custom_slope(void **state)
{
    (void)state;
    const float z[] = {-2, -0.5f, 0, 0.5f, 3, -100};
    const float want[] = {-0.4f, -0.1f, 0, 0.5f, 3, -20};
    check_forward(NN_ACT_LEAKY_RELU, 0.2f, 3, 2, z, want, "leaky 0.2");
}

static void test_elu_forward(void **state)
{
    (void)state;
    /* α(e^z - 1) for z <= 0: e^-1 - 1 = -0.63212056, 2(e^-2 - 1) = -1.72932943 with α = 2. */
    const float z[] = {-1, 0, 2.5f, -100};
    const float want_default[] = {-0.63212056f, 0, 2.5f, -1};
    const float want_two[] = {-1.26424112f, 0, 2.5f, -2};
    check_forward(NN_ACT_ELU, 0, 2, 2, z, want_default, "elu default");
    check_forward(NN_ACT_ELU, 2.0f, 2, 2, z, want_two, "elu 2");
}

static void test_gelu_forward(void **state)
{
    (void)state;
    /* z·Φ(z) with Φ(1) = 0.84134475, Φ(-1) = 0.15865525, Φ(2) = 0.97724987. */
    const float z[] = {1, -1, 2, 0, -10, 10};
    const float want[] = {0.84134475f, -0.15865525f, 1.95449974f, 0, 0, 10};
    check_forward(NN_ACT_GELU, 0, 3, 2, z, want, "gelu");
}

static void test_softmax_forward(void **state)
{
    (void)state;
    /* Row 0: e^z = [1, 2, 5] / 8. Row 1: softmax ignores a shift: [100, 100 + ln 3, 100 - 1e3]
     * → [1, 3, 0] / 4. Row 2: [1e4, -1e4, 1e4] → [1/2, 0, 1/2] (no e^1e4 overflow). */
    const float z[] = {0, (float)log(2.0), (float)log(5.0),
                       100, 100 + (float)log(3.0), -900,
                       1e4f, -1e4f, 1e4f};
    const float want[] = {0.125f, 0.25f, 0.625f, 0.25f, 0.75f, 0, 0.5f, 0, 0.5f};
    /* The rounding of 100 + ln 3 to float (ulp 7.6e-6) moves row 1 by up to 1.4e-6. */
    float zc[9], a[9];
    memcpy(zc, z, sizeof zc);
    nn_mat Z = nn_mat_wrap(zc, 3, 3), A = nn_mat_wrap(a, 3, 3);
    assert_int_equal(nn_act_forward(&A, &Z, NN_ACT_SOFTMAX, 0), NN_OK);
    for (int i = 0; i < 9; i++)
        assert_close(a[i], want[i], i >= 3 && i < 6 ? 4e-6 : FWD_TOL, "softmax", i);
}

/* ---------------------------------------------------------- saturation */

static void test_sigmoid_extreme_inputs(void **state)
{
    (void)state;
    /* σ(100) rounds to 1, σ(-100) = e^-100 / (1 + e^-100) ≈ 3.7e-44 (a subnormal), σ(±1e4)
     * to 1 and 0: no e^x overflow may turn any of them into NaN. */
    float z[] = {100, -100, 1e4f, -1e4f}, a[4], da[4] = {1, 1, 1, 1}, dz[4];
    nn_mat Z = nn_mat_wrap(z, 1, 4), A = nn_mat_wrap(a, 1, 4);
    nn_mat dA = nn_mat_wrap(da, 1, 4), dZ = nn_mat_wrap(dz, 1, 4);
    assert_int_equal(nn_act_forward(&A, &Z, NN_ACT_SIGMOID, 0), NN_OK);
    const double want[] = {1.0, exp(-100.0), 1.0, 0.0};
    for (int i = 0; i < 4; i++) {
        assert_true(isfinite(a[i]) && a[i] >= 0.0f && a[i] <= 1.0f);
        assert_close(a[i], want[i], 1e-7, "sigmoid extreme", i);
    }
    /* e^-100 is representable, if subnormal (26 steps of 2^-149): 5% relative, not 0. */
    assert_close(a[1], exp(-100.0), 0.05 * exp(-100.0), "sigmoid(-100)", 1);
    assert_int_equal(nn_act_backward(&dZ, &dA, &Z, &A, NN_ACT_SIGMOID, 0), NN_OK);
    for (int i = 0; i < 4; i++) /* σ' = σ(1 - σ) is ~0 out there */
        assert_close(dz[i], 0.0, 1e-7, "sigmoid' extreme", i);
}

static void test_softmax_huge_logits_sum_to_one(void **state)
{
    (void)state;
    /* Logits of ±1e4 (and values between) in every row: each row's probabilities must be
     * finite, in [0, 1] and sum to 1 within float rounding of O terms (O·2^-24 < 1e-6). */
    enum { B = 4, O = 8 };
    float z[B * O], a[B * O];
    for (int i = 0; i < B * O; i++)
        z[i] = (i * 7 % 5 == 0) ? 1e4f : (i % 3 == 0) ? -1e4f : (float)(i % 11) * 1e3f - 5e3f;
    nn_mat Z = nn_mat_wrap(z, B, O), A = nn_mat_wrap(a, B, O);
    assert_int_equal(nn_act_forward(&A, &Z, NN_ACT_SOFTMAX, 0), NN_OK);
    for (int r = 0; r < B; r++) {
        double sum = 0;
        for (int j = 0; j < O; j++) {
            float p = a[r * O + j];
            assert_true(isfinite(p) && p >= 0.0f && p <= 1.0f);
            sum += p;
        }
        assert_close(sum, 1.0, 1e-6, "softmax row sum", r);
    }
}

/* ------------------------------------------------------------ backward */

/* Deterministic pseudo-random values in [lo, hi): a 64-bit LCG, independent of the library. */
static void fill(float *x, int n, float lo, float hi, uint64_t *s)
{
    for (int i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = lo + (hi - lo) * (float)((*s >> 40) * (1.0 / 16777216.0));
    }
}

/* f(Z) = Σ dA·g(Z), summed in double from the library's own forward. */
static double dot_forward(nn_act act, float param, const nn_mat *Z, const float *da)
{
    float a[MAXN];
    nn_mat A = nn_mat_wrap(a, Z->rows, Z->cols);
    assert_int_equal(nn_act_forward(&A, Z, act, param), NN_OK);
    double f = 0;
    for (int i = 0; i < Z->rows * Z->cols; i++)
        f += (double)da[i] * a[i];
    return f;
}

/* nn_act_backward with a random upstream dA must equal the gradient of Σ dA·g(Z), taken by
 * central differences with h = 5e-3 (the denominator the float perturbation really made).
 * Errors: truncation h²/6·|g'''| <= 8.4e-6 (tanh''' <= 2, the worst here); rounding of the
 * float forward (ulp 1.2e-7 at |a| ~ 1) / 2h <= 1.2e-5. Tolerance 1e-4 + 1e-3·|fd|. ReLU
 * and leaky ReLU are kept 2e-2 away from the kink at 0, so z ± h never crosses it. */
static void check_backward_fd(nn_act act, float param, int B, int O, uint64_t seed)
{
    float z[MAXN], a[MAXN], da[MAXN], dz[MAXN];
    uint64_t s = seed;
    fill(z, B * O, -3, 3, &s);
    fill(da, B * O, -1, 1, &s);
    for (int i = 0; i < B * O; i++)
        if (fabsf(z[i]) < 2e-2f)
            z[i] = z[i] < 0 ? -0.5f : 0.5f;
    nn_mat Z = nn_mat_wrap(z, B, O), A = nn_mat_wrap(a, B, O);
    nn_mat dA = nn_mat_wrap(da, B, O), dZ = nn_mat_wrap(dz, B, O);
    assert_int_equal(nn_act_forward(&A, &Z, act, param), NN_OK);
    assert_int_equal(nn_act_backward(&dZ, &dA, &Z, &A, act, param), NN_OK);
    for (int i = 0; i < B * O; i++) {
        float keep = z[i], zp = keep + 5e-3f, zm = keep - 5e-3f;
        z[i] = zp;
        double fp = dot_forward(act, param, &Z, da);
        z[i] = zm;
        double fm = dot_forward(act, param, &Z, da);
        z[i] = keep;
        double fd = (fp - fm) / ((double)zp - zm);
        assert_close(dz[i], fd, 1e-4 + 1e-3 * fabs(fd), "backward vs fd", i);
    }
}

static void test_linear_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_LINEAR, 0, 3, 4, 11);
}

static void test_sigmoid_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_SIGMOID, 0, 3, 4, 12);
}

static void test_tanh_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_TANH, 0, 3, 4, 13);
}

static void test_relu_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_RELU, 0, 4, 5, 14);
}

static void test_leaky_relu_backward_default_slope(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_LEAKY_RELU, 0, 4, 5, 15);
}

static void test_leaky_relu_backward_custom_slope(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_LEAKY_RELU, 0.3f, 4, 5, 16);
}

static void test_elu_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_ELU, 0, 4, 5, 19);
    check_backward_fd(NN_ACT_ELU, 0.5f, 4, 5, 20);
}

static void test_gelu_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_GELU, 0, 4, 5, 21);
}

static void test_softmax_backward(void **state)
{
    (void)state;
    check_backward_fd(NN_ACT_SOFTMAX, 0, 4, 5, 17);
    check_backward_fd(NN_ACT_SOFTMAX, 0, 2, 1, 18); /* one column: softmax is constant 1 */
}

static void test_relu_gradient_zero_at_kink(void **state)
{
    (void)state;
    /* The manual: ReLU' = 0 at z = 0 (as PyTorch); leaky ReLU' = s there. */
    float z[] = {0, 0}, a[2], da[] = {2, 2}, dz[2];
    nn_mat Z = nn_mat_wrap(z, 1, 2), A = nn_mat_wrap(a, 1, 2);
    nn_mat dA = nn_mat_wrap(da, 1, 2), dZ = nn_mat_wrap(dz, 1, 2);
    assert_int_equal(nn_act_forward(&A, &Z, NN_ACT_RELU, 0), NN_OK);
    assert_int_equal(nn_act_backward(&dZ, &dA, &Z, &A, NN_ACT_RELU, 0), NN_OK);
    assert_true(dz[0] == 0.0f && dz[1] == 0.0f);
    assert_int_equal(nn_act_backward(&dZ, &dA, &Z, &A, NN_ACT_LEAKY_RELU, 0.25f), NN_OK);
    assert_close(dz[0], 0.5, 0, "leaky' at 0", 0);
}

/* ------------------------------------------------------------- in place */

/* Forward with A == Z and backward with dZ == dA must give bit-identical results to the
 * out-of-place calls: each element is the same float computation either way. */
static void check_in_place(nn_act act, float param)
{
    enum { B = 3, O = 5, N = B * O };
    float z[N], a[N], da[N], dz[N], buf[N], dbuf[N];
    uint64_t s = 99;
    fill(z, N, -3, 3, &s);
    fill(da, N, -1, 1, &s);
    nn_mat Z = nn_mat_wrap(z, B, O), A = nn_mat_wrap(a, B, O);
    nn_mat dA = nn_mat_wrap(da, B, O), dZ = nn_mat_wrap(dz, B, O);
    assert_int_equal(nn_act_forward(&A, &Z, act, param), NN_OK);
    assert_int_equal(nn_act_backward(&dZ, &dA, &Z, &A, act, param), NN_OK);

    memcpy(buf, z, sizeof buf);
    nn_mat In = nn_mat_wrap(buf, B, O);
    assert_int_equal(nn_act_forward(&In, &In, act, param), NN_OK);
    assert_memory_equal(buf, a, sizeof buf);

    memcpy(dbuf, da, sizeof dbuf);
    nn_mat dIn = nn_mat_wrap(dbuf, B, O);
    assert_int_equal(nn_act_backward(&dIn, &dIn, &Z, &A, act, param), NN_OK);
    assert_memory_equal(dbuf, dz, sizeof dbuf);
}

static void test_in_place_gives_same_result(void **state)
{
    (void)state;
    for (nn_act act = NN_ACT_LINEAR; act <= NN_ACT_SOFTMAX; act++)
        check_in_place(act, 0);
    check_in_place(NN_ACT_LEAKY_RELU, 0.2f);
}

/* ---------------------------------------------------------- bad input */

static void test_invalid_enum_and_param(void **state)
{
    (void)state;
    float z[4] = {1, 2, 3, 4}, a[4], keep[4] = {9, 9, 9, 9};
    nn_mat Z = nn_mat_wrap(z, 2, 2), A = nn_mat_wrap(a, 2, 2);
    const nn_act bad_act[] = {(nn_act)-1, (nn_act)99, (nn_act)1000};
    const float bad_param[] = {NAN, INFINITY, -INFINITY};
    memcpy(a, keep, sizeof a);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(nn_act_forward(&A, &Z, bad_act[i], 0), NN_ERR_INVALID_ARG);
        assert_int_equal(nn_act_backward(&A, &Z, &Z, &Z, bad_act[i], 0), NN_ERR_INVALID_ARG);
        assert_int_equal(nn_act_forward(&A, &Z, NN_ACT_LEAKY_RELU, bad_param[i]),
                         NN_ERR_INVALID_ARG);
        assert_int_equal(nn_act_backward(&A, &Z, &Z, &Z, NN_ACT_LEAKY_RELU, bad_param[i]),
                         NN_ERR_INVALID_ARG);
    }
    assert_memory_equal(a, keep, sizeof a); /* nothing written on failure */
}

static void test_invalid_matrices(void **state)
{
    (void)state;
    float z[4] = {1, 2, 3, 4}, a[4];
    nn_mat Z = nn_mat_wrap(z, 2, 2), A = nn_mat_wrap(a, 2, 2);
    nn_mat null_data = nn_mat_wrap(NULL, 2, 2), zero = nn_mat_wrap(a, 0, 2);
    nn_mat negative = nn_mat_wrap(a, 2, -2);
    assert_int_equal(nn_act_forward(NULL, &Z, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_forward(&A, NULL, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_forward(&null_data, &Z, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_forward(&zero, &Z, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_forward(&negative, &Z, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_backward(NULL, &Z, &Z, &A, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_backward(&A, NULL, &Z, &A, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_backward(&A, &Z, NULL, &A, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_backward(&A, &Z, &Z, NULL, NN_ACT_TANH, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_act_backward(&A, &Z, &null_data, &A, NN_ACT_TANH, 0),
                     NN_ERR_INVALID_ARG);
}

static void test_shape_mismatch(void **state)
{
    (void)state;
    float z[6] = {1, 2, 3, 4, 5, 6}, a[6], keep[6] = {7, 7, 7, 7, 7, 7};
    nn_mat Z = nn_mat_wrap(z, 2, 3), A32 = nn_mat_wrap(a, 3, 2), A23 = nn_mat_wrap(a, 2, 3);
    nn_mat A22 = nn_mat_wrap(a, 2, 2);
    memcpy(a, keep, sizeof a);
    assert_int_equal(nn_act_forward(&A32, &Z, NN_ACT_SIGMOID, 0), NN_ERR_SHAPE);
    assert_int_equal(nn_act_forward(&A22, &Z, NN_ACT_SOFTMAX, 0), NN_ERR_SHAPE);
    /* backward: dZ, dA, Z and A must all be (B, O). */
    assert_int_equal(nn_act_backward(&A32, &Z, &Z, &Z, NN_ACT_SIGMOID, 0), NN_ERR_SHAPE);
    assert_int_equal(nn_act_backward(&A23, &A32, &Z, &Z, NN_ACT_SIGMOID, 0), NN_ERR_SHAPE);
    assert_int_equal(nn_act_backward(&A23, &Z, &A32, &Z, NN_ACT_SIGMOID, 0), NN_ERR_SHAPE);
    assert_int_equal(nn_act_backward(&A23, &Z, &Z, &A22, NN_ACT_SIGMOID, 0), NN_ERR_SHAPE);
    assert_memory_equal(a, keep, sizeof a);
}

int main(void)
{
    const struct CMUnitTest forward[] = {
        cmocka_unit_test(test_linear_forward),
        cmocka_unit_test(test_sigmoid_forward),
        cmocka_unit_test(test_tanh_forward),
        cmocka_unit_test(test_relu_forward),
        cmocka_unit_test(test_leaky_relu_default_slope),
        cmocka_unit_test(test_leaky_relu_custom_slope),
        cmocka_unit_test(test_elu_forward),
        cmocka_unit_test(test_gelu_forward),
        cmocka_unit_test(test_softmax_forward),
        cmocka_unit_test(test_sigmoid_extreme_inputs),
        cmocka_unit_test(test_softmax_huge_logits_sum_to_one),
    };
    const struct CMUnitTest backward[] = {
        cmocka_unit_test(test_linear_backward),
        cmocka_unit_test(test_sigmoid_backward),
        cmocka_unit_test(test_tanh_backward),
        cmocka_unit_test(test_relu_backward),
        cmocka_unit_test(test_leaky_relu_backward_default_slope),
        cmocka_unit_test(test_leaky_relu_backward_custom_slope),
        cmocka_unit_test(test_elu_backward),
        cmocka_unit_test(test_gelu_backward),
        cmocka_unit_test(test_softmax_backward),
        cmocka_unit_test(test_relu_gradient_zero_at_kink),
    };
    const struct CMUnitTest usage[] = {
        cmocka_unit_test(test_in_place_gives_same_result),
        cmocka_unit_test(test_invalid_enum_and_param),
        cmocka_unit_test(test_invalid_matrices),
        cmocka_unit_test(test_shape_mismatch),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("activation forward", forward, NULL, NULL);
    failed += cmocka_run_group_tests_name("activation backward", backward, NULL, NULL);
    failed += cmocka_run_group_tests_name("activation usage", usage, NULL, NULL);
    return failed != 0;
}
