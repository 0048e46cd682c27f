/* The optimizers: one update of the flat parameter buffer from the flat gradient buffer,
 * following torch.optim (PyTorch 1.13) operation for operation, so that the same float32
 * inputs give the same float32 results up to rounding.
 *
 * The state is one block: a tag naming the kind that owns it, then two buffers laid out as
 * the parameters (m->optim_state points at the first):
 *     kind      s1 (P)                 s2 (P)
 *     SGD       momentum buffer b      unused
 *     Adam(W)   first moment m         second moment v
 *     RMSprop   square average v       momentum buffer b
 * m->optim_steps counts the steps taken with the state (Adam's t); 0 means not started.
 *
 * Shape letters: P the model's parameters, n those of one span (a layer's W, or the rest of
 * its parameters). */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "net/net.h"

typedef struct optim_block {
    nn_optimizer kind; /* the owner, while m->optim_steps > 0 */
    float buf[];       /* (2, P): s1, then s2 */
} optim_block;

static size_t block_bytes(const nn_model *m)
{
    return offsetof(optim_block, buf) + 2 * m->n_params * sizeof(float);
}

static optim_block *block_of(const nn_model *m)
{
    return (optim_block *)(void *)((char *)m->optim_state - offsetof(optim_block, buf));
}

/* ------------------------------------------------------------- options */

static bool nonnegative(float x) /* finite and >= 0 (false for NaN) */
{
    return x >= 0.0f && x <= FLT_MAX;
}

static bool fraction(float x) /* in [0, 1) */
{
    return x >= 0.0f && x < 1.0f;
}

static const char *kind_name(nn_optimizer kind)
{
    return kind == NN_OPT_SGD ? "SGD" : kind == NN_OPT_ADAM ? "Adam"
         : kind == NN_OPT_ADAMW ? "AdamW" : "RMSprop";
}

nn_status nn__optim_check(char *msg, const char *fn, const char *name, const nn_optim_opts *o)
{
    if (!o)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s is NULL", fn, name);
    bool sgd = o->kind == NN_OPT_SGD, rms = o->kind == NN_OPT_RMSPROP;
    bool adam = o->kind == NN_OPT_ADAM || o->kind == NN_OPT_ADAMW;
    if (!sgd && !adam && !rms)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s.kind is %d, not an nn_optimizer "
                        "(0 .. %d)", fn, name, (int)o->kind, (int)NN_OPT_RMSPROP);
    /* Each field: its value, whether it lies in its range, which kinds use it. */
    const struct {
        const char *field;
        float value;
        bool in_range;
        const char *range;
        bool used;
    } fields[] = {
        {"momentum", o->momentum, nonnegative(o->momentum), "finite and >= 0", sgd || rms},
        {"dampening", o->dampening, o->dampening >= 0.0f && o->dampening <= 1.0f, "in [0, 1]", sgd},
        {"beta1", o->beta1, fraction(o->beta1), "in [0, 1)", adam},
        {"beta2", o->beta2, fraction(o->beta2), "in [0, 1)", adam},
        {"alpha", o->alpha, fraction(o->alpha), "in [0, 1)", rms},
        {"eps", o->eps, nonnegative(o->eps), "finite and >= 0", adam || rms},
        {"weight_decay", o->weight_decay, nonnegative(o->weight_decay), "finite and >= 0", true},
        {"clip_norm", o->clip_norm, nonnegative(o->clip_norm), "finite and >= 0", true},
    };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        if (!fields[k].in_range)
            return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s.%s is %g; it must be %s", fn, name,
                            fields[k].field, (double)fields[k].value, fields[k].range);
        /* A field of another kind must stay 0: more likely a mistake than a wish. */
        if (!fields[k].used && fields[k].value != 0.0f)
            return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s.%s is %g, but %s does not use it; "
                            "leave it 0", fn, name, fields[k].field, (double)fields[k].value,
                            kind_name(o->kind));
    }
    if (o->nesterov && !sgd)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s.nesterov is set, but %s does not use "
                        "it", fn, name, kind_name(o->kind));
    /* torch.optim.SGD refuses Nesterov without momentum or with dampening. */
    if (o->nesterov && !(o->momentum > 0.0f && o->dampening == 0.0f))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: %s.nesterov needs momentum > 0 and "
                        "dampening 0 (momentum %g, dampening %g)", fn, name,
                        (double)o->momentum, (double)o->dampening);
    return NN_OK;
}

/* The options with PyTorch's defaults in place of the zeros of the fields the kind uses. */
static nn_optim_opts with_defaults(const nn_optim_opts *o)
{
    nn_optim_opts r = *o;
    bool adam = r.kind == NN_OPT_ADAM || r.kind == NN_OPT_ADAMW;
    if (adam && r.beta1 == 0.0f)
        r.beta1 = 0.9f;
    if (adam && r.beta2 == 0.0f)
        r.beta2 = 0.999f;
    if (r.kind == NN_OPT_RMSPROP && r.alpha == 0.0f)
        r.alpha = 0.99f;
    if (r.kind != NN_OPT_SGD && r.eps == 0.0f)
        r.eps = 1e-8f;
    if (r.kind == NN_OPT_ADAMW && r.weight_decay == 0.0f)
        r.weight_decay = 0.01f;
    return r;
}

/* Plain SGD keeps no state: it neither needs nor allocates any. */
static bool needs_state(const nn_optim_opts *o)
{
    return o->kind != NN_OPT_SGD || o->momentum > 0.0f;
}

/* ------------------------------------------------------------ the state */

nn_status nn__optim_prepare(nn_model *m, const char *fn, const nn_optim_opts *o)
{
    if (m->optim_steps > 0 && block_of(m)->kind != o->kind)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: the optimizer state belongs to %s "
                        "(%ld steps), not %s; call nn_optim_reset to change optimizer", fn,
                        kind_name(block_of(m)->kind), m->optim_steps, kind_name(o->kind));
    if (m->optim_steps > 0 || !needs_state(o))
        return NN_OK;
    if (!m->optim_state) {
        optim_block *block = nn__alloc(m, NULL, 0, block_bytes(m));
        if (!block)
            return nn__no_memory(m, fn, "the optimizer's state");
        m->optim_state = block->buf;
    }
    block_of(m)->kind = o->kind;
    memset(m->optim_state, 0, 2 * m->n_params * sizeof(float));
    return NN_OK;
}

nn_status nn__optim_restore(nn_model *m, nn_optimizer kind, long steps)
{
    if (m->optim_state || steps <= 0)
        return NN_ERR_FORMAT;
    optim_block *block = nn__alloc(m, NULL, 0, block_bytes(m));
    if (!block)
        return NN_ERR_NOMEM;
    block->kind = kind;
    m->optim_state = block->buf;
    m->optim_steps = steps;
    return NN_OK;
}

nn_optimizer nn__optim_kind(const nn_model *m)
{
    return block_of(m)->kind;
}

void nn__optim_free(nn_model *m)
{
    if (m->optim_state)
        nn__alloc(m, block_of(m), block_bytes(m), 0);
    m->optim_state = NULL;
    m->optim_steps = 0;
}

nn_status nn_optim_reset(nn_model *m)
{
    if (!m)
        return NN_ERR_INVALID_ARG;
    m->optim_steps = 0; /* the buffers are zeroed when the next state starts */
    return NN_OK;
}

/* ------------------------------------------------------------- the step */

/* The scalars of one step. Those PyTorch computes in double from Python floats (1 - β,
 * the bias corrections, 1 - lr·wd) are computed in double here too, then rounded once. */
typedef struct step_coefs {
    float lr;
    float clip;           /* c, the gradients' scale: 1 without clipping */
    float momentum;       /* μ */
    float keep;           /* 1 - dampening */
    bool nesterov;
    bool first;           /* SGD: the momentum buffer starts as the gradient */
    float beta1, one_minus_beta1, beta2, one_minus_beta2;
    float step_size;      /* Adam: lr / (1 - β1^t) */
    float bc2_sqrt;       /* Adam: sqrt(1 - β2^t) */
    float alpha, one_minus_alpha;
    float eps;
} step_coefs;

/* One contiguous run of parameters that share a weight decay: a layer's W, or its b and
 * whatever else the layer learns. */
typedef struct span {
    size_t n;
    float *p;        /* (n) parameters */
    const float *dp; /* (n) their gradients */
    float *s1, *s2;  /* (n) state, NULL for plain SGD */
    float decay;     /* wd; 0 for the rest of a layer without decay_biases */
} span;

/* torch.nn.utils.clip_grad_norm_: c = clip_norm / (‖g‖ + 1e-6) over all the gradients as
 * one vector, used only if below 1. The squares are summed in double so that no precision
 * is lost over P terms; the norm is then rounded to float, as PyTorch's is. */
static float clip_scale(const nn_model *m, float clip_norm)
{
    if (clip_norm == 0.0f)
        return 1.0f;
    double sum = 0.0;
    for (size_t i = 0; i < m->n_params; i++)
        sum += (double)m->grads[i] * m->grads[i];
    float c = clip_norm / ((float)sqrt(sum) + 1e-6f);
    return c < 1.0f ? c : 1.0f;
}

/* Plain SGD's update, p -= lr·g: its hot loop, kept free of branches and of
 * possible aliasing so that it vectorises. */
void nn__plain_sgd(float *restrict p, const float *restrict g, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++)
        p[i] -= lr * g[i];
}

typedef struct plain_job {
    float *p;
    const float *g;
    float lr;
} plain_job;

static void plain_range(void *ctx, size_t lo, size_t hi)
{
    const plain_job *j = ctx;
    nn__plain_sgd(j->p + lo, j->g + lo, hi - lo, j->lr);
}

static void sgd_update(const step_coefs *c, const span *s)
{
    for (size_t i = 0; i < s->n; i++) {
        float g = c->clip * s->dp[i] + s->decay * s->p[i];                 /* g + wd·p */
        if (c->momentum > 0.0f) {
            float b = c->first ? g : c->momentum * s->s1[i] + c->keep * g; /* μ·b + (1-d)·g */
            s->s1[i] = b;
            g = c->nesterov ? g + c->momentum * b : b;
        }
        s->p[i] -= c->lr * g;                                              /* p - lr·g */
    }
}

/* Adam when shrink is 1; AdamW when the decay is given as shrink = 1 - lr·wd and l2 is 0. */
static void adam_update(const step_coefs *c, const span *s, float l2, float shrink)
{
    for (size_t i = 0; i < s->n; i++) {
        float g = c->clip * s->dp[i] + l2 * s->p[i];                 /* g + wd·p */
        float m = c->beta1 * s->s1[i] + c->one_minus_beta1 * g;     /* β1·m + (1-β1)·g */
        float v = c->beta2 * s->s2[i] + c->one_minus_beta2 * g * g; /* β2·v + (1-β2)·g² */
        float denom = sqrtf(v) / c->bc2_sqrt + c->eps;               /* sqrt(v)/sqrt(1-β2^t) + ε */
        s->s1[i] = m;
        s->s2[i] = v;
        s->p[i] = s->p[i] * shrink - c->step_size * m / denom;      /* p - lr/(1-β1^t)·m/denom */
    }
}

static void rmsprop_update(const step_coefs *c, const span *s)
{
    for (size_t i = 0; i < s->n; i++) {
        float g = c->clip * s->dp[i] + s->decay * s->p[i];            /* g + wd·p */
        float v = c->alpha * s->s1[i] + c->one_minus_alpha * g * g;   /* α·v + (1-α)·g² */
        float a = sqrtf(v) + c->eps;                                  /* sqrt(v) + ε */
        s->s1[i] = v;
        if (c->momentum > 0.0f) {
            float b = c->momentum * s->s2[i] + g / a;                 /* μ·b + g/a */
            s->s2[i] = b;
            s->p[i] -= c->lr * b;                                     /* p - lr·b */
        } else {
            s->p[i] -= c->lr * g / a;                                 /* p - lr·g/a */
        }
    }
}

static void update(nn_optimizer kind, const step_coefs *c, const span *s)
{
    switch (kind) {
    case NN_OPT_SGD:
        sgd_update(c, s);
        break;
    case NN_OPT_ADAM:
        adam_update(c, s, s->decay, 1.0f);
        break;
    case NN_OPT_ADAMW:
        adam_update(c, s, 0.0f, (float)(1.0 - (double)c->lr * s->decay));
        break;
    case NN_OPT_RMSPROP:
        rmsprop_update(c, s);
        break;
    }
}

/* A span of n parameters starting at offset `at` of the flat buffers. */
static span span_at(const nn_model *m, size_t at, size_t n, float decay)
{
    float *s1 = m->optim_state;
    return (span){.n = n, .p = m->params + at, .dp = m->grads + at,
                  .s1 = s1 ? s1 + at : NULL, .s2 = s1 ? s1 + m->n_params + at : NULL,
                  .decay = decay};
}

typedef struct apply_job {
    const nn_model *m;
    const nn_optim_opts *o; /* with its defaults */
    const step_coefs *c;
} apply_job;

/* The update of parameters lo..hi. Each layer's W, then the rest of its parameters (b,
 * PReLU's slopes) up to the next layer's W, as far as they lie in lo..hi: W decayed, the rest
 * only with decay_biases. */
static void apply_range(void *ctx, size_t lo, size_t hi)
{
    const apply_job *j = ctx;
    const nn_model *m = j->m;
    float rest_decay = j->o->decay_biases ? j->o->weight_decay : 0.0f;
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t at = (size_t)(L->W - m->params), mid = at + (size_t)L->n_out * L->n_in;
        size_t end = l + 1 < m->n_layers ? (size_t)(m->layers[l + 1].W - m->params) : m->n_params;
        size_t from[2] = {at, mid}, to[2] = {mid, end};
        for (int k = 0; k < 2; k++) {
            size_t a = from[k] > lo ? from[k] : lo, b = to[k] < hi ? to[k] : hi;
            if (a < b) {
                span s = span_at(m, a, b - a, k == 0 ? j->o->weight_decay : rest_decay);
                update(j->o->kind, j->c, &s);
            }
        }
    }
}

bool nn__optim_is_plain(const nn_optim_opts *o)
{
    return o->kind == NN_OPT_SGD && o->momentum == 0.0f && o->weight_decay == 0.0f &&
           o->clip_norm == 0.0f;
}

/* Every parameter's update depends on its own gradient and state alone (clipping's scale is
 * summed first, on the caller), so the parameters are cut into ranges over the model's threads,
 * in runs of 16 (a cache line's worth). Plain SGD streams 2 floats per parameter, the others 4:
 * that sets how many parameters a part needs to be worth a hand-off. */
void nn__optim_apply(nn_model *m, const nn_optim_opts *opts, float lr)
{
    if (nn__optim_is_plain(opts)) { /* the same arithmetic, one loop */
        plain_job j = {m->params, m->grads, lr};
        nn__pool_for(m->pool, m->n_params, 16, nn__min_items(2), plain_range, &j);
        return;
    }
    nn_optim_opts o = with_defaults(opts);
    double t = (double)m->optim_steps + 1.0;
    double bc1 = 1.0 - pow(o.beta1, t), bc2 = 1.0 - pow(o.beta2, t); /* Adam's bias corrections */
    step_coefs c = {
        .lr = lr, .clip = clip_scale(m, o.clip_norm), .momentum = o.momentum,
        .keep = (float)(1.0 - o.dampening), .nesterov = o.nesterov,
        .first = m->optim_steps == 0,
        .beta1 = o.beta1, .one_minus_beta1 = (float)(1.0 - o.beta1),
        .beta2 = o.beta2, .one_minus_beta2 = (float)(1.0 - o.beta2),
        .step_size = (float)(lr / bc1), .bc2_sqrt = (float)sqrt(bc2),
        .alpha = o.alpha, .one_minus_alpha = (float)(1.0 - o.alpha), .eps = o.eps,
    };
    apply_job j = {m, &o, &c};
    nn__pool_for(m->pool, m->n_params, 16, nn__min_items(4), apply_range, &j);
    if (needs_state(&o))
        m->optim_steps++;
}

nn_status nn_optim_step(nn_model *m, const nn_optim_opts *opts, float learning_rate)
{
    const char *fn = "nn_optim_step";
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!nonnegative(learning_rate))
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: learning_rate is %g; it must be "
                        "finite and >= 0", fn, (double)learning_rate);
    nn_status s = nn__optim_check(m->errmsg, fn, "opts", opts);
    if (s == NN_OK)
        s = nn__optim_prepare(m, fn, opts);
    if (s == NN_OK)
        nn__optim_apply(m, opts, learning_rate);
    return s;
}
