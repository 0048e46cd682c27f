/* Metrics against values computed by hand: the confusion matrix from scores, indices and
 * one-hot rows; accuracy, precision, recall and F1 from it; MSE and R². */
#include <math.h>

#include "test_util.h"

/* Eight samples of three classes. Scores per row, the argmax marked:
 *   true 0: (.7* .2 .1) (.1 .8* .1) (.6* .3 .1)    → predicted 0, 1, 0
 *   true 1: (.2 .5* .3) (.1 .1 .8*) (.3 .6* .1) (.2 .7* .1) → 1, 2, 1, 1
 *   true 2: (.5* .4 .1)                               → 0 */
static float scores[] = {.7f, .2f, .1f, .1f, .8f, .1f, .6f, .3f, .1f, .2f, .5f, .3f,
                         .1f, .1f, .8f, .3f, .6f, .1f, .2f, .7f, .1f, .5f, .4f, .1f};
static float truth[] = {0, 0, 0, 1, 1, 1, 1, 2};
static const int64_t want_counts[9] = {2, 1, 0, /* true 0 */
                                       0, 3, 1, /* true 1 */
                                       1, 0, 0 /* true 2 */};

static void test_confusion_from_indices_and_one_hot(void **state)
{
    (void)state;
    nn_mat Out = nn_mat_wrap(scores, 8, 3), Y = nn_mat_wrap(truth, 8, 1);
    int64_t counts[9];
    memset(counts, 0xff, sizeof counts); /* garbage: the matrix is written, not added to */
    assert_int_equal(nn_confusion(&Out, &Y, counts), NN_OK);
    assert_memory_equal(counts, want_counts, sizeof counts);

    float onehot[24];
    nn_mat H = nn_mat_wrap(onehot, 8, 3);
    assert_int_equal(nn_one_hot(&Y, &H), NN_OK);
    assert_int_equal(nn_confusion(&Out, &H, counts), NN_OK);
    assert_memory_equal(counts, want_counts, sizeof counts);
}

/* A sigmoid output column is two classes, split at 0.5. */
static void test_confusion_sigmoid(void **state)
{
    (void)state;
    float p[] = {0.9f, 0.2f, 0.6f, 0.4f, 0.5f}, y[] = {1, 0, 0, 1, 1};
    nn_mat P = nn_mat_wrap(p, 5, 1), Y = nn_mat_wrap(y, 5, 1);
    int64_t counts[4];
    assert_int_equal(nn_confusion(&P, &Y, counts), NN_OK);
    /* true 0: 0.2 → 0, 0.6 → 1; true 1: 0.9 → 1, 0.4 → 0, 0.5 → 0 (not above 0.5) */
    const int64_t want[] = {1, 1, 2, 1};
    assert_memory_equal(counts, want, sizeof want);
}

static void test_confusion_errors(void **state)
{
    (void)state;
    int64_t counts[9] = {5, 5, 5, 5, 5, 5, 5, 5, 5};
    nn_mat Out = nn_mat_wrap(scores, 8, 3), Short = nn_mat_wrap(truth, 7, 1);
    float bad[8];
    memcpy(bad, truth, sizeof bad);
    nn_mat Y = nn_mat_wrap(bad, 8, 1), Y2 = nn_mat_wrap(bad, 4, 2);
    const float labels[] = {3, -1, 0.5f, NAN};
    for (int i = 0; i < 4; i++) {
        bad[7] = labels[i];
        assert_int_equal(nn_confusion(&Out, &Y, counts), NN_ERR_LABEL);
    }
    for (int i = 0; i < 9; i++)
        assert_int_equal(counts[i], 5); /* untouched */
    assert_int_equal(nn_confusion(&Out, &Short, counts), NN_ERR_SHAPE);
    assert_int_equal(nn_confusion(&Out, &Y2, counts), NN_ERR_SHAPE);
    assert_int_equal(nn_confusion(&Out, &Y, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_confusion(NULL, &Y, counts), NN_ERR_INVALID_ARG);
}

static void test_class_metrics(void **state)
{
    (void)state;
    double acc = 0;
    nn_class_score s[3];
    assert_int_equal(nn_class_metrics(want_counts, 3, &acc, s), NN_OK);
    assert_float_equal(acc, 5.0 / 8, 1e-12);
    /* Class 0: TP 2 of 3 true, of 3 predicted. Class 1: 3 of 4, of 4. Class 2: 0 of 1. */
    assert_float_equal(s[0].precision, 2.0 / 3, 1e-12);
    assert_float_equal(s[0].recall, 2.0 / 3, 1e-12);
    assert_float_equal(s[0].f1, 2.0 / 3, 1e-12);
    assert_float_equal(s[1].precision, 0.75, 1e-12);
    assert_float_equal(s[1].recall, 0.75, 1e-12);
    assert_float_equal(s[2].precision, 0, 0);
    assert_float_equal(s[2].recall, 0, 0);
    assert_float_equal(s[2].f1, 0, 0);
    assert_int_equal(s[0].support, 3);
    assert_int_equal(s[1].support, 4);
    assert_int_equal(s[2].support, 1);

    /* Precision 1/2, recall 1/3: F1 = 2·(1/6)/(5/6) = 0.4. A class never predicted and never
     * present scores 0 everywhere rather than dividing by zero. */
    const int64_t c[9] = {1, 2, 0, 1, 4, 0, 0, 0, 0};
    assert_int_equal(nn_class_metrics(c, 3, NULL, s), NN_OK);
    assert_float_equal(s[0].precision, 0.5, 1e-12);
    assert_float_equal(s[0].recall, 1.0 / 3, 1e-12);
    assert_float_equal(s[0].f1, 0.4, 1e-12);
    assert_true(s[2].precision == 0 && s[2].recall == 0 && s[2].f1 == 0 && s[2].support == 0);
    assert_int_equal(nn_class_metrics(c, 3, &acc, NULL), NN_OK);
    assert_float_equal(acc, 5.0 / 8, 1e-12);
}

static void test_class_metrics_errors(void **state)
{
    (void)state;
    const int64_t zeros[4] = {0}, negative[4] = {1, -1, 0, 2};
    const int64_t huge[4] = {INT64_MAX, 1, 0, 0};
    double acc = -1;
    assert_int_equal(nn_class_metrics(zeros, 2, &acc, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_class_metrics(negative, 2, &acc, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_class_metrics(huge, 2, &acc, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_class_metrics(NULL, 2, &acc, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_class_metrics(zeros, 0, &acc, NULL), NN_ERR_INVALID_ARG);
    assert_float_equal(acc, -1, 0);
}

static void test_regression(void **state)
{
    (void)state;
    /* Column 0: predictions 1 2 3 for targets 1 2 4: residual 1, mean 7/3,
     * Σ(y - ȳ)² = 16/9 + 1/9 + 25/9 = 14/3, R² = 1 - 3/14 = 11/14.
     * Column 1: exact predictions, R² = 1. MSE over all 6 elements: 1/6. */
    float out[] = {1, 5, 2, 6, 3, 7}, y[] = {1, 5, 2, 6, 4, 7};
    nn_mat O = nn_mat_wrap(out, 3, 2), Y = nn_mat_wrap(y, 3, 2);
    double mse = 0, r2 = 0;
    assert_int_equal(nn_regression_metrics(&O, &Y, &mse, &r2), NN_OK);
    assert_float_equal(mse, 1.0 / 6, 1e-12);
    assert_float_equal(r2, (11.0 / 14 + 1.0) / 2, 1e-12);

    /* Predicting the mean scores 0; worse than the mean scores below 0. */
    float mean_out[] = {3, 3, 3}, t[] = {1, 3, 5}, worse[] = {5, 3, 1};
    nn_mat M = nn_mat_wrap(mean_out, 3, 1), T = nn_mat_wrap(t, 3, 1), W = nn_mat_wrap(worse, 3, 1);
    assert_int_equal(nn_regression_metrics(&M, &T, &mse, &r2), NN_OK);
    assert_float_equal(r2, 0, 1e-12);
    assert_float_equal(mse, 8.0 / 3, 1e-12);
    assert_int_equal(nn_regression_metrics(&W, &T, NULL, &r2), NN_OK);
    assert_float_equal(r2, -3, 1e-12); /* residual 16 + 0 + 16 over spread 8 */

    /* A constant target: 1 if predicted exactly, else 0 (no division by zero). */
    float c[] = {2, 2}, exact[] = {2, 2}, off[] = {2, 3};
    nn_mat C = nn_mat_wrap(c, 2, 1), E = nn_mat_wrap(exact, 2, 1), F = nn_mat_wrap(off, 2, 1);
    assert_int_equal(nn_regression_metrics(&E, &C, NULL, &r2), NN_OK);
    assert_float_equal(r2, 1, 0);
    assert_int_equal(nn_regression_metrics(&F, &C, &mse, &r2), NN_OK);
    assert_float_equal(r2, 0, 0);
    assert_float_equal(mse, 0.5, 1e-12);

    assert_int_equal(nn_regression_metrics(&O, &T, &mse, &r2), NN_ERR_SHAPE);
    assert_int_equal(nn_regression_metrics(NULL, &T, &mse, &r2), NN_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest classification[] = {
        cmocka_unit_test(test_confusion_from_indices_and_one_hot),
        cmocka_unit_test(test_confusion_sigmoid),
        cmocka_unit_test(test_confusion_errors),
        cmocka_unit_test(test_class_metrics),
        cmocka_unit_test(test_class_metrics_errors),
    };
    const struct CMUnitTest regression[] = {
        cmocka_unit_test(test_regression),
    };
    int failed = cmocka_run_group_tests_name("classification", classification, NULL, NULL);
    failed += cmocka_run_group_tests_name("regression", regression, NULL, NULL);
    return failed;
}
