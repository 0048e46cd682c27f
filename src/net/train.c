/* The training loop (mini-batch SGD), prediction and evaluation.
 * Shape letters: N samples, B batch rows, I model inputs, O model outputs. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <math.h>
#include <string.h>
#include <time.h>

#include "net/net.h"

/* Rows processed at once by predict and evaluate: bounds their workspace. */
enum { CHUNK_ROWS = 256 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nn_train_opts nn_train_defaults(void)
{
    return (nn_train_opts){.epochs = 10, .batch_size = 32, .learning_rate = 0.01f,
                           .loss = NN_LOSS_AUTO};
}

/* Units the accuracy counts: samples for CE, elements for BCE, none for MSE. */
static long hit_units(nn_loss loss, long rows, int O)
{
    return loss == NN_LOSS_CE ? rows : loss == NN_LOSS_BCE ? rows * O : 0;
}

/* The learning rate of epoch e (0-based) under the options' schedule. */
static float scheduled_rate(const nn_train_opts *o, int e)
{
    const nn_schedule *s = &o->schedule;
    double lr = o->learning_rate;
    if (s->kind == NN_SCHED_STEP)
        lr *= pow(s->gamma > 0.0f ? s->gamma : 0.1, e / (s->step_epochs > 0 ? s->step_epochs : 10));
    else if (s->kind == NN_SCHED_EXPONENTIAL)
        lr *= pow(s->gamma > 0.0f ? s->gamma : 0.95, e);
    else if (s->kind == NN_SCHED_COSINE) {
        int period = s->period_epochs > 0 ? s->period_epochs : o->epochs;
        double t = period > 0 && e < period ? (double)e / period : 1.0; /* then stays at min */
        lr = s->min_lr + (lr - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
    }
    if (e < s->warmup_epochs)
        lr *= (e + 1.0) / (s->warmup_epochs + 1.0);
    return (float)lr;
}

/* One epoch of steps over the samples in `order`; sums the loss (weighted by batch rows)
 * and the hits. NN_ERR_DIVERGED before an update whose loss or gradient is not finite. */
static nn_status run_epoch(nn_model *m, const nn_mat *X, const nn_mat *Y, const int *order,
                           int N, float *Ybuf, const nn_train_opts *o, nn_loss loss, float lr,
                           double *loss_sum, long *hits)
{
    for (int start = 0; start < N; start += o->batch_size) {
        int B = N - start < o->batch_size ? N - start : o->batch_size;
        nn__batch batch = {X, Y, order + start, B, Ybuf, loss, o->class_weights};
        long batch_hits = 0;
        double value;
        nn_status s = nn__train_step(m, &batch, &o->optim, lr, &value, &batch_hits);
        if (s != NN_OK)
            return nn__fail(m->errmsg, s, "nn_train: in epoch %d, the batch of rows %d .. %d "
                            "gave a loss of %g or a gradient that is not finite (the data is "
                            "finite): lower opts.learning_rate (%g this epoch), or clip the "
                            "gradients with opts.optim.clip_norm", m->run_epochs + 1, start,
                            start + B - 1, value, (double)lr);
        *loss_sum += value * B;
        *hits += batch_hits;
    }
    return NN_OK;
}

static bool finite_nonnegative(float x)
{
    return isfinite(x) && x >= 0.0f;
}

static nn_status check_opts(const nn_model *m, const nn_train_opts *o)
{
    const char *fn = "nn_train";
    const nn_schedule *s = &o->schedule;
    char *msg = m->errmsg;
    if (o->epochs < 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.epochs is %d; it must be >= 0", fn,
                        o->epochs);
    if (o->batch_size <= 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.batch_size is %d; it must be > 0",
                        fn, o->batch_size);
    if (!finite_nonnegative(o->learning_rate))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.learning_rate is %g; it must be "
                        "finite and >= 0", fn, (double)o->learning_rate);
    if (!nn__loss_valid(o->loss))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.loss is %d, not an nn_loss (0 .. %d)",
                        fn, (int)o->loss, (int)NN_LOSS_CE);
    if (s->kind < NN_SCHED_CONSTANT || s->kind > NN_SCHED_COSINE)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.schedule.kind is %d, not an "
                        "nn_schedule_kind (0 .. %d)", fn, (int)s->kind, (int)NN_SCHED_COSINE);
    if (s->step_epochs < 0 || s->period_epochs < 0 || s->warmup_epochs < 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.schedule has step_epochs %d, "
                        "period_epochs %d, warmup_epochs %d; each must be >= 0", fn,
                        s->step_epochs, s->period_epochs, s->warmup_epochs);
    if (!finite_nonnegative(s->gamma) || !finite_nonnegative(s->min_lr))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.schedule has gamma %g, min_lr %g; "
                        "each must be finite and >= 0", fn, (double)s->gamma,
                        (double)s->min_lr);
    if (!(o->val_split >= 0.0f && o->val_split < 1.0f))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.val_split is %g; it must be in "
                        "[0, 1)", fn, (double)o->val_split);
    if (o->X_val && o->val_split > 0.0f)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.X_val is given and opts.val_split "
                        "is %g; give one validation set, not both", fn, (double)o->val_split);
    if (!o->X_val != !o->Y_val)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.%s is given without opts.%s; a "
                        "validation set needs both", fn, o->X_val ? "X_val" : "Y_val",
                        o->X_val ? "Y_val" : "X_val");
    if (o->patience < 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.patience is %d; it must be >= 0",
                        fn, o->patience);
    if (o->patience > 0 && !o->X_val && o->val_split == 0.0f)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "%s: opts.patience is %d, but there is no "
                        "validation set to watch: set opts.val_split or opts.X_val and Y_val",
                        fn, o->patience);
    return nn__optim_check(msg, fn, "opts.optim", &o->optim);
}

/* What one nn_train call works with, in one allocation: the training rows (a fixed list, then
 * this epoch's order of it), the gathered targets of a batch, the held-out rows of a
 * val_split, and the best weights for early stopping. */
typedef struct run {
    int n_train, n_val;
    int *rows;       /* (n_train) the rows trained on */
    int *order;      /* (n_train) this epoch's order of them */
    float *Ybatch;   /* (B, Y cols) */
    nn_mat X_val, Y_val;
    float *best;     /* (n_params) or NULL */
    void *block;
    size_t bytes;
} run;

/* Splits rows 0..N-1 into training and validation rows (val_split: a seeded draw that
 * depends on shuffle_seed alone, so a resumed run gets the same split) and allocates. */
static nn_status run_begin(nn_model *m, const nn_mat *X, const nn_mat *Y,
                           const nn_train_opts *o, run *r)
{
    int N = X->rows, B = o->batch_size < N ? o->batch_size : N;
    r->n_val = o->val_split > 0.0f ? (int)(o->val_split * (float)N) : 0;
    r->n_train = N - r->n_val;
    if (o->val_split > 0.0f && (r->n_val < 1 || r->n_train < 1))
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_train: opts.val_split %g of %d rows "
                        "leaves %d for validation and %d for training; each needs at least 1",
                        (double)o->val_split, N, r->n_val, r->n_train);
    size_t ints = 2 * (size_t)N, floats = (size_t)B * Y->cols +
                                          (size_t)r->n_val * (X->cols + Y->cols) +
                                          (o->patience > 0 ? m->n_params : 0);
    r->bytes = ints * sizeof(int) + floats * sizeof(float);
    r->block = nn__alloc(m, NULL, 0, r->bytes);
    if (!r->block)
        return nn__no_memory(m, "nn_train", "the run's row order and batch targets");
    r->rows = r->block;
    r->order = r->rows + N;
    r->Ybatch = (float *)(r->order + N);
    float *val_x = r->Ybatch + (size_t)B * Y->cols, *val_y = val_x + (size_t)r->n_val * X->cols;
    r->best = o->patience > 0 ? val_y + (size_t)r->n_val * Y->cols : NULL;
    for (int i = 0; i < N; i++)
        r->rows[i] = i;
    if (r->n_val > 0) {
        nn_rng split;
        nn_rng_seed(&split, o->shuffle_seed ^ 0x76616c5f73706c74ull); /* "val_splt" */
        nn__shuffle(r->rows, N, &split);
        nn__gather(m->pool, val_x, X->data, X->cols, r->rows + r->n_train, r->n_val);
        nn__gather(m->pool, val_y, Y->data, Y->cols, r->rows + r->n_train, r->n_val);
        r->X_val = nn_mat_wrap(val_x, r->n_val, X->cols);
        r->Y_val = nn_mat_wrap(val_y, r->n_val, Y->cols);
    }
    return NN_OK;
}

static nn_status evaluate_rows(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                               double *loss_value, double *accuracy);

nn_status nn_train(nn_model *m, const nn_mat *X, const nn_mat *Y, const nn_train_opts *opts)
{
    nn_train_opts o = opts ? *opts : nn_train_defaults();
    nn_loss loss;
    if (!m)
        return NN_ERR_INVALID_ARG;
    nn_status s = check_opts(m, &o);
    if (s == NN_OK)
        s = nn__check_data(m, "nn_train", X, "X", Y, "Y", o.loss, &loss);
    if (s == NN_OK)
        s = nn__check_class_weights(m->errmsg, "nn_train", "opts.class_weights", loss,
                                    nn__out_layer(m)->n_out, o.class_weights,
                                    o.n_class_weights);
    if (s == NN_OK && o.X_val) {
        nn_loss val_loss;
        s = nn__check_data(m, "nn_train", o.X_val, "opts.X_val", o.Y_val, "opts.Y_val", o.loss,
                           &val_loss);
    }
    run r = {0};
    if (s == NN_OK)
        s = run_begin(m, X, Y, &o, &r);
    if (s != NN_OK)
        return s;
    const nn_mat *X_val = o.X_val ? o.X_val : r.n_val ? &r.X_val : NULL;
    const nn_mat *Y_val = o.X_val ? o.Y_val : &r.Y_val;
    /* Room for a training batch and for an evaluation chunk, so no epoch grows it. */
    int O = nn__out_layer(m)->n_out, rows = o.batch_size < r.n_train ? o.batch_size : r.n_train;
    if (X_val && rows < (X_val->rows < CHUNK_ROWS ? X_val->rows : CHUNK_ROWS))
        rows = X_val->rows < CHUNK_ROWS ? X_val->rows : CHUNK_ROWS;
    int batch_rows = o.batch_size < r.n_train ? o.batch_size : r.n_train;
    s = nn__reserve(m, rows, batch_rows);
    if (s != NN_OK) {
        nn__alloc(m, r.block, r.bytes, 0);
        return nn__no_memory(m, "nn_train", "the workspace");
    }
    if (!o.resume) { /* a new run: epoch 0, fresh random stream, fresh optimizer state */
        m->run_epochs = 0;
        nn_rng_seed(&m->run_rng, o.shuffle_seed);
        nn_optim_reset(m);
    }
    s = nn__optim_prepare(m, "nn_train", &o.optim); /* the optimizer's buffers, before any step */
    if (s != NN_OK) {
        nn__alloc(m, r.block, r.bytes, 0);
        return s;
    }
    m->batch = 0; /* the workspace is about to hold training batches */
    double best_val = INFINITY;
    int since_best = 0;

    while (m->run_epochs < o.epochs && s == NN_OK) {
        double t0 = o.on_epoch ? now_seconds() : 0.0, loss_sum = 0.0; /* for info.seconds */
        long hits = 0;
        float lr = scheduled_rate(&o, m->run_epochs);
        /* Each epoch shuffles the fixed row list afresh, so the order depends on the random
         * stream alone: what a checkpoint saves is enough to resume it. */
        memcpy(r.order, r.rows, (size_t)r.n_train * sizeof *r.order);
        if (!o.no_shuffle)
            nn__shuffle(r.order, r.n_train, &m->run_rng);
        s = run_epoch(m, X, Y, r.order, r.n_train, r.Ybatch, &o, loss, lr, &loss_sum, &hits);
        if (s != NN_OK)
            break;
        m->run_epochs++;
        long units = hit_units(loss, r.n_train, O);
        nn_epoch_info info = {.epoch = m->run_epochs, .epochs = o.epochs,
                              .loss = loss_sum / r.n_train,
                              .accuracy = units ? (double)hits / (double)units : NAN,
                              .learning_rate = lr, .val_loss = NAN, .val_accuracy = NAN};
        if (X_val)
            s = evaluate_rows(m, X_val, Y_val, loss, &info.val_loss, &info.val_accuracy);
        info.seconds = o.on_epoch ? now_seconds() - t0 : 0.0;
        bool stop = s != NN_OK;
        if (r.best) { /* early stopping: remember the best epoch, give up after patience */
            if (info.val_loss < best_val) {
                best_val = info.val_loss;
                since_best = 0;
                memcpy(r.best, m->params, m->n_params * sizeof(float));
            } else {
                since_best++;
            }
            stop = stop || since_best >= o.patience;
        }
        if (o.on_epoch && o.on_epoch(o.user, &info) != 0)
            stop = true;
        if (stop)
            break;
    }
    if (s == NN_OK && r.best && best_val < INFINITY)
        memcpy(m->params, r.best, m->n_params * sizeof(float));
    nn__alloc(m, r.block, r.bytes, 0);
    return s;
}

nn_status nn_predict(nn_model *m, const nn_mat *X, nn_mat *Out)
{
    const char *fn = "nn_predict";
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!nn__mat_ok(X))
        return nn__bad_mat(m, fn, "X", X);
    if (!nn__mat_ok(Out))
        return nn__bad_mat(m, fn, "Out", Out);
    int N = X->rows, O = nn__out_layer(m)->n_out;
    if (X->cols != m->n_in)
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: X has %d columns; the model takes %d "
                        "inputs", fn, X->cols, m->n_in);
    if (Out->rows != N || Out->cols != O)
        return nn__fail(m->errmsg, NN_ERR_SHAPE, "%s: Out is (%d, %d); for X of %d rows and "
                        "the model's %d outputs it must be (%d, %d)", fn, Out->rows, Out->cols,
                        N, O, N, O);
    if (nn__reserve(m, N < CHUNK_ROWS ? N : CHUNK_ROWS, 0) != NN_OK)
        return nn__no_memory(m, fn, "the workspace");
    m->batch = 0;
    for (int start = 0; start < N; start += m->cap) {
        int B = N - start < m->cap ? N - start : m->cap;
        nn__forward(m, X->data + (size_t)start * m->n_in, B, false);
        memcpy(Out->data + (size_t)start * O, nn__out_layer(m)->A, (size_t)B * O * sizeof(float));
    }
    return NN_OK;
}

/* Mean loss and accuracy of X, Y, already checked, in chunks of the workspace. */
static nn_status evaluate_rows(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                               double *loss_value, double *accuracy)
{
    if (nn__reserve(m, X->rows < CHUNK_ROWS ? X->rows : CHUNK_ROWS, 0) != NN_OK)
        return nn__no_memory(m, "nn_evaluate", "the workspace");
    m->batch = 0;
    int N = X->rows, O = nn__out_layer(m)->n_out;
    double total = 0.0;
    long hits = 0;
    for (int start = 0; start < N; start += m->cap) {
        int B = N - start < m->cap ? N - start : m->cap;
        long chunk_hits = 0;
        nn__forward(m, X->data + (size_t)start * m->n_in, B, false);
        /* Every loss is a mean over rows (times O), so chunk means weighted by rows add up. */
        total += B * nn__forward_loss(m, B, Y->data + (size_t)start * Y->cols, Y->cols, loss,
                                      &chunk_hits);
        hits += chunk_hits;
    }
    long units = hit_units(loss, N, O);
    if (loss_value)
        *loss_value = total / N;
    if (accuracy)
        *accuracy = units ? (double)hits / (double)units : NAN;
    return NN_OK;
}

nn_status nn_evaluate(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                      double *loss_value, double *accuracy)
{
    if (!m)
        return NN_ERR_INVALID_ARG;
    nn_status s = nn__check_data(m, "nn_evaluate", X, "X", Y, "Y", loss, &loss);
    if (s != NN_OK)
        return s;
    return evaluate_rows(m, X, Y, loss, loss_value, accuracy);
}
