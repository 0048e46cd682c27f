/* The optimizers: PyTorch's weights after ten steps of each (tests/ref/optim_ref.h), single
 * steps worked out by hand, the state's lifetime (kind, reset, allocation, failure) and every
 * bad argument. Shape letters: P parameters. */
#include <math.h>

#include "test_util.h"
#include "nn_internal.h"
#include "ref/optim_ref.h"

static nn_model *make_model(int n_in, const nn_layer_spec *specs, int n, counting_alloc *ca)
{
    nn_model_opts opts = {.seed = 1, .alloc = ca ? counting_alloc_fn : NULL, .alloc_user = ca};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(n_in, specs, n, &opts, &m), NN_OK);
    return m;
}

/* The reference network with the reference's initial parameters. */
static nn_model *make_ref_model(counting_alloc *ca)
{
    nn_layer_spec specs[] = {{.units = OPTIM_REF_HIDDEN, .act = NN_ACT_TANH},
                             {.units = OPTIM_REF_OUT, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make_model(OPTIM_REF_IN, specs, 2, ca);
    float *p;
    assert_int_equal(nn_model_params(m, &p, NULL), OPTIM_REF_PARAMS);
    memcpy(p, optim_ref_init, sizeof optim_ref_init);
    return m;
}

/* Fills the gradients of the reference model from the reference batch. */
static void ref_gradients(nn_model *m)
{
    nn_mat X = nn_mat_wrap((float *)optim_ref_x, OPTIM_REF_ROWS, OPTIM_REF_IN);
    nn_mat Y = nn_mat_wrap((float *)optim_ref_y, OPTIM_REF_ROWS, 1);
    assert_int_equal(nn_zero_grad(m), NN_OK);
    assert_int_equal(nn_forward(m, &X, NULL), NN_OK);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_CE, NULL), NN_OK);
}

/* A 1-input, 2-unit linear layer: P = 4 (W0, W1, b0, b1) whose gradients the tests set. */
static nn_model *make_tiny_model(float **p, float **g)
{
    nn_layer_spec specs[] = {{.units = 2, .act = NN_ACT_LINEAR}};
    nn_model *m = make_model(1, specs, 1, NULL);
    assert_int_equal(nn_model_params(m, p, g), 4);
    return m;
}

static void set4(float *dst, float a, float b, float c, float d)
{
    dst[0] = a, dst[1] = b, dst[2] = c, dst[3] = d;
}

static void assert_params4(const float *p, float a, float b, float c, float d, float tol)
{
    assert_float_equal(p[0], a, tol);
    assert_float_equal(p[1], b, tol);
    assert_float_equal(p[2], c, tol);
    assert_float_equal(p[3], d, tol);
}

/* ------------------------------------------------------------- PyTorch */

/* Ten full-batch steps of each optimizer configuration against torch.optim's. Our forward
 * and backward round differently from PyTorch's (summation order), and each step feeds
 * that into the next, so the agreement is float32's up to that: |ours - torch| <=
 * 2e-6·max(1, |torch|), about 17 float32 ulps at 1. Measured (gcc and clang, x86-64), the
 * largest deviations are 3.0e-7 (RMSprop), 1.8e-7 (SGD) and 1.2e-7 (Adam, AdamW); run with
 * NN_TEST_VERBOSE=1 to see them per configuration. */
static void test_matches_pytorch(void **state)
{
    (void)state;
    const double tol = 2e-6;
    for (size_t k = 0; k < sizeof optim_refs / sizeof optim_refs[0]; k++) {
        const optim_ref *r = &optim_refs[k];
        nn_model *m = make_ref_model(NULL);
        for (int step = 0; step < OPTIM_REF_STEPS; step++) {
            ref_gradients(m);
            assert_int_equal(nn_optim_step(m, &r->opts, r->learning_rate), NN_OK);
        }
        float *p;
        nn_model_params(m, &p, NULL);
        double worst = 0.0;
        for (int i = 0; i < OPTIM_REF_PARAMS; i++) {
            double want = r->params[i];
            double err = fabs(p[i] - want) / fmax(1.0, fabs(want));
            worst = fmax(worst, err);
            if (!(err <= tol))
                fail_msg("%s: parameter %d is %.9g, PyTorch's %.9g", r->name, i, p[i], want);
        }
        if (getenv("NN_TEST_VERBOSE"))
            print_message("%-24s largest deviation %.2g\n", r->name, worst);
        nn_model_destroy(m);
    }
}

/* ------------------------------------------------------------ by hand */

/* μ = 0.9, lr = 0.1 on p = (1, -2, 0.5, 3) with g1 = (0.5, -1, 2, 0), then g2 = (1, 1, -1, 2).
 * The buffer starts as the first gradient (no dampening on it), then b = μ·b + (1-d)·g. */
static void test_sgd_momentum_by_hand(void **state)
{
    (void)state;
    struct { bool nesterov; float dampening, want1[4], want2[4]; } cases[] = {
        /* p1 = p0 - lr·g1; b = 0.9·g1 + g2 = (1.45, 0.1, 0.8, 2); p2 = p1 - lr·b */
        {false, 0.0f, {0.95f, -1.9f, 0.3f, 3.0f}, {0.805f, -1.91f, 0.22f, 2.8f}},
        /* b = 0.9·g1 + 0.5·g2 = (0.95, -0.4, 1.3, 1) */
        {false, 0.5f, {0.95f, -1.9f, 0.3f, 3.0f}, {0.855f, -1.86f, 0.17f, 2.9f}},
        /* p1 = p0 - lr·(g1 + 0.9·g1); p2 = p1 - lr·(g2 + 0.9·(1.45, 0.1, 0.8, 2)) */
        {true, 0.0f, {0.905f, -1.81f, 0.12f, 3.0f}, {0.6745f, -1.919f, 0.148f, 2.62f}},
    };
    for (int k = 0; k < 3; k++) {
        float *p, *g;
        nn_model *m = make_tiny_model(&p, &g);
        nn_optim_opts o = {.momentum = 0.9f, .nesterov = cases[k].nesterov,
                           .dampening = cases[k].dampening};
        const float *w1 = cases[k].want1, *w2 = cases[k].want2;
        set4(p, 1.0f, -2.0f, 0.5f, 3.0f);
        set4(g, 0.5f, -1.0f, 2.0f, 0.0f);
        assert_int_equal(nn_optim_step(m, &o, 0.1f), NN_OK);
        assert_params4(p, w1[0], w1[1], w1[2], w1[3], 1e-6);
        set4(g, 1.0f, 1.0f, -1.0f, 2.0f);
        assert_int_equal(nn_optim_step(m, &o, 0.1f), NN_OK);
        assert_params4(p, w2[0], w2[1], w2[2], w2[3], 1e-6);
        nn_model_destroy(m);
    }
}

/* Adam's first step: m = (1-β1)·g, v = (1-β2)·g², and the bias corrections undo both
 * factors, so Δp = -lr·g / (|g| + ε): a step of lr against the sign of g, whatever its size,
 * once |g| >> ε. */
static void test_adam_first_step_by_hand(void **state)
{
    (void)state;
    float *p, *g;
    nn_model *m = make_tiny_model(&p, &g);
    const float lr = 0.01f, eps = 1e-8f;
    set4(p, 0.0f, 0.0f, 0.0f, 0.0f);
    set4(g, 1e-3f, -0.5f, 20.0f, -1e3f);
    nn_optim_opts o = {.kind = NN_OPT_ADAM};
    assert_int_equal(nn_optim_step(m, &o, lr), NN_OK);
    for (int i = 0; i < 4; i++) {
        double want = -lr * g[i] / (fabs(g[i]) + eps);
        assert_float_equal(p[i], want, 1e-6 * lr);
        assert_float_equal(fabs(p[i]), lr, 1e-4 * lr); /* |Δp| = lr */
    }
    assert_int_equal(m->optim_steps, 1);
    nn_model_destroy(m);
}

/* With zero gradients only the decay moves the parameters: L2 for SGD shrinks W by
 * (1 - lr·wd) and leaves b unless decay_biases; AdamW's decoupled decay (default 0.01)
 * shrinks W by (1 - lr·wd) and Adam's own step is 0/(0 + ε) = 0. */
static void test_weight_decay_by_hand(void **state)
{
    (void)state;
    struct { nn_optim_opts o; float lr, w_factor, b_factor; } cases[] = {
        {{.weight_decay = 0.1f}, 1.0f, 0.9f, 1.0f},
        {{.weight_decay = 0.1f, .decay_biases = true}, 1.0f, 0.9f, 0.9f},
        {{.kind = NN_OPT_ADAMW}, 0.5f, 0.995f, 1.0f},
        {{.kind = NN_OPT_ADAMW, .weight_decay = 0.2f, .decay_biases = true}, 0.5f, 0.9f, 0.9f},
    };
    float *p, *g;
    for (int k = 0; k < 4; k++) {
        nn_model *m = make_tiny_model(&p, &g);
        set4(p, 1.0f, -2.0f, 0.5f, 3.0f);
        set4(g, 0.0f, 0.0f, 0.0f, 0.0f);
        float wf = cases[k].w_factor, bf = cases[k].b_factor;
        assert_int_equal(nn_optim_step(m, &cases[k].o, cases[k].lr), NN_OK);
        assert_params4(p, wf, -2.0f * wf, 0.5f * bf, 3.0f * bf, 1e-6);
        nn_model_destroy(m);
    }
    /* L2 on Adam goes into the gradient, g = wd·p: W takes Adam's first step, lr against
     * the sign of p; b, not decayed, has g = 0 and stays. */
    nn_model *m = make_tiny_model(&p, &g);
    set4(p, 1.0f, -2.0f, 0.5f, 3.0f);
    set4(g, 0.0f, 0.0f, 0.0f, 0.0f);
    nn_optim_opts adam = {.kind = NN_OPT_ADAM, .weight_decay = 0.2f};
    assert_int_equal(nn_optim_step(m, &adam, 0.5f), NN_OK);
    assert_params4(p, 0.5f, -1.5f, 0.5f, 3.0f, 1e-6);
    nn_model_destroy(m);
}

/* Every parameter is updated exactly once, whatever the layer holds (PReLU's slopes follow
 * b), and weight decay reaches W always, the rest of a layer with decay_biases only. */
static void test_every_parameter_once(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 3, .act = NN_ACT_PRELU_UNITS},
                             {.units = 2, .act = NN_ACT_PRELU}, {.units = 2}};
    nn_model *m = make_model(2, specs, 3, NULL);
    float *p, *g;
    size_t P = nn_model_params(m, &p, &g);
    assert_int_equal(P, (3 * 2 + 3 + 3) + (2 * 3 + 2 + 1) + (2 * 2 + 2));
    for (size_t i = 0; i < P; i++)
        p[i] = 0.0f, g[i] = 1.0f;
    assert_int_equal(nn_optim_step(m, &(nn_optim_opts){.kind = NN_OPT_ADAM}, 0.5f), NN_OK);
    for (size_t i = 0; i < P; i++)
        assert_float_equal(p[i], -0.5f, 1e-6);

    assert_int_equal(nn_optim_reset(m), NN_OK); /* SGD next */
    for (int decay_biases = 0; decay_biases < 2; decay_biases++) {
        for (size_t i = 0; i < P; i++)
            p[i] = 1.0f, g[i] = 0.0f;
        nn_optim_opts o = {.weight_decay = 0.5f, .decay_biases = decay_biases};
        assert_int_equal(nn_optim_step(m, &o, 1.0f), NN_OK);
        for (int l = 0; l < 3; l++) {
            nn__layer *L = &m->layers[l];
            float *end = l < 2 ? m->layers[l + 1].W : p + P;
            for (float *q = L->W; q < end; q++) {
                bool is_W = q < L->W + L->n_out * L->n_in;
                assert_float_equal(*q, is_W || decay_biases ? 0.5f : 1.0f, 0.0);
            }
        }
    }
    nn_model_destroy(m);
}

/* g = (3, 0, 4, 0) has norm 5: clip_norm 1 scales it by 1/(5 + 1e-6), clip_norm 10 leaves it.
 * The gradients in the model stay as they were. */
static void test_clip_by_hand(void **state)
{
    (void)state;
    float *p, *g;
    nn_model *m = make_tiny_model(&p, &g);
    set4(p, 0.0f, 0.0f, 0.0f, 0.0f);
    set4(g, 3.0f, 0.0f, 4.0f, 0.0f);
    nn_optim_opts o = {.clip_norm = 1.0f};
    assert_int_equal(nn_optim_step(m, &o, 1.0f), NN_OK);
    double c = 1.0 / (5.0 + 1e-6);
    assert_params4(p, (float)(-3 * c), 0.0f, (float)(-4 * c), 0.0f, 1e-7);
    assert_params4(g, 3.0f, 0.0f, 4.0f, 0.0f, 0.0);
    set4(p, 0.0f, 0.0f, 0.0f, 0.0f);
    o.clip_norm = 10.0f;
    assert_int_equal(nn_optim_step(m, &o, 1.0f), NN_OK);
    assert_params4(p, -3.0f, 0.0f, -4.0f, 0.0f, 0.0);
    nn_model_destroy(m);
}

/* (nn_optim_opts){0} is p -= lr·g, bit for bit (against a plain loop), and keeps no state. The internal entry
 * points the training loop uses give nn_optim_step's results bit for bit. */
static void test_plain_sgd_and_internal_entry_points(void **state)
{
    (void)state;
    counting_alloc ca = {0};
    nn_model *a = make_ref_model(&ca), *b = make_ref_model(NULL);
    for (int step = 0; step < 3; step++) {
        ref_gradients(a);
        ref_gradients(b);
        long calls = ca.calls;
        assert_int_equal(nn_optim_step(a, &(nn_optim_opts){0}, 0.3f), NN_OK);
        assert_int_equal(ca.calls, calls);
        for (size_t i = 0; i < OPTIM_REF_PARAMS; i++)
            b->params[i] -= 0.3f * b->grads[i];
    }
    assert_null(a->optim_state);
    assert_memory_equal(a->params, b->params, OPTIM_REF_PARAMS * sizeof(float));
    nn_model_destroy(a);
    nn_model_destroy(b);

    nn_optim_opts o = {.kind = NN_OPT_RMSPROP, .momentum = 0.5f, .clip_norm = 0.8f};
    a = make_ref_model(NULL), b = make_ref_model(NULL);
    assert_int_equal(nn__optim_check(NULL, "test", "o", &o), NN_OK);
    assert_int_equal(nn__optim_prepare(b, "test", &o), NN_OK);
    for (int step = 0; step < 4; step++) {
        ref_gradients(a);
        ref_gradients(b);
        assert_int_equal(nn_optim_step(a, &o, 0.01f), NN_OK);
        nn__optim_apply(b, &o, 0.01f);
    }
    assert_int_equal(b->optim_steps, 4);
    assert_memory_equal(a->params, b->params, OPTIM_REF_PARAMS * sizeof(float));
    nn_model_destroy(a);
    nn_model_destroy(b);
}

/* ------------------------------------------------------------ the state */

/* A snapshot of what a failed call must leave as it was: parameters, state, step count. */
typedef struct snapshot {
    float params[OPTIM_REF_PARAMS], state[2 * OPTIM_REF_PARAMS];
    long steps;
} snapshot;

static void take(snapshot *s, const nn_model *m)
{
    memcpy(s->params, m->params, sizeof s->params);
    memcpy(s->state, m->optim_state, sizeof s->state);
    s->steps = m->optim_steps;
}

static void assert_unchanged(const snapshot *s, const nn_model *m)
{
    assert_memory_equal(s->params, m->params, sizeof s->params);
    assert_memory_equal(s->state, m->optim_state, sizeof s->state);
    assert_int_equal(s->steps, m->optim_steps);
}

/* Every bad option, learning rate or pointer: NN_ERR_INVALID_ARG, nothing changed. */
static void test_rejects_bad_arguments(void **state)
{
    (void)state;
    nn_model *m = make_ref_model(NULL);
    nn_optim_opts adam = {.kind = NN_OPT_ADAM};
    for (int step = 0; step < 2; step++) {
        ref_gradients(m);
        assert_int_equal(nn_optim_step(m, &adam, 0.01f), NN_OK);
    }
    snapshot before;
    take(&before, m);
    const nn_optimizer SGD = NN_OPT_SGD, ADAM = NN_OPT_ADAM, RMS = NN_OPT_RMSPROP;
    const nn_optim_opts bad[] = {
        {.kind = (nn_optimizer)4}, {.kind = (nn_optimizer)-1},
        /* values out of range */
        {.kind = ADAM, .beta1 = 1.0f}, {.kind = ADAM, .beta1 = -0.1f},
        {.kind = ADAM, .beta1 = NAN}, {.kind = ADAM, .beta2 = 1.0f},
        {.kind = ADAM, .beta2 = INFINITY}, {.kind = ADAM, .eps = -1e-8f},
        {.kind = ADAM, .eps = INFINITY}, {.kind = ADAM, .weight_decay = -0.01f},
        {.kind = ADAM, .weight_decay = NAN}, {.kind = ADAM, .clip_norm = -1.0f},
        {.kind = ADAM, .clip_norm = INFINITY}, {.kind = ADAM, .clip_norm = NAN},
        {.kind = SGD, .momentum = -0.9f}, {.kind = SGD, .momentum = NAN},
        {.kind = SGD, .momentum = INFINITY}, {.kind = SGD, .momentum = 0.9f, .dampening = 1.5f},
        {.kind = SGD, .momentum = 0.9f, .dampening = -0.5f},
        {.kind = RMS, .alpha = 1.0f}, {.kind = RMS, .alpha = -0.5f},
        /* Nesterov needs momentum and no dampening */
        {.kind = SGD, .nesterov = true},
        {.kind = SGD, .momentum = 0.9f, .dampening = 0.1f, .nesterov = true},
        /* fields of another kind */
        {.kind = ADAM, .momentum = 0.9f}, {.kind = NN_OPT_ADAMW, .nesterov = true},
        {.kind = ADAM, .alpha = 0.9f}, {.kind = SGD, .beta1 = 0.9f}, {.kind = SGD, .eps = 1e-8f},
        {.kind = SGD, .alpha = 0.9f}, {.kind = RMS, .beta2 = 0.9f},
        {.kind = RMS, .dampening = 0.1f},
        {.kind = RMS, .momentum = 0.9f, .nesterov = true},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (nn_optim_step(m, &bad[k], 0.01f) != NN_ERR_INVALID_ARG)
            fail_msg("bad options %zu were accepted", k);
        assert_int_equal(nn__optim_check(NULL, "test", "o", &bad[k]), NN_ERR_INVALID_ARG);
        assert_unchanged(&before, m);
    }
    const float bad_rates[] = {-0.01f, NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 4; k++)
        assert_int_equal(nn_optim_step(m, &adam, bad_rates[k]), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_optim_step(m, NULL, 0.01f), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_optim_step(NULL, &adam, 0.01f), NN_ERR_INVALID_ARG);
    assert_int_equal(nn__optim_check(NULL, "test", "o", NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_optim_reset(NULL), NN_ERR_INVALID_ARG);
    assert_unchanged(&before, m);
    /* A learning rate of 0 and the largest in-range values are fine. */
    assert_int_equal(nn_optim_step(m, &adam, 0.0f), NN_OK);
    assert_memory_equal(before.params, m->params, sizeof before.params);
    nn_optim_opts edge = {.kind = ADAM, .beta1 = 0.99999994f, .beta2 = 1e-30f};
    assert_int_equal(nn__optim_check(NULL, "test", "o", &edge), NN_OK);
    edge = (nn_optim_opts){.momentum = 0.9f, .dampening = 1.0f};
    assert_int_equal(nn__optim_check(NULL, "test", "o", &edge), NN_OK);
    nn_model_destroy(m);
}

/* The state belongs to the kind that started it until reset; other hyper-parameters may
 * change between steps. */
static void test_kind_is_kept_until_reset(void **state)
{
    (void)state;
    nn_model *m = make_ref_model(NULL);
    ref_gradients(m);
    nn_optim_opts adam = {.kind = NN_OPT_ADAM};
    assert_int_equal(nn_optim_step(m, &adam, 0.01f), NN_OK);
    snapshot before;
    take(&before, m);
    const nn_optim_opts others[] = {{0}, {.momentum = 0.9f}, {.kind = NN_OPT_ADAMW},
                                    {.kind = NN_OPT_RMSPROP}};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(nn_optim_step(m, &others[k], 0.01f), NN_ERR_INVALID_ARG);
        assert_int_equal(nn__optim_prepare(m, "test", &others[k]), NN_ERR_INVALID_ARG);
        assert_unchanged(&before, m);
    }
    nn_optim_opts adam2 = {.kind = NN_OPT_ADAM, .beta1 = 0.5f, .weight_decay = 0.1f,
                           .clip_norm = 0.1f};
    assert_int_equal(nn_optim_step(m, &adam2, 0.02f), NN_OK);
    assert_int_equal(m->optim_steps, 2);
    assert_int_equal(nn_optim_reset(m), NN_OK);
    assert_int_equal(m->optim_steps, 0);
    assert_int_equal(nn_optim_step(m, &others[1], 0.01f), NN_OK);
    assert_int_equal(m->optim_steps, 1);
    nn_model_destroy(m);
}

/* After a reset the next step is the first of a fresh state: bit for bit what a model that
 * never stepped does from the same parameters and gradients. */
static void test_reset_starts_afresh(void **state)
{
    (void)state;
    const nn_optim_opts kinds[] = {{.momentum = 0.9f},
                                   {.kind = NN_OPT_ADAM},
                                   {.kind = NN_OPT_ADAMW},
                                   {.kind = NN_OPT_RMSPROP, .momentum = 0.5f}};
    for (int k = 0; k < 4; k++) {
        nn_model *used = make_ref_model(NULL), *fresh = make_ref_model(NULL);
        for (int step = 0; step < 3; step++) {
            ref_gradients(used);
            assert_int_equal(nn_optim_step(used, &kinds[(k + 1) % 4], 0.01f), NN_OK);
        }
        assert_int_equal(nn_optim_reset(used), NN_OK);
        memcpy(fresh->params, used->params, OPTIM_REF_PARAMS * sizeof(float));
        for (int step = 0; step < 2; step++) {
            ref_gradients(used);
            ref_gradients(fresh);
            assert_int_equal(nn_optim_step(used, &kinds[k], 0.01f), NN_OK);
            assert_int_equal(nn_optim_step(fresh, &kinds[k], 0.01f), NN_OK);
            assert_memory_equal(used->params, fresh->params, OPTIM_REF_PARAMS * sizeof(float));
        }
        nn_model_destroy(used);
        nn_model_destroy(fresh);
    }
    nn_model *m = make_ref_model(NULL);
    assert_int_equal(nn_optim_reset(m), NN_OK); /* no state yet: nothing to forget */
    nn_model_destroy(m);
}

/* Fail every allocation in turn, model creation and the workspace included: each failure
 * is NN_ERR_NOMEM, a failed step leaves the parameters and the state as they were, and
 * nothing leaks. */
static void test_state_allocation_failure(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = OPTIM_REF_HIDDEN, .act = NN_ACT_TANH},
                             {.units = OPTIM_REF_OUT, .act = NN_ACT_SOFTMAX}};
    nn_mat X = nn_mat_wrap((float *)optim_ref_x, OPTIM_REF_ROWS, OPTIM_REF_IN);
    nn_mat Y = nn_mat_wrap((float *)optim_ref_y, OPTIM_REF_ROWS, 1);
    nn_optim_opts adam = {.kind = NN_OPT_ADAM};
    int step_failures = 0;
    for (long k = 1;; k++) {
        counting_alloc ca = {.fail_at = k};
        nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &ca};
        nn_model *m = NULL;
        nn_status s = nn_model_create(OPTIM_REF_IN, specs, 2, &mo, &m);
        if (s == NN_OK)
            s = nn_forward(m, &X, NULL);
        if (s == NN_OK)
            s = nn_backward(m, &Y, NN_LOSS_CE, NULL);
        float before[OPTIM_REF_PARAMS];
        if (s == NN_OK) {
            memcpy(before, m->params, sizeof before);
            s = nn_optim_step(m, &adam, 0.01f);
            if (s == NN_ERR_NOMEM) {
                step_failures++;
                assert_memory_equal(before, m->params, sizeof before);
                assert_null(m->optim_state);
                assert_int_equal(m->optim_steps, 0);
                assert_int_equal(nn_optim_step(m, &adam, 0.01f), NN_OK); /* it recovers */
            }
        }
        bool done = s == NN_OK;
        if (!done)
            assert_int_equal(s, NN_ERR_NOMEM);
        nn_model_destroy(m);
        assert_int_equal(ca.live_blocks, 0);
        assert_int_equal(ca.live_bytes, 0);
        if (done)
            break;
    }
    assert_int_equal(step_failures, 1);
}

/* The state is allocated once, by the first step that needs it; later steps, other
 * hyper-parameters, resets and steps of another kind after them reuse it. */
static void test_no_allocation_after_first_step(void **state)
{
    (void)state;
    counting_alloc ca = {0};
    nn_model *m = make_ref_model(&ca);
    ref_gradients(m);
    long calls = ca.calls, blocks = ca.live_blocks;
    assert_int_equal(nn_optim_step(m, &(nn_optim_opts){.kind = NN_OPT_ADAM}, 0.01f), NN_OK);
    assert_int_equal(ca.calls, calls + 1);
    assert_int_equal(ca.live_blocks, blocks + 1);
    calls = ca.calls;
    const nn_optim_opts kinds[] = {{.momentum = 0.9f, .clip_norm = 1.0f},
                                   {.kind = NN_OPT_ADAMW, .decay_biases = true},
                                   {.kind = NN_OPT_RMSPROP, .momentum = 0.9f}};
    for (int step = 0; step < 20; step++)
        assert_int_equal(nn_optim_step(m, &(nn_optim_opts){.kind = NN_OPT_ADAM,
                                                           .weight_decay = 0.01f * step},
                                       0.01f), NN_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(nn_optim_reset(m), NN_OK);
        for (int step = 0; step < 5; step++)
            assert_int_equal(nn_optim_step(m, &kinds[k], 0.01f), NN_OK);
    }
    assert_int_equal(ca.calls, calls);
    nn_model_destroy(m);
    assert_int_equal(ca.live_blocks, 0);
}

int main(void)
{
    const struct CMUnitTest pytorch[] = {
        cmocka_unit_test(test_matches_pytorch),
    };
    const struct CMUnitTest by_hand[] = {
        cmocka_unit_test(test_sgd_momentum_by_hand),
        cmocka_unit_test(test_adam_first_step_by_hand),
        cmocka_unit_test(test_weight_decay_by_hand),
        cmocka_unit_test(test_every_parameter_once),
        cmocka_unit_test(test_clip_by_hand),
        cmocka_unit_test(test_plain_sgd_and_internal_entry_points),
    };
    const struct CMUnitTest lifetime[] = {
        cmocka_unit_test(test_rejects_bad_arguments),
        cmocka_unit_test(test_kind_is_kept_until_reset),
        cmocka_unit_test(test_reset_starts_afresh),
        cmocka_unit_test(test_state_allocation_failure),
        cmocka_unit_test(test_no_allocation_after_first_step),
    };
    int failed = cmocka_run_group_tests_name("pytorch", pytorch, NULL, NULL);
    failed += cmocka_run_group_tests_name("by_hand", by_hand, NULL, NULL);
    failed += cmocka_run_group_tests_name("state", lifetime, NULL, NULL);
    return failed;
}
