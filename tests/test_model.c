/* The model: construction, parameter layout, forward against plain loops, backward against
 * finite differences for every activation × loss pairing, SGD arithmetic, bad input, and
 * allocation failures. */
#include <math.h>

#include "nn_internal.h" /* to read the pre-activations Z the model keeps */
#include "test_util.h"

static const nn_act hidden_acts[] = {NN_ACT_LINEAR, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
                                     NN_ACT_LEAKY_RELU, NN_ACT_ELU, NN_ACT_GELU,
                                     NN_ACT_PRELU, NN_ACT_PRELU_UNITS};
enum { N_HIDDEN_ACTS = sizeof hidden_acts / sizeof hidden_acts[0] };

static nn_model *make_model(int n_in, const nn_layer_spec *specs, int n, uint64_t seed)
{
    nn_model_opts opts = {.seed = seed};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(n_in, specs, n, &opts, &m), NN_OK);
    assert_non_null(m);
    return m;
}

/* ------------------------------------------------------------ construction */

static void test_create_rejects_bad_specs(void **state)
{
    (void)state;
    nn_layer_spec ok[] = {{.units = 3, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    nn_model *sentinel = (nn_model *)&sentinel, *m = sentinel;
    assert_int_equal(nn_model_create(0, ok, 2, NULL, &m), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_create(-2, ok, 2, NULL, &m), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_create(2, NULL, 2, NULL, &m), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_create(2, ok, 0, NULL, &m), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_create(2, ok, 2, NULL, NULL), NN_ERR_INVALID_ARG);
    nn_layer_spec bad[][1] = {{{.units = 0}},
                              {{.units = -1}},
                              {{.units = 2, .act = (nn_act)99}},
                              {{.units = 2, .act = (nn_act)-1}},
                              {{.units = 2, .init = (nn_init)42}},
                              {{.units = 2, .act = NN_ACT_LEAKY_RELU, .act_param = NAN}},
                              {{.units = 2, .init = NN_INIT_NORMAL, .init_param = -1.0f}},
                              {{.units = 2, .init = NN_INIT_NORMAL, .init_param = INFINITY}}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nn_model_create(2, bad[i], 1, NULL, &m), NN_ERR_INVALID_ARG);
    /* Sizes whose parameter count cannot be addressed are refused, not wrapped around. */
    nn_layer_spec huge[] = {{.units = 1 << 30}, {.units = 1 << 30}};
    assert_int_equal(nn_model_create(1 << 30, huge, 2, NULL, &m), NN_ERR_INVALID_ARG);
    assert_ptr_equal(m, sentinel); /* never written on failure */
    nn_model_destroy(NULL);        /* NULL is fine */
}

static void test_layout_and_views(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 3, .act = NN_ACT_TANH},
                             {.units = 2, .act = NN_ACT_LEAKY_RELU},
                             {.units = 1, .act = NN_ACT_SIGMOID}};
    nn_model *m = make_model(4, specs, 3, 1);
    assert_int_equal(nn_model_inputs(m), 4);
    assert_int_equal(nn_model_outputs(m), 1);
    assert_int_equal(nn_model_layer_count(m), 3);
    float *params, *grads;
    size_t P = nn_model_params(m, &params, &grads);
    assert_int_equal(P, (3 * 4 + 3) + (2 * 3 + 2) + (1 * 2 + 1));
    /* Documented layout: W0, b0, W1, b1, ... row-major; grads laid out the same. */
    size_t offset = 0;
    for (int l = 0; l < 3; l++) {
        nn_layer_view v;
        assert_int_equal(nn_model_layer(m, l, &v), NN_OK);
        assert_int_equal(v.W.rows, v.n_out);
        assert_int_equal(v.W.cols, v.n_in);
        assert_ptr_equal(v.W.data, params + offset);
        assert_ptr_equal(v.dW.data, grads + offset);
        offset += (size_t)v.n_out * v.n_in;
        assert_ptr_equal(v.b.data, params + offset);
        assert_ptr_equal(v.db.data, grads + offset);
        for (int j = 0; j < v.n_out; j++)
            assert_true(v.b.data[j] == 0.0f); /* biases start at zero */
        offset += (size_t)v.n_out;
    }
    assert_int_equal(offset, P);
    nn_layer_view v;
    assert_int_equal(nn_model_layer(m, 1, &v), NN_OK);
    assert_true(v.act_param == 0.01f); /* the leaky slope's default, resolved */
    assert_int_equal(nn_model_layer(m, 3, &v), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_layer(m, -1, &v), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_layer(NULL, 0, &v), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_params(NULL, &params, &grads), 0);
    nn_model_destroy(m);
}

static void test_same_seed_same_weights(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 16, .act = NN_ACT_RELU}, {.units = 3, .act = NN_ACT_SOFTMAX}};
    nn_model *a = make_model(5, specs, 2, 99), *b = make_model(5, specs, 2, 99);
    nn_model *c = make_model(5, specs, 2, 100);
    float *pa, *pb, *pc;
    size_t P = nn_model_params(a, &pa, NULL);
    nn_model_params(b, &pb, NULL);
    nn_model_params(c, &pc, NULL);
    assert_memory_equal(pa, pb, P * sizeof(float));
    assert_memory_not_equal(pa, pc, P * sizeof(float));
    nn_model_destroy(a);
    nn_model_destroy(b);
    nn_model_destroy(c);
}

/* ------------------------------------------------------------------ forward */

/* out = g(x·Wᵀ + b) for one layer, in double, by the definition. */
static void plain_dense(const float *x, int B, int I, const float *W, const float *b, int O,
                        nn_act act, float slope, double *out)
{
    for (int r = 0; r < B; r++) {
        double sum_exp = 0.0, max = -INFINITY;
        for (int j = 0; j < O; j++) {
            double z = b[j];
            for (int i = 0; i < I; i++)
                z += (double)x[r * I + i] * W[j * I + i];
            double a = act == NN_ACT_SIGMOID ? 1.0 / (1.0 + exp(-z))
                     : act == NN_ACT_TANH    ? tanh(z)
                     : act == NN_ACT_RELU    ? (z > 0 ? z : 0)
                     : act == NN_ACT_LEAKY_RELU || act == NN_ACT_PRELU || act == NN_ACT_PRELU_UNITS
                                             ? (z > 0 ? z : slope * z)
                     : act == NN_ACT_ELU     ? (z > 0 ? z : slope * expm1(z))
                     : act == NN_ACT_GELU    ? 0.5 * z * (1.0 + erf(z / sqrt(2.0)))
                                             : z;
            out[r * O + j] = a;
            max = z > max ? z : max;
        }
        if (act == NN_ACT_SOFTMAX) {
            for (int j = 0; j < O; j++)
                sum_exp += exp(out[r * O + j] - max);
            for (int j = 0; j < O; j++)
                out[r * O + j] = exp(out[r * O + j] - max) / sum_exp;
        }
    }
}

static void test_forward_matches_plain_loops(void **state)
{
    (void)state;
    enum { B = 7, I = 5, H = 6, O = 4 };
    for (int a = 0; a < N_HIDDEN_ACTS; a++) {
        nn_layer_spec specs[] = {{.units = H, .act = hidden_acts[a]},
                                 {.units = O, .act = NN_ACT_SOFTMAX}};
        nn_model *m = make_model(I, specs, 2, 3 + a);
        nn_layer_view l0, l1;
        nn_model_layer(m, 0, &l0);
        nn_model_layer(m, 1, &l1);
        fill_uniform(&l0.b, -0.5f, 0.5f, 11); /* non-zero biases, so they are tested too */
        fill_uniform(&l1.b, -0.5f, 0.5f, 12);
        float x[B * I], out[B * O], hidden_f[B * H];
        nn_mat X = nn_mat_wrap(x, B, I), Out = nn_mat_wrap(out, B, O);
        fill_uniform(&X, -2.0f, 2.0f, 13);
        assert_int_equal(nn_forward(m, &X, &Out), NN_OK);

        double hidden[B * H], expect[B * O];
        plain_dense(x, B, I, l0.W.data, l0.b.data, H, hidden_acts[a], l0.act_param, hidden);
        for (int i = 0; i < B * H; i++)
            hidden_f[i] = (float)hidden[i];
        plain_dense(hidden_f, B, H, l1.W.data, l1.b.data, O, NN_ACT_SOFTMAX, 0, expect);
        for (int i = 0; i < B * O; i++)
            assert_float_equal(out[i], expect[i], 1e-5);
        nn_model_destroy(m);
    }
}

/* ----------------------------------------------------------------- backward */

typedef struct pairing {
    nn_act out_act;
    nn_loss loss;
    bool class_indices; /* CE targets as (B, 1) indices instead of one-hot rows */
} pairing;

static const pairing pairings[] = {
    {NN_ACT_LINEAR, NN_LOSS_MSE, false},  {NN_ACT_SIGMOID, NN_LOSS_MSE, false},
    {NN_ACT_TANH, NN_LOSS_MSE, false},    {NN_ACT_SOFTMAX, NN_LOSS_MSE, false},
    {NN_ACT_RELU, NN_LOSS_MSE, false},    {NN_ACT_SIGMOID, NN_LOSS_BCE, false},
    {NN_ACT_SOFTMAX, NN_LOSS_CE, false},  {NN_ACT_SOFTMAX, NN_LOSS_CE, true},
};

/* Targets that suit the pairing: class indices, one-hot rows, 0/1 values or reals. */
static void make_targets(const pairing *p, float *y, int B, int O, nn_rng *rng)
{
    for (int r = 0; r < B; r++) {
        int k = (int)(nn_rng_uniform(rng) * O);
        for (int j = 0; j < O; j++) {
            float v = p->loss == NN_LOSS_CE  ? (j == k ? 1.0f : 0.0f)
                    : p->loss == NN_LOSS_BCE ? (float)(nn_rng_uniform(rng) > 0.5f)
                                             : 2.0f * nn_rng_uniform(rng) - 1.0f;
            if (p->class_indices)
                y[r] = (float)k;
            else
                y[r * O + j] = v;
        }
    }
}

/* The smallest |z| at a kink (ReLU family; ELU's second derivative jumps at 0) in the last
 * forward; +inf if there is none. */
static float nearest_kink(const nn_model *m, int B)
{
    float nearest = INFINITY;
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->act != NN_ACT_RELU && L->act != NN_ACT_LEAKY_RELU && L->act != NN_ACT_ELU &&
            L->act != NN_ACT_PRELU && L->act != NN_ACT_PRELU_UNITS)
            continue;
        for (size_t i = 0; i < (size_t)B * L->n_out; i++)
            nearest = fminf(nearest, fabsf(L->Z[i]));
    }
    return nearest;
}

/* The forward pass runs in float32, so a loss is known to ~1e-7 of itself and a difference
 * quotient with h = 1e-2 carries ~1e-5 of rounding noise plus O(h²) truncation. Measured
 * worst errors over all pairings here are 1e-4 .. 1.4e-2 (the largest where leaky ReLU's
 * 0.01 slope makes gradients tiny); a wrong formula shows as errors of order 1. */
#define GRAD_TOL 3e-2

static void test_grad_check_every_pairing(void **state)
{
    (void)state;
    enum { B = 6, I = 4, H = 5, O = 3 };
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int a = 0; a < N_HIDDEN_ACTS; a++) {
        for (size_t p = 0; p < sizeof pairings / sizeof pairings[0]; p++) {
            nn_layer_spec specs[] = {{.units = H, .act = hidden_acts[a]},
                                     {.units = H, .act = hidden_acts[a]},
                                     {.units = O, .act = pairings[p].out_act}};
            nn_model *m = make_model(I, specs, 3, 20 + a * 10 + p);
            /* Non-zero biases: with zero biases a sample whose ReLU inputs are all off gives
             * the next layer z = 0 exactly, the kink where no derivative exists. */
            for (int l = 0; l < 3; l++) {
                nn_layer_view v;
                nn_model_layer(m, l, &v);
                fill_uniform(&v.b, -0.5f, 0.5f, 40 + l);
            }
            float x[B * I], y[B * O];
            nn_mat X = nn_mat_wrap(x, B, I);
            /* ReLU has no derivative at 0: draw inputs until every z is farther from it
             * than a step of h can move it, or the differences measure the kink. */
            uint64_t seed = 30 + p;
            do {
                fill_uniform(&X, -1.5f, 1.5f, seed++);
                assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
            } while (nearest_kink(m, B) < 0.05f && seed < 30 + p + 1000);
            assert_true(nearest_kink(m, B) >= 0.05f);
            make_targets(&pairings[p], y, B, O, &rng);
            nn_mat Y = nn_mat_wrap(y, B, pairings[p].class_indices ? 1 : O);
            nn_grad_check_result r;
            assert_int_equal(nn_grad_check(m, &X, &Y, pairings[p].loss, NULL, &r), NN_OK);
            if (!r.passed)
                fail_msg("hidden act %d, output act %d, loss %d: %g times the tolerance at "
                         "layer %d %c(%d, %d): %g against %g", (int)hidden_acts[a],
                         (int)pairings[p].out_act, (int)pairings[p].loss, r.worst_ratio, r.layer,
                         r.kind, r.row, r.col, r.analytic, r.numeric);
            nn_model_destroy(m);
        }
    }
}

/* nn_grad_check is itself checked: it leaves parameters, gradients and the last forward as
 * they were (nn_backward still works after it), and on a 7-16-12-5 ReLU/softmax network its
 * worst error is within tolerance, while a gradient made wrong on purpose is caught and
 * located. */
static void test_grad_check_leaves_model_unchanged(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(3, specs, 2, 8);
    float *params, *grads;
    size_t P = nn_model_params(m, &params, &grads);
    for (size_t i = 0; i < P; i++)
        grads[i] = (float)i; /* something the check must put back */
    float *before = malloc(2 * P * sizeof(float));
    assert_non_null(before);
    memcpy(before, params, P * sizeof(float));
    memcpy(before + P, grads, P * sizeof(float));
    float x[] = {0.1f, -0.2f, 0.3f, 1, 2, 3}, y[] = {0, 1}, out[4], out_after[4];
    nn_mat X = nn_mat_wrap(x, 2, 3), Y = nn_mat_wrap(y, 2, 1), Out = nn_mat_wrap(out, 2, 2);
    /* A forward of other rows first: the check must not forget it. */
    float x2[] = {1, 1, 1, -1, 0, 2, 0.5f, 0.5f, 0.5f}, y2[] = {1, 0, 1};
    nn_mat X2 = nn_mat_wrap(x2, 3, 3), Y2 = nn_mat_wrap(y2, 3, 1);
    assert_int_equal(nn_forward(m, &X2, NULL), NN_OK);
    nn_grad_check_result r;
    nn_grad_check_opts few = {.max_params = 5};
    assert_int_equal(nn_grad_check(m, &X, &Y, NN_LOSS_AUTO, &few, &r), NN_OK);
    assert_true(r.passed && r.worst_ratio <= 1.0);
    assert_int_equal(r.checked, 5);
    assert_memory_equal(before, params, P * sizeof(float));
    assert_memory_equal(before + P, grads, P * sizeof(float));
    assert_int_equal(nn_backward(m, &Y2, NN_LOSS_AUTO, NULL), NN_OK); /* the forward is kept */
    memcpy(grads, before + P, P * sizeof(float));
    /* Prediction is unchanged by it, too. */
    assert_int_equal(nn_predict(m, &X, &Out), NN_OK);
    memcpy(out_after, out, sizeof out);
    assert_int_equal(nn_grad_check(m, &X, &Y, NN_LOSS_AUTO, NULL, &r), NN_OK);
    assert_int_equal(nn_predict(m, &X, &Out), NN_OK);
    assert_memory_equal(out, out_after, sizeof out);
    /* A NaN in the data makes the comparison meaningless: refused as bad data. */
    x[0] = NAN;
    assert_int_equal(nn_grad_check(m, &X, &Y, NN_LOSS_AUTO, NULL, &r), NN_ERR_DATA);
    nn_grad_check_opts bad = {.h = -1.0};
    assert_int_equal(nn_grad_check(m, &X, &Y, NN_LOSS_AUTO, &bad, &r), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_grad_check(m, &X, &Y, NN_LOSS_AUTO, NULL, NULL), NN_ERR_INVALID_ARG);
    free(before);
    nn_model_destroy(m);
}

/* The network, 7-16-12-5 with ReLU and softmax, on random data: passes. */
static void test_grad_check_relu_softmax_network(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 16, .act = NN_ACT_RELU}, {.units = 12, .act = NN_ACT_RELU},
                             {.units = 5, .act = NN_ACT_SOFTMAX}};
    for (uint64_t seed = 1; seed <= 5; seed++) {
        nn_model *m = make_model(7, specs, 3, seed);
        float x[32 * 7], y[32];
        nn_mat X = nn_mat_wrap(x, 32, 7), Y = nn_mat_wrap(y, 32, 1);
        fill_uniform(&X, -2.0f, 2.0f, 100 + seed);
        for (int i = 0; i < 32; i++)
            y[i] = (float)(i % 5);
        nn_grad_check_result r;
        assert_int_equal(nn_grad_check(m, &X, &Y, NN_LOSS_AUTO, NULL, &r), NN_OK);
        assert_int_equal(r.checked, nn_model_params(m, NULL, NULL));
        if (!r.passed)
            fail_msg("seed %d: %g times the tolerance at layer %d %c(%d, %d): %g against %g",
                     (int)seed, r.worst_ratio, r.layer, r.kind, r.row, r.col, r.analytic,
                     r.numeric);
        nn_model_destroy(m);
    }
}

/* A gradient made wrong in one place is caught there: nn_backward's gradient of a tanh
 * layer, with one weight's entry 1% off, given to the check's comparison. */
static void test_grad_check_catches_a_wrong_gradient(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 3, .act = NN_ACT_TANH};
    nn_model *m = make_model(4, &spec, 1, 3);
    float x[8 * 4], y[8 * 3];
    nn_mat X = nn_mat_wrap(x, 8, 4), Y = nn_mat_wrap(y, 8, 3);
    fill_uniform(&X, -1.0f, 1.0f, 7);
    fill_uniform(&Y, -0.5f, 0.5f, 8);
    float *grads;
    nn_model_params(m, NULL, &grads);
    nn_grad_check_result r;
    assert_int_equal(nn_zero_grad(m), NN_OK);
    assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, NULL), NN_OK);
    assert_int_equal(nn__grad_compare(m, &X, &Y, NN_LOSS_MSE, &(nn_grad_check_opts){0}, &r), NN_OK);
    assert_true(r.passed); /* the gradient as the library computes it */
    grads[2 * 4 + 3] *= 1.01f; /* W(2, 3) */
    assert_int_equal(nn__grad_compare(m, &X, &Y, NN_LOSS_MSE, &(nn_grad_check_opts){0}, &r), NN_OK);
    assert_false(r.passed);
    assert_true(r.worst_ratio > 1.0);
    assert_int_equal(r.layer, 0);
    assert_int_equal(r.kind, 'W');
    assert_int_equal(r.row, 2);
    assert_int_equal(r.col, 3);
    nn_model_destroy(m);
}

/* The summary of 784-256-128-10: the counts worked out by hand. W0 784·256 = 200,704 and 256
 * biases; W1 256·128 = 32,768 and 128; W2 128·10 = 1,280 and 10. */
static void test_summary_counts(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 256, .act = NN_ACT_RELU, .dropout = 0.25f},
                             {.units = 128, .act = NN_ACT_RELU}, {.units = 10, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(784, specs, 3, 1);
    char text[1024];
    size_t length = 0;
    assert_int_equal(nn_model_summary(m, text, sizeof text, &length), NN_OK);
    assert_int_equal(length, strlen(text) + 1);
    const char *facts[] = {"235,146", "940,584", "234,752", "200,960", "32,896", "1,290",
                           "(B, 784)", "(B, 256)", "(B, 10)", "relu", "softmax", "0.25"};
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
        if (!strstr(text, facts[i]))
            fail_msg("summary lacks \"%s\":\n%s", facts[i], text);
    /* Too small: cut short, terminated, and the size it needs told. */
    char small[40];
    size_t need = 0;
    assert_int_equal(nn_model_summary(m, small, sizeof small, &need), NN_ERR_INVALID_ARG);
    assert_int_equal(need, length);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(nn_model_summary(m, NULL, 0, &need), NN_ERR_INVALID_ARG);
    assert_int_equal(need, length);
    assert_int_equal(nn_model_summary(m, NULL, 5, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_summary(NULL, text, sizeof text, NULL), NN_ERR_INVALID_ARG);
    nn_model_destroy(m);
}

/* One linear neuron with MSE has the gradient in closed form: for L = mean (w·x + b - y)²,
 * dL/dw = 2·mean((w·x + b - y)·x), dL/db = 2·mean(w·x + b - y). */
static void test_backward_closed_form(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 1, .act = NN_ACT_LINEAR}};
    nn_model *m = make_model(1, specs, 1, 0);
    nn_layer_view v;
    nn_model_layer(m, 0, &v);
    v.W.data[0] = 2.0f;
    v.b.data[0] = 0.5f;
    float x[] = {1, 2, 3}, y[] = {3, 4, 8}, loss = 0;
    /* residuals w·x + b - y: -0.5, 0.5, -1.5 */
    nn_mat X = nn_mat_wrap(x, 3, 1), Y = nn_mat_wrap(y, 3, 1);
    assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, &loss), NN_OK);
    assert_float_equal(loss, (0.25f + 0.25f + 2.25f) / 3, 1e-6);
    assert_float_equal(v.dW.data[0], 2.0f * (-0.5f + 1.0f - 4.5f) / 3, 1e-6);
    assert_float_equal(v.db.data[0], 2.0f * (-0.5f + 0.5f - 1.5f) / 3, 1e-6);
    /* Backward accumulates: a second call doubles the gradient. */
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, NULL), NN_OK);
    assert_float_equal(v.dW.data[0], 4.0f * (-0.5f + 1.0f - 4.5f) / 3, 1e-6);
    assert_int_equal(nn_zero_grad(m), NN_OK);
    assert_true(v.dW.data[0] == 0.0f && v.db.data[0] == 0.0f);
    nn_model_destroy(m);
}

static void test_backward_bad_input(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 3, .act = NN_ACT_RELU}, {.units = 3, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(2, specs, 2, 1);
    float x[4] = {1, 2, 3, 4}, y[2] = {0, 2}, ybad[2] = {0, 3}, yfrac[2] = {0, 0.5f};
    float out[6], small[4];
    nn_mat X = nn_mat_wrap(x, 2, 2), Y = nn_mat_wrap(y, 2, 1);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_CE, NULL), NN_ERR_STATE);
    nn_mat Out = nn_mat_wrap(small, 2, 2);
    assert_int_equal(nn_forward(m, &X, &Out), NN_ERR_SHAPE);
    nn_mat X3 = nn_mat_wrap(x, 1, 3);
    assert_int_equal(nn_forward(m, &X3, NULL), NN_ERR_SHAPE);
    assert_int_equal(nn_forward(NULL, &X, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_forward(m, NULL, NULL), NN_ERR_INVALID_ARG);
    Out = nn_mat_wrap(out, 2, 3);
    assert_int_equal(nn_forward(m, &X, &Out), NN_OK);

    float *grads;
    size_t P = nn_model_params(m, NULL, &grads);
    nn_mat Ybad = nn_mat_wrap(ybad, 2, 1), Yfrac = nn_mat_wrap(yfrac, 2, 1);
    nn_mat Yrows = nn_mat_wrap(y, 1, 2);
    assert_int_equal(nn_backward(m, &Ybad, NN_LOSS_CE, NULL), NN_ERR_LABEL);
    assert_int_equal(nn_backward(m, &Yfrac, NN_LOSS_CE, NULL), NN_ERR_LABEL);
    assert_int_equal(nn_backward(m, &Yrows, NN_LOSS_CE, NULL), NN_ERR_SHAPE);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_BCE, NULL), NN_ERR_LOSS_ACT);
    assert_int_equal(nn_backward(m, &Y, (nn_loss)17, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_backward(m, NULL, NN_LOSS_CE, NULL), NN_ERR_INVALID_ARG);
    for (size_t i = 0; i < P; i++)
        assert_true(grads[i] == 0.0f); /* no failed call touched a gradient */
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_AUTO, NULL), NN_OK);
    nn_model_destroy(m);
}

/* --------------------------------------------------------------------- SGD */

/* Zeroed optimizer options are plain SGD: exactly p - lr·g, and bad rates change nothing. */
static void test_plain_sgd_arithmetic(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 3, .act = NN_ACT_TANH}, {.units = 2}};
    nn_model *m = make_model(2, specs, 2, 4);
    float *params, *grads;
    size_t P = nn_model_params(m, &params, &grads);
    float *before = malloc(P * sizeof(float));
    assert_non_null(before);
    for (size_t i = 0; i < P; i++)
        grads[i] = 0.25f * (float)i - 1.0f;
    memcpy(before, params, P * sizeof(float));
    const nn_optim_opts sgd = {0};
    assert_int_equal(nn_optim_step(m, &sgd, 0.1f), NN_OK);
    for (size_t i = 0; i < P; i++)
        assert_true(params[i] == before[i] - 0.1f * grads[i]); /* exactly p - lr·g */
    memcpy(before, params, P * sizeof(float));
    float bad_rates[] = {-0.1f, NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(nn_optim_step(m, &sgd, bad_rates[k]), NN_ERR_INVALID_ARG);
    assert_memory_equal(before, params, P * sizeof(float));
    assert_int_equal(nn_optim_step(NULL, &sgd, 0.1f), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_zero_grad(NULL), NN_ERR_INVALID_ARG);
    free(before);
    nn_model_destroy(m);
}

/* ------------------------------------------------------------------ dropout */

/* Dropout acts in training only: predictions equal those of the same weights without it. */
static void test_dropout_only_in_training(void **state)
{
    (void)state;
    enum { B = 5, I = 4, O = 3 };
    nn_layer_spec with[] = {{.units = 64, .act = NN_ACT_RELU, .dropout = 0.5f},
                            {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_layer_spec without[] = {{.units = 64, .act = NN_ACT_RELU}, {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_model *a = make_model(I, with, 2, 7), *b = make_model(I, without, 2, 7);
    float x[B * I], pa[B * O], pb[B * O], pf[B * O];
    nn_mat X = nn_mat_wrap(x, B, I), Pa = nn_mat_wrap(pa, B, O), Pb = nn_mat_wrap(pb, B, O);
    nn_mat Pf = nn_mat_wrap(pf, B, O);
    fill_uniform(&X, -1, 1, 8);
    assert_int_equal(nn_predict(a, &X, &Pa), NN_OK);
    assert_int_equal(nn_predict(b, &X, &Pb), NN_OK);
    assert_memory_equal(pa, pb, sizeof pa);
    assert_int_equal(nn_forward(a, &X, &Pf), NN_OK); /* a training forward drops */
    assert_memory_not_equal(pa, pf, sizeof pa);
    /* About half of the 5 × 64 hidden outputs are dropped: within 5 standard deviations. */
    const nn__layer *L = &a->layers[0];
    int zeros = 0, live = 0;
    for (int i = 0; i < B * 64; i++) {
        live += L->A[i] != 0.0f;
        zeros += L->A[i] != 0.0f && L->D[i] == 0.0f;
    }
    assert_true(fabs(zeros - 0.5 * live) <= 5 * sqrt(0.25 * live));
    nn_layer_spec last[] = {{.units = 2, .dropout = 0.5f}}; /* never on the output */
    nn_model *bad = NULL;
    assert_int_equal(nn_model_create(2, last, 1, NULL, &bad), NN_ERR_INVALID_ARG);
    nn_layer_spec rate[] = {{.units = 2, .dropout = 1.0f}, {.units = 1}};
    assert_int_equal(nn_model_create(2, rate, 2, NULL, &bad), NN_ERR_INVALID_ARG);
    nn_model_destroy(a);
    nn_model_destroy(b);
}

/* With the mask held fixed (the training stream reset before every forward), back-propagation
 * through dropout matches finite differences of the same masked network. */
static void test_dropout_gradient(void **state)
{
    (void)state;
    enum { B = 4, I = 3, H = 8, O = 2 };
    nn_layer_spec specs[] = {{.units = H, .act = NN_ACT_TANH, .dropout = 0.3f},
                             {.units = H, .act = NN_ACT_SIGMOID, .dropout = 0.5f},
                             {.units = O, .act = NN_ACT_LINEAR}};
    nn_model *m = make_model(I, specs, 3, 9);
    float x[B * I], y[B * O], out[B * O];
    nn_mat X = nn_mat_wrap(x, B, I), Y = nn_mat_wrap(y, B, O), Out = nn_mat_wrap(out, B, O);
    fill_uniform(&X, -1, 1, 10);
    fill_uniform(&Y, -1, 1, 11);
    nn_rng_seed(&m->run_rng, 3);
    nn_rng mask = m->run_rng;
    float *params, *grads;
    size_t P = nn_model_params(m, &params, &grads);
    assert_int_equal(nn_zero_grad(m), NN_OK);
    assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, NULL), NN_OK);
    double worst = 0;
    for (size_t i = 0; i < P; i++) {
        float keep = params[i], loss[2];
        for (int k = 0; k < 2; k++) {
            params[i] = keep + (k ? -1e-2f : 1e-2f);
            m->run_rng = mask;
            assert_int_equal(nn_forward(m, &X, &Out), NN_OK);
            assert_int_equal(nn_loss_eval(NN_LOSS_MSE, &Out, &Y, &loss[k], NULL), NN_OK);
        }
        params[i] = keep;
        double fd = ((double)loss[0] - loss[1]) / 2e-2;
        double err = fabs(fd - grads[i]) / fmax(fmax(fabs(fd), fabs(grads[i])), 1e-2);
        worst = fmax(worst, err);
    }
    if (!(worst < GRAD_TOL))
        fail_msg("dropout gradient: worst relative error %g", worst);
    nn_model_destroy(m);
}

/* -------------------------------------------------------- allocation faults */

/* Every allocation of model creation and of a forward pass may fail: each failure returns
 * NN_ERR_NOMEM, leaks nothing, and leaves an existing model usable. */
static void test_allocation_failures(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 8, .act = NN_ACT_RELU}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    long k = 1;
    for (;; k++) {
        counting_alloc c = {.fail_at = k};
        nn_model_opts opts = {.seed = 1, .alloc = counting_alloc_fn, .alloc_user = &c};
        nn_model *m = NULL;
        nn_status s = nn_model_create(3, specs, 2, &opts, &m);
        if (s == NN_OK) {
            nn_model_destroy(m);
            assert_int_equal(c.live_blocks, 0);
            break;
        }
        assert_int_equal(s, NN_ERR_NOMEM);
        assert_int_equal(c.live_blocks, 0);
        assert_int_equal(c.live_bytes, 0);
    }
    assert_true(k > 1); /* creation allocates, so some failure point was exercised */

    counting_alloc c = {0};
    nn_model_opts opts = {.seed = 1, .alloc = counting_alloc_fn, .alloc_user = &c};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(3, specs, 2, &opts, &m), NN_OK);
    float x[3 * 4] = {0}, y[4] = {0, 1, 1, 0};
    nn_mat X = nn_mat_wrap(x, 4, 3), Y = nn_mat_wrap(y, 4, 1);
    c.fail_at = c.calls + 1;
    assert_int_equal(nn_forward(m, &X, NULL), NN_ERR_NOMEM);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_CE, NULL), NN_ERR_STATE);
    assert_int_equal(nn_forward(m, &X, NULL), NN_OK); /* usable after the failure */
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_CE, NULL), NN_OK);
    nn_model_destroy(m);
    assert_int_equal(c.live_blocks, 0);
    assert_int_equal(c.live_bytes, 0);
}

/* A batch of one row runs the dense layer's one-row loops (dot and outer products, for
 * layers of up to 1,024 weights); a batch of two runs the products. Two copies of a row have
 * the loss, and so the gradients, of the row alone (the loss is a mean), so each path is the
 * other's oracle: forward outputs and every gradient (W, b, PReLU's slopes) must agree to
 * float rounding, for small and for wider layers, with the loss on the logits and on A. */
static void test_one_row_loops_match_products(void **state)
{
    (void)state;
    static const struct {
        int I;
        nn_layer_spec specs[3];
        nn_loss loss;
    } cases[] = {
        {2, {{.units = 4, .act = NN_ACT_TANH}, {.units = 3, .act = NN_ACT_PRELU_UNITS},
             {.units = 1, .act = NN_ACT_SIGMOID}}, NN_LOSS_BCE},
        {5, {{.units = 30, .act = NN_ACT_RELU}, {.units = 20, .act = NN_ACT_PRELU},
             {.units = 3, .act = NN_ACT_SOFTMAX}}, NN_LOSS_CE},
        {3, {{.units = 40, .act = NN_ACT_ELU}, {.units = 25, .act = NN_ACT_TANH},
             {.units = 2, .act = NN_ACT_LINEAR}}, NN_LOSS_MSE},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int I = cases[c].I, O = cases[c].specs[2].units;
        nn_model *one = make_model(I, cases[c].specs, 3, 30 + c);
        nn_model *two = make_model(I, cases[c].specs, 3, 30 + c);
        float *p1, *p2; /* biases and slopes away from their starting 0 and 0.25 too */
        size_t n = nn_model_params(one, &p1, NULL);
        nn_model_params(two, &p2, NULL);
        nn_mat all = nn_mat_wrap(p1, 1, (int)n);
        fill_uniform(&all, -0.8f, 0.8f, 50 + c);
        memcpy(p2, p1, n * sizeof *p1);
        float x[2 * 5], y[2 * 3], out1[3], out2[2 * 3];
        nn_mat X1 = nn_mat_wrap(x, 1, I), X2 = nn_mat_wrap(x, 2, I);
        fill_uniform(&X1, -1.5f, 1.5f, 7 + c);
        memcpy(x + I, x, (size_t)I * sizeof *x); /* row 1 = row 0 */
        int ycols = cases[c].loss == NN_LOSS_CE ? 1 : O;
        for (int j = 0; j < ycols; j++)
            y[j] = y[ycols + j] = cases[c].loss == NN_LOSS_CE ? 2.0f : 0.25f * (float)(j + 1);
        nn_mat Y1 = nn_mat_wrap(y, 1, ycols), Y2 = nn_mat_wrap(y, 2, ycols);
        nn_mat Out1 = nn_mat_wrap(out1, 1, O), Out2 = nn_mat_wrap(out2, 2, O);
        assert_int_equal(nn_zero_grad(one), NN_OK);
        assert_int_equal(nn_zero_grad(two), NN_OK);
        assert_int_equal(nn_forward(one, &X1, &Out1), NN_OK);
        assert_int_equal(nn_forward(two, &X2, &Out2), NN_OK);
        for (int j = 0; j < O; j++)
            assert_float_equal(out1[j], out2[j], 1e-6 * fmax(1.0, fabs(out2[j])));
        float l1, l2;
        assert_int_equal(nn_backward(one, &Y1, cases[c].loss, &l1), NN_OK);
        assert_int_equal(nn_backward(two, &Y2, cases[c].loss, &l2), NN_OK);
        assert_float_equal(l1, l2, 1e-6 * fmax(1.0, fabs(l2)));
        float *g1, *g2;
        size_t P = nn_model_params(one, NULL, &g1);
        nn_model_params(two, NULL, &g2);
        for (size_t i = 0; i < P; i++)
            if (!(fabsf(g1[i] - g2[i]) <= 1e-5f * fmaxf(1.0f, fabsf(g2[i]))))
                fail_msg("case %zu, gradient %zu: one row %.9g, two rows %.9g", c, i, g1[i],
                         g2[i]);
        nn_model_destroy(one);
        nn_model_destroy(two);
    }
}

/* The products' packing buffers (about 1.1 MiB a thread) are allocated the first time a
 * product packs, one per thread, and never for work whose products do not pack: batch-1
 * inference, training one row at a time. Failing to get them, or the workspace after
 * them, is NN_ERR_NOMEM and leaves the model's memory as it was. */
static void test_packing_buffers_when_needed(void **state)
{
    (void)state;
    const long long ws_bytes = (long long)(nn__gemm_ws_floats() * sizeof(float));
    counting_alloc c = {0};
    nn_model_opts opts = {.seed = 1, .threads = 2, .alloc = counting_alloc_fn, .alloc_user = &c};
    nn_layer_spec specs[] = {{.units = 256, .act = NN_ACT_RELU},
                             {.units = 10, .act = NN_ACT_SOFTMAX}};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(784, specs, 2, &opts, &m), NN_OK);
    nn_mat X, Out, Out1;
    assert_int_equal(nn_mat_alloc(&X, 64, 784), NN_OK);
    assert_int_equal(nn_mat_alloc(&Out, 64, 10), NN_OK);
    assert_int_equal(nn_mat_alloc(&Out1, 1, 10), NN_OK);
    fill_uniform(&X, -1, 1, 3);
    nn_mat X1 = nn_mat_wrap(X.data, 1, 784);
    long long created = c.live_bytes;
    assert_int_equal(nn_predict(m, &X1, &Out1), NN_OK);
    assert_true(c.live_bytes - created < ws_bytes); /* one row: no packing */
    for (int fail = 1; fail <= 2; fail++) { /* the buffers, then the workspace after them */
        long long before = c.live_bytes;
        c.fail_at = c.calls + fail;
        assert_int_equal(nn_predict(m, &X, &Out), NN_ERR_NOMEM);
        assert_int_equal(c.live_bytes, before);
    }
    c.fail_at = 0;
    long long before = c.live_bytes;
    assert_int_equal(nn_predict(m, &X, &Out), NN_OK);
    assert_true(c.live_bytes - before >= 2 * ws_bytes); /* one per thread */
    for (int j = 0; j < 10; j++) /* row 0 either way, up to the two paths' rounding */
        assert_float_equal(Out.data[j], Out1.data[j], 1e-5);
    nn_model_destroy(m);
    assert_int_equal(c.live_bytes, 0);

    /* Training one row at a time, 1,024 weights in the first layer: outer products, no packing. */
    nn_layer_spec tiny[] = {{.units = 32, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    opts.threads = 1;
    assert_int_equal(nn_model_create(32, tiny, 2, &opts, &m), NN_OK);
    nn_mat Xt = nn_mat_wrap(X.data, 8, 32), Y;
    assert_int_equal(nn_mat_alloc(&Y, 8, 1), NN_OK);
    for (int i = 0; i < 8; i++)
        Y.data[i] = (float)(i % 2);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 2;
    o.batch_size = 1;
    created = c.live_bytes;
    assert_int_equal(nn_train(m, &Xt, &Y, &o), NN_OK);
    assert_true(c.live_bytes - created < ws_bytes);
    nn_model_destroy(m);
    assert_int_equal(c.live_bytes, 0);
    nn_mat_free(&X), nn_mat_free(&Out), nn_mat_free(&Out1), nn_mat_free(&Y);
}

int main(void)
{
    const struct CMUnitTest construction[] = {
        cmocka_unit_test(test_create_rejects_bad_specs),
        cmocka_unit_test(test_layout_and_views),
        cmocka_unit_test(test_same_seed_same_weights),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_packing_buffers_when_needed),
    };
    const struct CMUnitTest passes[] = {
        cmocka_unit_test(test_forward_matches_plain_loops),
        cmocka_unit_test(test_grad_check_every_pairing),
        cmocka_unit_test(test_grad_check_leaves_model_unchanged),
        cmocka_unit_test(test_grad_check_relu_softmax_network),
        cmocka_unit_test(test_grad_check_catches_a_wrong_gradient),
        cmocka_unit_test(test_summary_counts),
        cmocka_unit_test(test_backward_closed_form),
        cmocka_unit_test(test_backward_bad_input),
        cmocka_unit_test(test_one_row_loops_match_products),
        cmocka_unit_test(test_plain_sgd_arithmetic),
        cmocka_unit_test(test_dropout_only_in_training),
        cmocka_unit_test(test_dropout_gradient),
    };
    int failed = cmocka_run_group_tests_name("model construction", construction, NULL, NULL);
    failed += cmocka_run_group_tests_name("forward, backward, step", passes, NULL, NULL);
    return failed != 0;
}
