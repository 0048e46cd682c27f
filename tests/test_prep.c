/* Preparation: min-max and z-score scaling against hand-computed statistics, the same
 * transform applied to new data, one-hot rows, and the seeded split (rows stay paired, the
 * parts are a permutation of the whole, the seed alone decides it). */
#include <math.h>

#include "test_util.h"

/* Columns: 1 2 3 4 | 10 10 10 10 (constant) | -2 0 2 8 */
static float data4x3[] = {1, 10, -2, 2, 10, 0, 3, 10, 2, 4, 10, 8};

static void test_minmax(void **state)
{
    (void)state;
    float x[12], s[6];
    memcpy(x, data4x3, sizeof x);
    nn_mat X = nn_mat_wrap(x, 4, 3), S = nn_mat_wrap(s, 2, 3);
    assert_int_equal(nn_scale_fit(&X, NN_SCALE_MINMAX, &S), NN_OK);
    /* shift = min, factor = 1/(max - min); a constant column gets factor 1. */
    const float want[] = {1, 10, -2, 1.0f / 3, 1, 0.1f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(s[i], want[i], 1e-7);
    assert_int_equal(nn_scale_apply(&S, &X), NN_OK);
    const float scaled[] = {0, 0, 0, 1.0f / 3, 0, 0.2f, 2.0f / 3, 0, 0.4f, 1, 0, 1};
    for (int i = 0; i < 12; i++)
        assert_float_equal(x[i], scaled[i], 1e-6);
    /* New data goes through the training data's transform, so it may leave [0, 1]. */
    float t[] = {5, 10, -7};
    nn_mat T = nn_mat_wrap(t, 1, 3);
    assert_int_equal(nn_scale_apply(&S, &T), NN_OK);
    assert_float_equal(t[0], 4.0f / 3, 1e-6);
    assert_float_equal(t[1], 0, 0);
    assert_float_equal(t[2], -0.5f, 1e-6);
}

static void test_zscore(void **state)
{
    (void)state;
    float x[12], s[6];
    memcpy(x, data4x3, sizeof x);
    nn_mat X = nn_mat_wrap(x, 4, 3), S = nn_mat_wrap(s, 2, 3);
    assert_int_equal(nn_scale_fit(&X, NN_SCALE_ZSCORE, &S), NN_OK);
    /* Column 0: mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25.
     * Column 2: mean 2, variance (16 + 4 + 0 + 36)/4 = 14. */
    assert_float_equal(s[0], 2.5f, 1e-7);
    assert_float_equal(s[3], 1.0 / sqrt(1.25), 1e-6);
    assert_float_equal(s[1], 10, 0);
    assert_float_equal(s[4], 1, 0);
    assert_float_equal(s[2], 2, 1e-7);
    assert_float_equal(s[5], 1.0 / sqrt(14.0), 1e-6);
    assert_int_equal(nn_scale_apply(&S, &X), NN_OK);
    for (int c = 0; c < 3; c += 2) { /* mean 0 and variance 1 after */
        double mean = 0, var = 0;
        for (int r = 0; r < 4; r++)
            mean += x[r * 3 + c] / 4.0;
        for (int r = 0; r < 4; r++)
            var += (x[r * 3 + c] - mean) * (x[r * 3 + c] - mean) / 4.0;
        assert_float_equal(mean, 0, 1e-6);
        assert_float_equal(var, 1, 1e-5);
    }
    for (int r = 0; r < 4; r++)
        assert_float_equal(x[r * 3 + 1], 0, 0);
}

/* A large offset with a small spread: a one-pass E[x²] - E[x]² in float would lose it all. */
static void test_zscore_offset(void **state)
{
    (void)state;
    enum { N = 1000 };
    static float x[N];
    for (int i = 0; i < N; i++)
        x[i] = 10000.0f + (i % 2 ? 0.5f : -0.5f);
    float s[2];
    nn_mat X = nn_mat_wrap(x, N, 1), S = nn_mat_wrap(s, 2, 1);
    assert_int_equal(nn_scale_fit(&X, NN_SCALE_ZSCORE, &S), NN_OK);
    assert_float_equal(s[0], 10000.0f, 1e-3);
    assert_float_equal(s[1], 2.0f, 1e-5); /* σ = 0.5 */
}

static void test_scale_errors(void **state)
{
    (void)state;
    float x[4] = {1, 2, NAN, 4}, s[4] = {9, 9, 9, 9};
    nn_mat X = nn_mat_wrap(x, 2, 2), S = nn_mat_wrap(s, 2, 2), S3 = nn_mat_wrap(s, 1, 3);
    assert_int_equal(nn_scale_fit(&X, NN_SCALE_ZSCORE, &S), NN_ERR_INVALID_ARG);
    x[2] = INFINITY;
    assert_int_equal(nn_scale_fit(&X, NN_SCALE_MINMAX, &S), NN_ERR_INVALID_ARG);
    for (int i = 0; i < 4; i++)
        assert_float_equal(s[i], 9, 0); /* untouched */
    x[2] = 3;
    assert_int_equal(nn_scale_fit(&X, (nn_scale)7, &S), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_scale_fit(&X, NN_SCALE_MINMAX, &S3), NN_ERR_SHAPE);
    assert_int_equal(nn_scale_fit(NULL, NN_SCALE_MINMAX, &S), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_scale_apply(&S3, &X), NN_ERR_SHAPE);
    assert_int_equal(nn_scale_apply(&S, NULL), NN_ERR_INVALID_ARG);
}

static void test_one_hot(void **state)
{
    (void)state;
    float labels[] = {2, 0, 1, 2}, out[12];
    nn_mat L = nn_mat_wrap(labels, 4, 1), O = nn_mat_wrap(out, 4, 3);
    memset(out, 0x7f, sizeof out); /* garbage: everything must be written */
    assert_int_equal(nn_one_hot(&L, &O), NN_OK);
    const float want[] = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    assert_memory_equal(out, want, sizeof want);

    const float bad[] = {3, -1, 1.5f, NAN, INFINITY};
    for (int i = 0; i < 5; i++) {
        float copy[12];
        memcpy(copy, out, sizeof copy);
        labels[1] = bad[i];
        assert_int_equal(nn_one_hot(&L, &O), NN_ERR_LABEL);
        assert_memory_equal(copy, out, sizeof copy); /* untouched */
    }
    nn_mat Wide = nn_mat_wrap(labels, 2, 2), Short = nn_mat_wrap(out, 3, 3);
    assert_int_equal(nn_one_hot(&Wide, &O), NN_ERR_SHAPE);
    assert_int_equal(nn_one_hot(&L, &Short), NN_ERR_SHAPE);
    assert_int_equal(nn_one_hot(NULL, &O), NN_ERR_INVALID_ARG);
    nn_mat Same = nn_mat_wrap(labels, 4, 1); /* out on top of the labels */
    assert_int_equal(nn_one_hot(&L, &Same), NN_ERR_INVALID_ARG);
}

/* X row i is (i, 100 + i), Y row i is (i): after the split every row is still a pair. */
static void make_rows(float *x, float *y, int n)
{
    for (int i = 0; i < n; i++) {
        x[2 * i] = (float)i;
        x[2 * i + 1] = 100.0f + i;
        y[i] = (float)i;
    }
}

static void test_split(void **state)
{
    (void)state;
    enum { N = 50 };
    float x[2 * N], y[N];
    make_rows(x, y, N);
    nn_mat X = nn_mat_wrap(x, N, 2), Y = nn_mat_wrap(y, N, 1);
    nn_split s;
    assert_int_equal(nn_split_rows(&X, &Y, 0.3, 42, &s), NN_OK);
    assert_int_equal(s.X_train.rows, 35);
    assert_int_equal(s.X_val.rows, 15);
    assert_true(s.X_train.data == x && s.X_val.data == x + 2 * 35);
    assert_true(s.Y_train.data == y && s.Y_val.data == y + 35);
    assert_int_equal(s.Y_val.cols, 1);
    int seen[N] = {0}, moved = 0;
    for (int i = 0; i < N; i++) {
        int id = (int)y[i];
        assert_true(x[2 * i] == id && x[2 * i + 1] == 100.0f + id);
        seen[id]++;
        moved += id != i;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1); /* a permutation */
    assert_true(moved > N / 2);     /* and a real shuffle */

    /* The seed alone decides the permutation. */
    float x2[2 * N], y2[N];
    make_rows(x2, y2, N);
    nn_mat X2 = nn_mat_wrap(x2, N, 2), Y2 = nn_mat_wrap(y2, N, 1);
    assert_int_equal(nn_split_rows(&X2, &Y2, 0.3, 42, &s), NN_OK);
    assert_memory_equal(y, y2, sizeof y);
    make_rows(x2, y2, N);
    assert_int_equal(nn_split_rows(&X2, &Y2, 0.3, 43, &s), NN_OK);
    assert_memory_not_equal(y, y2, sizeof y);
    /* Without Y the same seed moves X the same way. */
    make_rows(x2, y2, N);
    assert_int_equal(nn_split_rows(&X2, NULL, 0.3, 42, &s), NN_OK);
    assert_memory_equal(x, x2, sizeof x);
    assert_null(s.Y_train.data);
    assert_int_equal(s.Y_val.rows, 0);
}

static void test_split_errors(void **state)
{
    (void)state;
    float x[8], y[4];
    make_rows(x, y, 4);
    nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1), Y3 = nn_mat_wrap(y, 3, 1);
    nn_split s;
    const double bad[] = {0.0, 1.0, -0.1, 1.5, NAN, 0.1 /* 0.4 rows: none */, 0.9 /* 3.6 → 4 */};
    for (int i = 0; i < 7; i++)
        assert_int_equal(nn_split_rows(&X, &Y, bad[i], 1, &s), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_split_rows(&X, &Y3, 0.5, 1, &s), NN_ERR_SHAPE);
    assert_int_equal(nn_split_rows(&X, &X, 0.5, 1, &s), NN_ERR_INVALID_ARG);
    nn_mat Inside = nn_mat_wrap(x + 4, 4, 1); /* Y inside X's storage */
    assert_int_equal(nn_split_rows(&X, &Inside, 0.5, 1, &s), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_split_rows(&X, &Y, 0.5, 1, NULL), NN_ERR_INVALID_ARG);
    for (int i = 0; i < 4; i++)
        assert_true(y[i] == i && x[2 * i] == i); /* nothing moved */
    assert_int_equal(nn_split_rows(&X, &Y, 0.25, 1, &s), NN_OK); /* exactly one row each way */
    assert_int_equal(s.X_val.rows, 1);
}

int main(void)
{
    const struct CMUnitTest scaling[] = {
        cmocka_unit_test(test_minmax),
        cmocka_unit_test(test_zscore),
        cmocka_unit_test(test_zscore_offset),
        cmocka_unit_test(test_scale_errors),
    };
    const struct CMUnitTest targets[] = {
        cmocka_unit_test(test_one_hot),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_errors),
    };
    int failed = cmocka_run_group_tests_name("scaling", scaling, NULL, NULL);
    failed += cmocka_run_group_tests_name("one-hot and split", targets, NULL, NULL);
    return failed;
}
