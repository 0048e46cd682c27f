/* libnn's own exponential family (src/kernels/fastmath.h) against the C library's double-precision
 * functions as the oracle: the largest error in float ulps over dense grids of inputs,
 * subnormal results, the clamped ends, and NaN in giving NaN out. */
#include <float.h>
#include <math.h>

#include "kernels/fastmath.h"
#include "test_util.h"

/* |got - want| in units of the float spacing at want (the smallest subnormal at least). */
static double ulps(float got, double want)
{
    float w = (float)want;
    double spacing = (double)nextafterf(fabsf(w), INFINITY) - fabsf(w);
    if (spacing < 0x1p-149)
        spacing = 0x1p-149;
    return fabs((double)got - want) / spacing;
}

typedef struct worst {
    double ulps;
    float at;
} worst;

static void note(worst *w, float x, float got, double want)
{
    double u = ulps(got, want);
    if (!(u <= w->ulps)) { /* NaN counts as the worst */
        w->ulps = isnan(u) ? INFINITY : u;
        w->at = x;
    }
}

static void expect_within(const worst *w, double limit, const char *name)
{
    if (!(w->ulps <= limit))
        fail_msg("%s: %.2f ulp at x = %.9g (limit %.1f)", name, w->ulps, w->at, limit);
}

/* Steps through [lo, hi] in relative steps of 1e-4 (absolute 1e-4 near 0): about 4e5 points
 * over the range of each test, both signs, every binade. */
#define FOR_GRID(x, lo, hi)                                                                 \
    for (float x = (lo); x <= (hi); x += 1e-4f * (fabsf(x) > 1.0f ? fabsf(x) : 1.0f))

static void test_exp(void **state)
{
    (void)state;
    worst w = {0};
    FOR_GRID(x, -104.0f, 88.0f) /* subnormal results below -87.3 included */
        note(&w, x, nn__exp(x), exp((double)x));
    expect_within(&w, 1.5, "exp");
    assert_true(nn__exp(-104.5f) == 0.0f && nn__exp(-1e30f) == 0.0f);
    assert_true(nn__exp(0.0f) == 1.0f);
    assert_true(isfinite(nn__exp(1e30f)) && nn__exp(1e30f) == nn__exp(88.0f));
}

static void test_expm1(void **state)
{
    (void)state;
    worst w = {0};
    FOR_GRID(x, -90.0f, 88.0f)
        note(&w, x, nn__expm1(x), expm1((double)x));
    for (float x = 1e-30f; x < 1e-3f; x *= 1.01f) { /* tiny |x|: e^x - 1 must not cancel */
        note(&w, x, nn__expm1(x), expm1((double)x));
        note(&w, -x, nn__expm1(-x), expm1(-(double)x));
    }
    expect_within(&w, 2.5, "expm1");
    assert_true(nn__expm1(-1e30f) == -1.0f && nn__expm1(0.0f) == 0.0f);
}

static void test_tanh(void **state)
{
    (void)state;
    worst w = {0};
    FOR_GRID(x, -30.0f, 30.0f)
        note(&w, x, nn__tanh(x), tanh((double)x));
    for (float x = 1e-30f; x < 1e-3f; x *= 1.01f) {
        note(&w, x, nn__tanh(x), tanh((double)x));
        note(&w, -x, nn__tanh(-x), tanh(-(double)x));
    }
    expect_within(&w, 3.5, "tanh");
    assert_true(nn__tanh(1e30f) == 1.0f && nn__tanh(-1e30f) == -1.0f);
    assert_true(nn__tanh(0.0f) == 0.0f && signbit(nn__tanh(-0.0f)));
}

static void test_sigmoid(void **state)
{
    (void)state;
    worst w = {0};
    FOR_GRID(x, -103.0f, 30.0f) /* σ(x) is subnormal below about -87.3 */
        note(&w, x, nn__sigmoid_inline(x), 1.0 / (1.0 + exp(-(double)x)));
    expect_within(&w, 3.5, "sigmoid");
    assert_true(nn__sigmoid_inline(1e30f) == 1.0f && nn__sigmoid_inline(-1e30f) == 0.0f);
    assert_true(nn__sigmoid_inline(0.0f) == 0.5f);
}

static void test_log1p_unit(void **state)
{
    (void)state;
    worst w = {0};
    note(&w, 0x1p-149f, nn__log1p_unit(0x1p-149f), log1p(0x1p-149));
    for (float t = 1e-37f; t < 1e-3f; t *= 1.001f) /* a relative step needs normal floats */
        note(&w, t, nn__log1p_unit(t), log1p((double)t));
    for (float t = 1e-3f; t <= 1.0f; t += 1e-6f)
        note(&w, t, nn__log1p_unit(t), log1p((double)t));
    note(&w, 1.0f, nn__log1p_unit(1.0f), log1p(1.0));
    expect_within(&w, 3.5, "log1p");
    assert_true(nn__log1p_unit(0.0f) == 0.0f);
}

/* Divergence is detected from NaN losses and gradients: NaN must survive every function. */
static void test_nan_in_nan_out(void **state)
{
    (void)state;
    float nan = NAN;
    assert_true(isnan(nn__exp(nan)));
    assert_true(isnan(nn__expm1(nan)));
    assert_true(isnan(nn__tanh(nan)));
    assert_true(isnan(nn__sigmoid_inline(nan)));
    assert_true(isnan(nn__log1p_unit(nan)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp),     cmocka_unit_test(test_expm1),
        cmocka_unit_test(test_tanh),    cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_log1p_unit), cmocka_unit_test(test_nan_in_nan_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
