/* int8 quantization: the fixed-point multiply against 128-bit arithmetic, a one-layer model
 * worked out by hand, a two-layer model against the same quantization done in double
 * precision, percentile calibration against an outlier, accuracy after training, and the
 * refusals and allocation failures.
 * Shape letters: N rows, I inputs, O outputs. */
#include <math.h>

#include "net/quant.h"
#include "test_util.h"

__extension__ typedef __int128 i128; /* gcc and clang, on 64-bit targets */

/* round(x·m / 2^n) half up, as floor((x·m + 2^(n−1)) / 2^n) in signed 128-bit arithmetic. */
static int64_t qmul_oracle(int32_t x, int32_t m, int n)
{
    i128 p = (i128)x * m + ((i128)1 << (n - 1)), d = (i128)1 << n;
    i128 q = p / d;
    if (p % d != 0 && p < 0) /* C division truncates; floor goes one lower */
        q -= 1;
    return (int64_t)q;
}

static void test_qmul(void **state)
{
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    const int32_t edge[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN + 1, 1 << 30, -(1 << 30)};
    for (int i = 0; i < 200000; i++) {
        int32_t x = i < 81 ? edge[i % 9] : (int32_t)nn_rng_next(&rng) >> (nn_rng_next(&rng) % 31);
        int32_t m = i < 81 ? edge[i / 9] : (int32_t)(nn_rng_next(&rng) | 0x40000000u);
        if (m == INT32_MIN)
            m = INT32_MIN + 1;
        int n = 1 + (int)(nn_rng_next(&rng) % 62);
        nn__qmul k = {m, n};
        assert_int_equal(nn__qmul_apply(x, k), qmul_oracle(x, m, n));
    }
    /* halves round up: 3·1/2 = 1.5 → 2, −3/2 = −1.5 → −1 */
    assert_int_equal(nn__qmul_apply(3, (nn__qmul){1, 1}), 2);
    assert_int_equal(nn__qmul_apply(-3, (nn__qmul){1, 1}), -1);
}

/* One layer, W = [0.25, −1], b = 0.25, calibrated on x in [0, 2.55]:
 *   input: scale 2.55/255 = 0.01, zero point −128 (0 maps to −128);
 *   W's scale 1/127: codes round(0.25·127) = 32 and −127;
 *   bias: round(0.25 / (0.01/127)) = 3175, less zp·Σ codes = −128·(32 − 127): 3175 − 12160 = −8985;
 *   x = (1, 2): codes 100 − 128 = −28 and 200 − 128 = 72;
 *   acc = −8985 + 32·(−28) − 127·72 = −19025, output −19025·0.01/127 = −1.49803 (float: −1.5). */
static void test_by_hand(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 1, .act = NN_ACT_LINEAR};
    nn_model *m;
    assert_int_equal(nn_model_create(2, &spec, 1, NULL, &m), NN_OK);
    nn_layer_view v;
    assert_int_equal(nn_model_layer(m, 0, &v), NN_OK);
    v.W.data[0] = 0.25f, v.W.data[1] = -1.0f, v.b.data[0] = 0.25f;
    float calib[] = {0.0f, 0.0f, 2.55f, 2.55f, 1.0f, 0.5f};
    nn_mat C = nn_mat_wrap(calib, 3, 2);
    nn_quant *q;
    assert_int_equal(nn_quantize(m, &C, NULL, &q), NN_OK);
    const nn__qlayer *ql = &q->layers[0];
    assert_int_equal(ql->in_zero, -128);
    assert_float_equal(ql->in_scale, 0.01f, 1e-8f);
    assert_int_equal(ql->W[0], 32);
    assert_int_equal(ql->W[1], -127);
    assert_int_equal(ql->bias[0], -8985);
    float x[] = {1.0f, 2.0f}, y;
    nn_mat X = nn_mat_wrap(x, 1, 2), Y = nn_mat_wrap(&y, 1, 1);
    assert_int_equal(nn_quant_predict(q, &X, &Y), NN_OK);
    assert_float_equal(y, -19025.0 * 0.01 / 127.0, 1e-6f);
    nn_quant_destroy(q);
    nn_model_destroy(m);
}

/* The int8 codes of x in double precision. */
static double code(double x, double s, int zp)
{
    double v = nearbyint(x / s) + zp;
    return v < -128.0 ? -128.0 : v > 127.0 ? 127.0 : v;
}

/* A ReLU layer and a linear one, with q's own weights, biases and scales but the multiplier
 * as the double s_x·s_w/s_y rather than fixed point: the outputs agree (an exact tie, where
 * the two may round apart, is all but impossible). */
static void test_against_double(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {{.units = 16, .act = NN_ACT_RELU}, {.units = 3, .act = NN_ACT_LINEAR}};
    nn_model *m;
    nn_model_opts mo = {.seed = 2};
    assert_int_equal(nn_model_create(5, layers, 2, &mo, &m), NN_OK);
    nn_mat X, Y;
    assert_int_equal(nn_mat_alloc(&X, 300, 5), NN_OK);
    assert_int_equal(nn_mat_alloc(&Y, 300, 3), NN_OK);
    fill_uniform(&X, -1.0f, 1.0f, 3);
    nn_quant *q;
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_OK);
    assert_int_equal(nn_quant_predict(q, &X, &Y), NN_OK);
    const nn__qlayer *a = &q->layers[0], *b = &q->layers[1];
    int differ = 0;
    for (int r = 0; r < X.rows; r++) {
        double in[5], h[16];
        for (int i = 0; i < 5; i++)
            in[i] = code(X.data[r * 5 + i], a->in_scale, a->in_zero);
        for (int j = 0; j < 16; j++) {
            double acc = a->bias[j];
            for (int i = 0; i < 5; i++)
                acc += a->W[j * 5 + i] * in[i];
            double v = nearbyint(acc * a->in_scale * a->w_scale[j] / a->out_scale) + a->out_zero;
            v = v < a->out_zero ? a->out_zero : v; /* ReLU */
            h[j] = v > 127.0 ? 127.0 : v;
        }
        for (int j = 0; j < 3; j++) {
            double acc = b->bias[j];
            for (int i = 0; i < 16; i++)
                acc += b->W[j * 16 + i] * h[i];
            differ += fabs(acc * (double)b->deq[j] - Y.data[r * 3 + j]) > 1e-6;
        }
    }
    assert_int_equal(differ, 0);
    nn_quant_destroy(q);
    nn_mat_free(&X);
    nn_mat_free(&Y);
    nn_model_destroy(m);
}

/* One value of 1000 among values in [0, 1]: min-max spends the input's 256 codes on it,
 * the 99.9th percentile clips it. */
static void test_percentile(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 2, .act = NN_ACT_SOFTMAX};
    nn_model *m;
    assert_int_equal(nn_model_create(4, &spec, 1, NULL, &m), NN_OK);
    nn_mat X;
    assert_int_equal(nn_mat_alloc(&X, 1000, 4), NN_OK);
    fill_uniform(&X, 0.0f, 1.0f, 4);
    X.data[17] = 1000.0f;
    nn_quant *q;
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_OK);
    assert_float_equal(q->layers[0].in_scale, 1000.0f / 255, 1e-3f);
    nn_quant_destroy(q);
    nn_quant_opts o = {.calib = NN_CALIB_PERCENTILE, .percentile = 99.9f};
    assert_int_equal(nn_quantize(m, &X, &o, &q), NN_OK);
    assert_true(q->layers[0].in_scale < 1.05f / 255 && q->layers[0].in_scale > 0.9f / 255);
    nn_quant_destroy(q);
    nn_mat_free(&X);
    nn_model_destroy(m);
}

/* Three Gaussian classes in 8 dimensions, 8-32-32-3 (ReLU, tanh, softmax) trained a little:
 * int8 accuracy within 2 points of float on held-out rows, and the report adds up. */
static void test_accuracy(void **state)
{
    (void)state;
    enum { ROWS = 1500, D = 8 };
    nn_mat X, Y;
    assert_int_equal(nn_mat_alloc(&X, ROWS, D), NN_OK);
    assert_int_equal(nn_mat_alloc(&Y, ROWS, 1), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int r = 0; r < ROWS; r++) {
        int c = r % 3;
        Y.data[r] = (float)c;
        for (int i = 0; i < D; i++)
            X.data[r * D + i] = 1.2f * nn_rng_normal(&rng) + (i % 3 == c ? 1.5f : 0.0f);
    }
    nn_layer_spec layers[] = {{.units = 32, .act = NN_ACT_RELU}, {.units = 32, .act = NN_ACT_TANH},
                              {.units = 3, .act = NN_ACT_SOFTMAX}};
    nn_model *m;
    assert_int_equal(nn_model_create(D, layers, 3, NULL, &m), NN_OK);
    nn_mat Xt = nn_mat_wrap(X.data, 1000, D), Yt = nn_mat_wrap(Y.data, 1000, 1);
    nn_mat Xv = nn_mat_wrap(X.data + 1000 * D, 500, D), Yv = nn_mat_wrap(Y.data + 1000, 500, 1);
    nn_train_opts t = nn_train_defaults();
    t.epochs = 20, t.learning_rate = 0.05f;
    assert_int_equal(nn_train(m, &Xt, &Yt, &t), NN_OK);
    nn_quant *q;
    assert_int_equal(nn_quantize(m, &Xt, NULL, &q), NN_OK);
    nn_quant_report r;
    assert_int_equal(nn_quant_evaluate(m, q, &Xv, &Yv, &r), NN_OK);
    print_message("float %.3f int8 %.3f max diff %.4f mean %.5f, %zu -> %zu bytes\n",
                  r.float_accuracy, r.int8_accuracy, r.max_output_diff, r.mean_output_diff,
                  r.float_bytes, r.int8_bytes);
    double float_acc;
    assert_int_equal(nn_evaluate(m, &Xv, &Yv, NN_LOSS_AUTO, NULL, &float_acc), NN_OK);
    assert_true(r.float_accuracy == float_acc && float_acc > 0.8);
    assert_true(fabs(r.int8_accuracy - r.float_accuracy) <= 0.02);
    assert_true(r.max_output_diff >= r.mean_output_diff && r.mean_output_diff > 0.0);
    assert_true(r.max_output_diff < 0.2);
    assert_int_equal(r.float_bytes, 4 * (8 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3));
    /* W, bias, m and n per unit; the tanh layer's table; the output's dequantization scales */
    assert_int_equal(r.int8_bytes, (8 * 32 + 9 * 32) + (32 * 32 + 9 * 32 + 256) + (32 * 3 + 8 * 3));
    nn_quant_destroy(q);
    nn_mat_free(&X);
    nn_mat_free(&Y);
    nn_model_destroy(m);
}

/* The model's message holds every one of the facts (names and numbers). */
static void assert_says(const nn_model *m, const char *const *facts)
{
    const char *msg = nn_model_errmsg(m);
    for (; *facts; facts++)
        if (!strstr(msg, *facts))
            fail_msg("the message \"%s\" lacks \"%s\"", msg, *facts);
}
#define SAYS(m, ...) assert_says(m, (const char *const[]){__VA_ARGS__, NULL})

static void test_refusals(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {{.units = 4, .act = NN_ACT_SOFTMAX}, {.units = 2, .act = NN_ACT_SIGMOID}};
    nn_model *m;
    assert_int_equal(nn_model_create(3, layers, 2, NULL, &m), NN_OK);
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    nn_mat X = nn_mat_wrap(x, 2, 3), wide = nn_mat_wrap(x, 1, 6);
    nn_quant *q = NULL;
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_ERR_INVALID_ARG); /* hidden softmax */
    SAYS(m, "nn_quantize", "layer 0", "softmax", "last");
    assert_null(q);
    nn_model_destroy(m);
    layers[0].act = NN_ACT_RELU;
    assert_int_equal(nn_model_create(3, layers, 2, NULL, &m), NN_OK);
    assert_int_equal(nn_quantize(m, &wide, NULL, &q), NN_ERR_SHAPE);
    SAYS(m, "X_calib", "(1, 6)", "3 inputs");
    assert_int_equal(nn_quantize(m, &X, &(nn_quant_opts){.calib = 2}, &q), NN_ERR_INVALID_ARG);
    SAYS(m, "opts.calib", "2");
    assert_int_equal(nn_quantize(m, &X, &(nn_quant_opts){.percentile = 40.0f}, &q),
                     NN_ERR_INVALID_ARG);
    SAYS(m, "opts.percentile", "40", "[50, 100]");
    assert_int_equal(nn_quantize(NULL, &X, NULL, &q), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_quantize(m, &X, NULL, NULL), NN_ERR_INVALID_ARG);
    SAYS(m, "out is NULL");
    x[2] = NAN;
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_ERR_INVALID_ARG);
    SAYS(m, "X_calib", "not finite");
    x[2] = 0.3f;
    float *p;
    nn_model_params(m, &p, NULL);
    p[5] = INFINITY; /* W0(1, 2) */
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_ERR_INVALID_ARG);
    SAYS(m, "layer 0", "parameter 5", "inf");
    p[5] = 0.5f;
    assert_null(q);
    /* a report for a model of another shape */
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_OK);
    nn_layer_spec other[] = {{.units = 5, .act = NN_ACT_RELU}, {.units = 2, .act = NN_ACT_SIGMOID}};
    nn_model *m2;
    assert_int_equal(nn_model_create(3, other, 2, NULL, &m2), NN_OK);
    float y[4] = {0, 1, 1, 0};
    nn_mat Y = nn_mat_wrap(y, 2, 2);
    nn_quant_report r;
    assert_int_equal(nn_quant_evaluate(m2, q, &X, &Y, &r), NN_ERR_INVALID_ARG);
    SAYS(m2, "nn_quant_evaluate", "shape");
    assert_int_equal(nn_quant_evaluate(m, q, &X, &Y, &r), NN_OK);
    nn_mat out = nn_mat_wrap(y, 2, 1);
    assert_int_equal(nn_quant_predict(q, &X, &out), NN_ERR_SHAPE);
    nn_quant_destroy(q);
    nn_quant_destroy(NULL);
    nn_model_destroy(m2);
    nn_model_destroy(m);
}

/* Every allocation of nn_quantize (percentile calibration: ranges, histograms, the result)
 * failing in turn: NN_ERR_NOMEM, nothing leaked, and the model still quantizes after. */
static void test_alloc_failures(void **state)
{
    (void)state;
    counting_alloc c = {0};
    nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &c};
    nn_layer_spec layers[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m;
    assert_int_equal(nn_model_create(3, layers, 2, &mo, &m), NN_OK);
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    nn_mat X = nn_mat_wrap(x, 2, 3);
    float out[4];
    nn_mat P = nn_mat_wrap(out, 2, 2);
    assert_int_equal(nn_predict(m, &X, &P), NN_OK); /* the workspace, which the model keeps */
    long blocks = c.live_blocks;
    nn_quant_opts o = {.calib = NN_CALIB_PERCENTILE};
    int failures = 0;
    for (long k = 1;; k++) {
        nn_quant *q = NULL;
        c.calls = 0;
        c.fail_at = k;
        nn_status s = nn_quantize(m, &X, &o, &q);
        if (s == NN_OK) {
            nn_quant_destroy(q);
            break;
        }
        assert_int_equal(s, NN_ERR_NOMEM);
        assert_int_equal(c.live_blocks, blocks);
        failures++;
    }
    assert_int_equal(failures, 3);
    nn_model_destroy(m);
    assert_int_equal(c.live_blocks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qmul),
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_against_double),
        cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("quant", tests, NULL, NULL);
}
