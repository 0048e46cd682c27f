/* results_hash: the results of every training path, as hashes to compare builds with.
 *
 * Trains a fixed set of configurations — one per training path and feature of nn_train, plus
 * own loops of nn_forward / nn_backward / nn_optim_step — on small synthetic data drawn from
 * nn_rng with fixed seeds, and prints one line per configuration:
 *
 *     <name> params=<count> hash=<FNV-1a 64 of the parameters> pred=<FNV-1a 64 of predictions>
 *
 * hash covers the bytes of the model's parameter buffer (nn_model_params) after training,
 * pred the bytes of nn_predict's output for a fixed input. A change to the library that
 * leaves its results bit-identical leaves every line unchanged; bench/results_hash.sh runs
 * this program and the examples so that two builds can be diffed. Lines starting with '#'
 * are comments (epochs an early stop ran). Only the public API of nn.h is used, so that the
 * program builds against any version of the internals. Every configuration takes well under
 * a second. Exits non-zero, with a message on stderr, if any call fails.
 *
 *   usage: results_hash */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <nn.h>

enum { MAX_LAYERS = 4, DEFAULT_ROWS = 256, FIXED_ROWS = 16, FIXED_SEED = 7 };

/* ================================================================ data */

/* What the targets of a data set are. */
typedef enum target {
    T_CLASS,  /* class indices (N, 1) from the argmax of a random linear teacher */
    T_ONEHOT, /* the same classes as one-hot rows (N, K) */
    T_BINARY, /* K independent 0/1 targets: the teacher's outputs > 0 */
    T_REAL,   /* K real targets: the teacher's outputs plus a little noise */
    T_XOR,    /* the four XOR samples (the configuration's rows are ignored) */
} target;

/* A data set: X (N, n_in) and Y, both allocated with nn_mat_alloc. */
typedef struct data {
    nn_mat X, Y;
} data;

/* Frees what make_data allocated. */
static void free_data(data *d)
{
    nn_mat_free(&d->X);
    nn_mat_free(&d->Y);
}

/* Fills X with N(0, 1) numbers, or uniform ones in [0, 1) (pixels), from rng. */
static void fill_inputs(nn_mat *X, bool pixels, nn_rng *rng)
{
    size_t n = (size_t)X->rows * (size_t)X->cols;
    for (size_t i = 0; i < n; i++)
        X->data[i] = pixels ? nn_rng_uniform(rng) : nn_rng_normal(rng);
}

/* z (n_out) = the teacher T (n_out, n_in) applied to row x, summed in a fixed order. */
static void teach(const float *T, const float *x, int n_in, int n_out, float *z)
{
    for (int j = 0; j < n_out; j++) {
        float sum = 0.0f;
        for (int i = 0; i < n_in; i++)
            sum += T[j * n_in + i] * x[i];
        z[j] = sum;
    }
}

/* The index of the largest of z[0 .. n-1] (the first on ties). */
static int argmax(const float *z, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (z[j] > z[best])
            best = j;
    return best;
}

/* Writes row r's targets of kind t from the teacher's outputs z (n_out). */
static void set_targets(nn_mat *Y, int r, target t, const float *z, int n_out, nn_rng *rng)
{
    float *y = Y->data + (size_t)r * (size_t)Y->cols;
    if (t == T_CLASS) {
        y[0] = (float)argmax(z, n_out);
        return;
    }
    int k = argmax(z, n_out);
    for (int j = 0; j < n_out; j++) {
        if (t == T_ONEHOT)
            y[j] = j == k ? 1.0f : 0.0f;
        else if (t == T_BINARY)
            y[j] = z[j] > 0.0f ? 1.0f : 0.0f;
        else
            y[j] = 0.5f * z[j] + 0.1f * nn_rng_normal(rng);
    }
}

/* The four XOR samples. */
static nn_status make_xor(data *d)
{
    static const float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0};
    nn_status s = nn_mat_alloc(&d->X, 4, 2);
    if (s == NN_OK)
        s = nn_mat_alloc(&d->Y, 4, 1);
    for (int i = 0; s == NN_OK && i < 8; i++)
        d->X.data[i] = x[i];
    for (int i = 0; s == NN_OK && i < 4; i++)
        d->Y.data[i] = y[i];
    return s;
}

/* A data set of `rows` samples of n_in inputs and n_out outputs with targets of kind t,
 * drawn from seed alone. */
static nn_status make_data(data *d, int rows, int n_in, int n_out, target t, bool pixels,
                           uint64_t seed)
{
    *d = (data){0};
    if (t == T_XOR)
        return make_xor(d);
    float *T = malloc((size_t)n_out * (size_t)n_in * sizeof *T);
    float *z = malloc((size_t)n_out * sizeof *z);
    nn_status s = T && z ? NN_OK : NN_ERR_NOMEM;
    if (s == NN_OK)
        s = nn_mat_alloc(&d->X, rows, n_in);
    if (s == NN_OK)
        s = nn_mat_alloc(&d->Y, rows, t == T_CLASS ? 1 : n_out);
    if (s == NN_OK) {
        nn_rng rng;
        nn_rng_seed(&rng, seed);
        fill_inputs(&d->X, pixels, &rng);
        for (int i = 0; i < n_out * n_in; i++)
            T[i] = nn_rng_normal(&rng);
        for (int r = 0; r < rows; r++) {
            const float *x = d->X.data + (size_t)r * (size_t)n_in;
            teach(T, x, n_in, n_out, z);
            set_targets(&d->Y, r, t, z, n_out, &rng);
        }
    }
    free(T);
    free(z);
    if (s != NN_OK)
        free_data(d);
    return s;
}

/* ============================================================ hashing */

/* FNV-1a 64 of n bytes, continuing from h (start with FNV_OFFSET). */
#define FNV_OFFSET 0xcbf29ce484222325u
static uint64_t fnv1a(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* The hash of the model's output for FIXED_ROWS rows drawn from FIXED_SEED. */
static nn_status predict_hash(nn_model *model, bool pixels, uint64_t *hash)
{
    nn_mat X = {0}, P = {0};
    nn_status s = nn_mat_alloc(&X, FIXED_ROWS, nn_model_inputs(model));
    if (s == NN_OK)
        s = nn_mat_alloc(&P, FIXED_ROWS, nn_model_outputs(model));
    if (s == NN_OK) {
        nn_rng rng;
        nn_rng_seed(&rng, FIXED_SEED);
        fill_inputs(&X, pixels, &rng);
        s = nn_predict(model, &X, &P);
    }
    if (s == NN_OK)
        *hash = fnv1a(FNV_OFFSET, P.data, (size_t)P.rows * (size_t)P.cols * sizeof *P.data);
    nn_mat_free(&X);
    nn_mat_free(&P);
    return s;
}

/* Prints the configuration's line: parameter count, parameter hash, prediction hash. */
static nn_status report(const char *name, nn_model *model, bool pixels)
{
    float *params = NULL, *grads = NULL;
    size_t n = nn_model_params(model, &params, &grads);
    uint64_t pred = 0;
    nn_status s = predict_hash(model, pixels, &pred);
    if (s == NN_OK)
        printf("%s params=%zu hash=%016" PRIx64 " pred=%016" PRIx64 "\n", name, n,
               fnv1a(FNV_OFFSET, params, n * sizeof *params), pred);
    return s;
}

/* ====================================================== configurations */

/* One configuration trained by one nn_train call. */
typedef struct config {
    const char *name;
    int n_in, n_layers;
    nn_layer_spec layers[MAX_LAYERS];
    uint64_t seed;       /* nn_model_opts.seed */
    int threads;         /* nn_model_opts.threads */
    target target;       /* the kind of targets */
    int rows;            /* samples (0: DEFAULT_ROWS) */
    bool pixels;         /* inputs uniform in [0, 1) rather than N(0, 1) */
    bool explicit_val;   /* pass a separate validation set as X_val, Y_val */
    int stop_after;      /* the epoch callback stops training after this many epochs (0: never) */
    nn_status expect;    /* what nn_train must return: NN_OK, or NN_ERR_DIVERGED */
    nn_train_opts train; /* epochs, batch_size, learning_rate and whatever else is set */
} config;

#define L(u, a) {.units = (u), .act = (a)}
#define LP(u, a, p) {.units = (u), .act = (a), .act_param = (p)}
#define LI(u, a, i, p) {.units = (u), .act = (a), .init = (i), .init_param = (p)}
#define LD(u, a, d) {.units = (u), .act = (a), .dropout = (d)}
#define SGD(e, b, lr) .epochs = (e), .batch_size = (b), .learning_rate = (lr)

/* The base network of the optimizer lines: 8-16-16-3, tanh and ReLU, softmax + CE. */
#define OPT_NET .n_in = 8, .n_layers = 3, \
    .layers = {L(16, NN_ACT_TANH), L(16, NN_ACT_RELU), L(3, NN_ACT_SOFTMAX)}, .seed = 3
/* The network of the activation lines: 8-16-16-3 with act twice, linear output + MSE. */
#define ACT_NET(a, p) .n_in = 8, .n_layers = 3, \
    .layers = {LP(16, a, p), LP(16, a, p), L(3, NN_ACT_LINEAR)}, .seed = 4, .target = T_REAL
/* The network of the init lines: 8-16-16-3, tanh and ReLU hidden layers drawn by init. */
#define INIT_NET(i, p) .n_in = 8, .n_layers = 3, \
    .layers = {LI(16, NN_ACT_TANH, i, p), LI(16, NN_ACT_RELU, i, p), L(3, NN_ACT_SOFTMAX)}, \
    .seed = 5
/* The W-fmnist MLP, 784-256-128-10, ReLU, softmax + CE, on 512 synthetic "pixel" rows. */
#define FMNIST_NET .n_in = 784, .n_layers = 3, \
    .layers = {L(256, NN_ACT_RELU), L(128, NN_ACT_RELU), L(10, NN_ACT_SOFTMAX)}, .seed = 1, \
    .rows = 512, .pixels = true
/* A mid-size network for the threaded Adam lines: 64-128-128-10. */
#define MID_NET .n_in = 64, .n_layers = 3, \
    .layers = {L(128, NN_ACT_RELU), L(128, NN_ACT_RELU), L(10, NN_ACT_SOFTMAX)}, .seed = 6, \
    .rows = 320

static const config CONFIGS[] = {
    /* The benchmarks' and the xor example's set-ups. */
    {"w_xor", 2, 2, {L(4, NN_ACT_TANH), L(1, NN_ACT_SIGMOID)}, .seed = 42, .target = T_XOR,
     .train = {SGD(1000, 1, 0.1f)}},
    {"example_xor", 2, 2, {L(4, NN_ACT_TANH), L(1, NN_ACT_SIGMOID)}, .seed = 42,
     .target = T_XOR, .train = {SGD(2000, 4, 0.5f), .loss = NN_LOSS_BCE}},
    {"w_fmnist_threads1", FMNIST_NET, .threads = 1, .train = {SGD(2, 64, 0.05f), .shuffle_seed = 1}},
    {"w_fmnist_threads2", FMNIST_NET, .threads = 2, .train = {SGD(2, 64, 0.05f), .shuffle_seed = 1}},

    /* Plain SGD: fused into the products (batches up to 256 rows) or not, and at batch 1. */
    {"sgd_batch32", OPT_NET, .train = {SGD(3, 32, 0.05f)}},
    {"sgd_batch256", OPT_NET, .rows = 600, .train = {SGD(3, 256, 0.1f)}},
    {"sgd_batch257", OPT_NET, .rows = 600, .train = {SGD(3, 257, 0.1f)}},
    {"sgd_batch300", 16, 2, {L(32, NN_ACT_RELU), L(4, NN_ACT_SOFTMAX)}, .seed = 7, .rows = 640,
     .train = {SGD(3, 300, 0.1f)}},
    {"sgd_batch300_threads2", 16, 2, {L(32, NN_ACT_RELU), L(4, NN_ACT_SOFTMAX)}, .seed = 7,
     .rows = 640, .threads = 2, .train = {SGD(3, 300, 0.1f)}},
    {"sgd_batch_all", OPT_NET, .train = {SGD(5, DEFAULT_ROWS, 0.1f)}},
    {"sgd_no_shuffle", OPT_NET, .train = {SGD(3, 32, 0.05f), .no_shuffle = true}},
    {"sgd_shuffle_seed9", OPT_NET, .train = {SGD(3, 32, 0.05f), .shuffle_seed = 9}},
    {"sgd_batch1_softmax", OPT_NET, .train = {SGD(2, 1, 0.01f)}},
    {"sgd_batch1_mse", ACT_NET(NN_ACT_TANH, 0), .train = {SGD(2, 1, 0.01f)}},
    {"sgd_batch1_over1024", 40, 2, {L(32, NN_ACT_TANH), L(3, NN_ACT_SOFTMAX)}, .seed = 8,
     .rows = 200, .train = {SGD(2, 1, 0.01f)}},
    {"sgd_batch1_prelu", 8, 2, {L(16, NN_ACT_PRELU), L(3, NN_ACT_SOFTMAX)}, .seed = 9,
     .train = {SGD(2, 1, 0.01f)}},

    /* Optimizers. */
    {"sgd_momentum", OPT_NET, .train = {SGD(3, 32, 0.05f), .optim = {.momentum = 0.9f}}},
    {"sgd_momentum_dampening", OPT_NET,
     .train = {SGD(3, 32, 0.05f), .optim = {.momentum = 0.9f, .dampening = 0.1f}}},
    {"sgd_nesterov", OPT_NET,
     .train = {SGD(3, 32, 0.05f), .optim = {.momentum = 0.9f, .nesterov = true}}},
    {"sgd_weight_decay", OPT_NET, .train = {SGD(3, 32, 0.05f), .optim = {.weight_decay = 0.01f}}},
    {"sgd_weight_decay_biases", OPT_NET,
     .train = {SGD(3, 32, 0.05f), .optim = {.weight_decay = 0.01f, .decay_biases = true}}},
    {"sgd_clip_norm", OPT_NET, .train = {SGD(3, 32, 0.05f), .optim = {.clip_norm = 0.05f}}},
    {"sgd_batch1_momentum", OPT_NET, .train = {SGD(1, 1, 0.01f), .optim = {.momentum = 0.5f}}},
    {"adam", OPT_NET, .train = {SGD(3, 32, 0.01f), .optim = {.kind = NN_OPT_ADAM}}},
    {"adam_betas_eps", OPT_NET,
     .train = {SGD(3, 32, 0.01f),
               .optim = {.kind = NN_OPT_ADAM, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-6f}}},
    {"adam_weight_decay_clip", OPT_NET,
     .train = {SGD(3, 32, 0.01f), .optim = {.kind = NN_OPT_ADAM, .weight_decay = 0.01f,
                                            .clip_norm = 0.1f}}},
    {"adamw", OPT_NET, .train = {SGD(3, 32, 0.01f), .optim = {.kind = NN_OPT_ADAMW}}},
    {"adamw_decay_biases", OPT_NET,
     .train = {SGD(3, 32, 0.01f),
               .optim = {.kind = NN_OPT_ADAMW, .weight_decay = 0.1f, .decay_biases = true}}},
    {"rmsprop", OPT_NET, .train = {SGD(3, 32, 0.001f), .optim = {.kind = NN_OPT_RMSPROP}}},
    {"rmsprop_momentum", OPT_NET,
     .train = {SGD(3, 32, 0.001f),
               .optim = {.kind = NN_OPT_RMSPROP, .momentum = 0.9f, .alpha = 0.9f}}},
    {"rmsprop_weight_decay", OPT_NET,
     .train = {SGD(3, 32, 0.001f),
               .optim = {.kind = NN_OPT_RMSPROP, .weight_decay = 0.01f, .eps = 1e-6f}}},

    /* Activations (hidden, linear output + MSE); softmax and sigmoid outputs below. */
    {"act_sigmoid", ACT_NET(NN_ACT_SIGMOID, 0), .train = {SGD(3, 32, 0.05f)}},
    {"act_tanh", ACT_NET(NN_ACT_TANH, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_relu", ACT_NET(NN_ACT_RELU, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_leaky_relu", ACT_NET(NN_ACT_LEAKY_RELU, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_leaky_relu_0.2", ACT_NET(NN_ACT_LEAKY_RELU, 0.2f), .train = {SGD(3, 32, 0.02f)}},
    {"act_elu", ACT_NET(NN_ACT_ELU, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_elu_0.5", ACT_NET(NN_ACT_ELU, 0.5f), .train = {SGD(3, 32, 0.02f)}},
    {"act_gelu", ACT_NET(NN_ACT_GELU, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_prelu", ACT_NET(NN_ACT_PRELU, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_prelu_0.1", ACT_NET(NN_ACT_PRELU, 0.1f), .train = {SGD(3, 32, 0.02f)}},
    {"act_prelu_units", ACT_NET(NN_ACT_PRELU_UNITS, 0), .train = {SGD(3, 32, 0.02f)}},
    {"act_prelu_units_adam", ACT_NET(NN_ACT_PRELU_UNITS, 0),
     .train = {SGD(3, 32, 0.01f), .optim = {.kind = NN_OPT_ADAM, .weight_decay = 0.01f,
                                            .decay_biases = true}}},
    {"act_linear", ACT_NET(NN_ACT_LINEAR, 0), .train = {SGD(3, 32, 0.02f)}},

    /* Losses (the softmax + CE lines above take it from the output: NN_LOSS_AUTO). */
    {"loss_mse_explicit", ACT_NET(NN_ACT_RELU, 0),
     .train = {SGD(3, 32, 0.02f), .loss = NN_LOSS_MSE}},
    {"loss_mse_sigmoid", 8, 2, {L(16, NN_ACT_TANH), L(3, NN_ACT_SIGMOID)}, .seed = 10,
     .target = T_BINARY, .train = {SGD(3, 32, 0.1f), .loss = NN_LOSS_MSE}},
    {"loss_bce_3_outputs", 8, 2, {L(16, NN_ACT_TANH), L(3, NN_ACT_SIGMOID)}, .seed = 10,
     .target = T_BINARY, .train = {SGD(3, 32, 0.1f)}},
    {"loss_bce_3_outputs_batch1", 8, 2, {L(16, NN_ACT_TANH), L(3, NN_ACT_SIGMOID)}, .seed = 10,
     .target = T_BINARY, .train = {SGD(1, 1, 0.05f), .loss = NN_LOSS_BCE}},
    {"loss_ce_index", OPT_NET, .train = {SGD(3, 32, 0.05f), .loss = NN_LOSS_CE}},
    {"loss_ce_onehot", OPT_NET, .target = T_ONEHOT,
     .train = {SGD(3, 32, 0.05f), .loss = NN_LOSS_CE}},
    {"loss_ce_onehot_batch1", OPT_NET, .target = T_ONEHOT, .train = {SGD(1, 1, 0.01f)}},

    /* Initialisations. */
    {"init_xavier_uniform", INIT_NET(NN_INIT_XAVIER_UNIFORM, 0), .train = {SGD(2, 32, 0.05f)}},
    {"init_xavier_normal", INIT_NET(NN_INIT_XAVIER_NORMAL, 0), .train = {SGD(2, 32, 0.05f)}},
    {"init_he_normal", INIT_NET(NN_INIT_HE_NORMAL, 0), .train = {SGD(2, 32, 0.05f)}},
    {"init_normal", INIT_NET(NN_INIT_NORMAL, 0), .train = {SGD(2, 32, 0.05f)}},
    {"init_normal_0.3", INIT_NET(NN_INIT_NORMAL, 0.3f), .train = {SGD(2, 32, 0.05f)}},
    {"init_zeros", INIT_NET(NN_INIT_ZEROS, 0), .train = {SGD(2, 32, 0.05f)}},

    /* Dropout on hidden layers, at batch 32 and at batch 1. */
    {"dropout", 8, 3, {LD(32, NN_ACT_RELU, 0.2f), LD(32, NN_ACT_TANH, 0.1f),
                       L(3, NN_ACT_SOFTMAX)}, .seed = 11, .train = {SGD(3, 32, 0.05f)}},
    {"dropout_batch1", 8, 2, {LD(16, NN_ACT_TANH, 0.3f), L(3, NN_ACT_SOFTMAX)}, .seed = 11,
     .train = {SGD(1, 1, 0.01f)}},
    {"dropout_adam_threads2", 64, 3,
     {LD(128, NN_ACT_RELU, 0.2f), LD(128, NN_ACT_RELU, 0.2f), L(10, NN_ACT_SOFTMAX)},
     .seed = 6, .rows = 320, .threads = 2, .train = {SGD(2, 32, 0.001f), .optim = {.kind = NN_OPT_ADAM}}},

    /* Learning-rate schedules. */
    {"sched_step", OPT_NET,
     .train = {SGD(6, 32, 0.1f), .schedule = {.kind = NN_SCHED_STEP, .step_epochs = 2,
                                              .gamma = 0.5f}}},
    {"sched_step_defaults", OPT_NET,
     .train = {SGD(12, 64, 0.1f), .schedule = {.kind = NN_SCHED_STEP}}},
    {"sched_exponential", OPT_NET,
     .train = {SGD(6, 32, 0.1f), .schedule = {.kind = NN_SCHED_EXPONENTIAL, .gamma = 0.8f}}},
    {"sched_cosine_warmup", OPT_NET,
     .train = {SGD(6, 32, 0.1f), .schedule = {.kind = NN_SCHED_COSINE, .min_lr = 0.001f,
                                              .warmup_epochs = 2}}},
    {"sched_cosine_period", OPT_NET,
     .train = {SGD(6, 32, 0.1f), .schedule = {.kind = NN_SCHED_COSINE, .period_epochs = 3}}},

    /* Validation: a split with early stopping, a separate set, a callback that stops. */
    {"val_split", OPT_NET, .train = {SGD(3, 32, 0.05f), .val_split = 0.2f}},
    {"val_split_patience", 8, 2, {L(64, NN_ACT_RELU), L(3, NN_ACT_SOFTMAX)}, .seed = 12,
     .rows = 120, .train = {SGD(60, 8, 0.05f), .val_split = 0.25f, .patience = 3,
                            .optim = {.momentum = 0.9f}}},
    {"val_explicit_patience", 8, 2, {L(64, NN_ACT_RELU), L(3, NN_ACT_SOFTMAX)}, .seed = 12,
     .rows = 120, .explicit_val = true,
     .train = {SGD(60, 8, 0.05f), .patience = 3, .optim = {.momentum = 0.9f}}},
    {"callback_stop", OPT_NET, .stop_after = 2, .train = {SGD(10, 32, 0.05f)}},

    /* Threads on a mid-size network, with Adam; a diverging run (last finite weights). */
    {"adam_mid_threads1", MID_NET, .threads = 1,
     .train = {SGD(2, 32, 0.001f), .optim = {.kind = NN_OPT_ADAM}}},
    {"adam_mid_threads2", MID_NET, .threads = 2,
     .train = {SGD(2, 32, 0.001f), .optim = {.kind = NN_OPT_ADAM}}},
    {"diverged", ACT_NET(NN_ACT_RELU, 0), .expect = NN_ERR_DIVERGED,
     .train = {SGD(20, 32, 50.0f)}},
};

/* Counts the epochs of a run and stops it after stop_after of them (0: never). */
typedef struct epoch_count {
    int epochs, stop_after;
} epoch_count;

/* The epoch callback: counts, and asks to stop once stop_after epochs have run. */
static int count_epoch(void *user, const nn_epoch_info *info)
{
    epoch_count *c = user;
    c->epochs = info->epoch;
    return c->stop_after > 0 && info->epoch >= c->stop_after;
}

/* The configuration's training options: nn_train_defaults() with the fields the table sets. */
static nn_train_opts train_opts(const config *c)
{
    nn_train_opts o = nn_train_defaults(), t = c->train;
    o.epochs = t.epochs;
    o.batch_size = t.batch_size;
    o.learning_rate = t.learning_rate;
    o.loss = t.loss;
    o.shuffle_seed = t.shuffle_seed;
    o.no_shuffle = t.no_shuffle;
    o.optim = t.optim;
    o.schedule = t.schedule;
    o.val_split = t.val_split;
    o.patience = t.patience;
    return o;
}

/* Builds the configuration's model (seed and threads from the table). */
static nn_status create(const config *c, nn_model **model)
{
    nn_model_opts mo = {.seed = c->seed, .threads = c->threads};
    return nn_model_create(c->n_in, c->layers, c->n_layers, &mo, model);
}

/* The configuration's training data (seed: the model seed + 100) and, if it asks for one, a
 * separate validation set of a quarter the size (seed + 200). */
static nn_status make_sets(const config *c, data *train, data *val)
{
    int rows = c->rows ? c->rows : DEFAULT_ROWS, n_out = c->layers[c->n_layers - 1].units;
    *val = (data){0};
    nn_status s = make_data(train, rows, c->n_in, n_out, c->target, c->pixels, c->seed + 100);
    if (s == NN_OK && c->explicit_val)
        s = make_data(val, rows / 4, c->n_in, n_out, c->target, c->pixels, c->seed + 200);
    return s;
}

/* Trains one configuration and prints its line (and a comment with the epochs run, for the
 * runs that may stop early). */
static nn_status run_config(const config *c)
{
    data train, val;
    nn_model *model = NULL;
    epoch_count count = {0, c->stop_after};
    nn_train_opts o = train_opts(c);
    o.on_epoch = count_epoch;
    o.user = &count;
    nn_status s = make_sets(c, &train, &val);
    if (s == NN_OK)
        s = create(c, &model);
    if (s == NN_OK && c->explicit_val) {
        o.X_val = &val.X;
        o.Y_val = &val.Y;
    }
    if (s == NN_OK) {
        s = nn_train(model, &train.X, &train.Y, &o);
        s = s == c->expect ? NN_OK : (s == NN_OK ? NN_ERR_STATE : s);
    }
    if (s == NN_OK && (o.patience > 0 || c->stop_after > 0))
        printf("# %s ran %d of %d epochs\n", c->name, count.epochs, o.epochs);
    if (s == NN_OK)
        s = report(c->name, model, c->pixels);
    nn_model_destroy(model);
    free_data(&train);
    free_data(&val);
    return s;
}

/* ================================================================ resume */

/* The resume configuration: dropout, Adam and a cosine schedule, so that the second call
 * must carry on the epoch count, the optimizer's state and the random streams. The period is
 * given: by default it is the call's epochs, which differ between 3 + 3 and 6. */
static const config RESUME = {
    "resume", 8, 2, {LD(32, NN_ACT_RELU, 0.2f), L(3, NN_ACT_SOFTMAX)}, .seed = 13,
    .train = {SGD(6, 32, 0.01f), .shuffle_seed = 5, .optim = {.kind = NN_OPT_ADAM},
              .schedule = {.kind = NN_SCHED_COSINE, .period_epochs = 6, .warmup_epochs = 1}},
};

/* Trains RESUME for `first` epochs, then (if first < 6) on to 6 with resume set; prints
 * the line under name. */
static nn_status run_resume(const char *name, int first)
{
    data train, val;
    nn_model *model = NULL;
    nn_train_opts o = train_opts(&RESUME);
    int total = o.epochs;
    nn_status s = make_sets(&RESUME, &train, &val);
    if (s == NN_OK)
        s = create(&RESUME, &model);
    o.epochs = first;
    if (s == NN_OK)
        s = nn_train(model, &train.X, &train.Y, &o);
    o.epochs = total;
    o.resume = true;
    if (s == NN_OK && first < total)
        s = nn_train(model, &train.X, &train.Y, &o);
    if (s == NN_OK)
        s = report(name, model, false);
    nn_model_destroy(model);
    free_data(&train);
    free_data(&val);
    return s;
}

/* ============================================================ own loops */

/* The own-loop configuration: 8-16-3, tanh, softmax + CE, trained step by step. */
static const config OWN = {"own_loop", 8, 2, {L(16, NN_ACT_TANH), L(3, NN_ACT_SOFTMAX)},
                           .seed = 14};

/* One step on rows [first, first + rows) of d: forward, backward, optimizer step, zero_grad. */
static nn_status own_step(nn_model *model, const data *d, int first, int rows, nn_loss loss,
                          const nn_optim_opts *optim, float lr)
{
    nn_mat X = nn_mat_wrap(d->X.data + (size_t)first * (size_t)d->X.cols, rows, d->X.cols);
    nn_mat Y = nn_mat_wrap(d->Y.data + (size_t)first * (size_t)d->Y.cols, rows, d->Y.cols);
    float value = 0.0f;
    nn_status s = nn_forward(model, &X, NULL);
    if (s == NN_OK)
        s = nn_backward(model, &Y, loss, &value);
    if (s == NN_OK)
        s = nn_optim_step(model, optim, lr);
    if (s == NN_OK)
        s = nn_zero_grad(model);
    return s;
}

/* Own loop: `steps` steps of 32 rows with optimizer a; then, if b is not NULL,
 * nn_optim_reset and as many steps with b. Prints the line under name. */
static nn_status run_own_loop(const char *name, int steps, const nn_optim_opts *a,
                              const nn_optim_opts *b, float lr)
{
    data train, val;
    nn_model *model = NULL;
    nn_status s = make_sets(&OWN, &train, &val);
    if (s == NN_OK)
        s = create(&OWN, &model);
    if (s == NN_OK)
        s = nn_zero_grad(model);
    for (int i = 0; s == NN_OK && i < steps; i++)
        s = own_step(model, &train, (i * 32) % DEFAULT_ROWS, 32, NN_LOSS_CE, a, lr);
    if (s == NN_OK && b)
        s = nn_optim_reset(model);
    for (int i = 0; s == NN_OK && b && i < steps; i++)
        s = own_step(model, &train, (i * 32) % DEFAULT_ROWS, 32, NN_LOSS_CE, b, lr);
    if (s == NN_OK)
        s = report(name, model, false);
    nn_model_destroy(model);
    free_data(&train);
    free_data(&val);
    return s;
}

/* ================================================================= main */

/* Stops the program with a message if a configuration failed. */
static void check(nn_status s, const char *name)
{
    if (s != NN_OK) {
        fprintf(stderr, "results_hash: %s: %s\n", name, nn_status_message(s));
        exit(1);
    }
}

/* Runs every configuration in turn, printing one line for each. */
int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: results_hash (no arguments)\n");
        return 2;
    }
    printf("# results_hash: <name> params=<count> hash=<parameters' FNV-1a 64> "
           "pred=<predictions' FNV-1a 64>\n");
    for (size_t i = 0; i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
        check(run_config(&CONFIGS[i]), CONFIGS[i].name);
    check(run_resume("resume_3+3", 3), "resume_3+3");
    check(run_resume("resume_6", 6), "resume_6");
    nn_optim_opts plain = {0}, adam = {.kind = NN_OPT_ADAM};
    nn_optim_opts momentum = {.momentum = 0.9f};
    check(run_own_loop("own_loop_sgd", 16, &plain, NULL, 0.1f), "own_loop_sgd");
    check(run_own_loop("own_loop_adam_reset_momentum", 8, &adam, &momentum, 0.01f),
          "own_loop_adam_reset_momentum");
    return fflush(stdout) == 0 ? 0 : 1;
}
