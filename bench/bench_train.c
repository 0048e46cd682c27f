/* Training and inference benchmarks. Prints one line per figure, "name key=value ...":
 *   fmnist   W-fmnist: MLP 784-256-128-10, ReLU, softmax + CE, SGD lr 0.05, batch 64; one
 *            line per thread count 1 .. THREADS (nn_model_opts.threads): seconds per epoch
 *            (median) and test accuracy. Real Fashion-MNIST when the Debian package
 *            dataset-fashion-mnist is installed, synthetic data of the same shape otherwise
 *            (then the accuracy means nothing).
 *   xor      2-4-1 network, tanh hidden, sigmoid + BCE, one sample per update: updates/s.
 *   infer    predict() of the 784-256-128-10 MLP (softmax output) at batch 1 and 64: µs/call.
 * Usage: bench_train [EPOCHS] [DATA_DIR] [THREADS, default 2]. Timings are medians: the
 * machine is shared. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, popen */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nn.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check(nn_status s, const char *what)
{
    if (s != NN_OK) {
        fprintf(stderr, "bench_train: %s: %s\n", what, nn_status_message(s));
        exit(1);
    }
}

/* ---------------------------------------------------------------- data */

/* Reads a gzip-compressed IDX file through the system gzip (this is a benchmark, not the
 * library) into a malloc'd buffer; NULL if it cannot. */
static unsigned char *read_gz(const char *dir, const char *name, size_t *len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/%s' 2>/dev/null", dir, name);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap *= 2);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    if (pclose(f) != 0 || n < 8) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* Images as (N, 784) in [0, 1] and labels as (N, 1) class indices; 0 on failure. */
static int load_split(const char *dir, const char *prefix, nn_mat *X, nn_mat *Y)
{
    char name[128];
    size_t ni = 0, nl = 0;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", prefix);
    unsigned char *img = read_gz(dir, name, &ni);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", prefix);
    unsigned char *lab = read_gz(dir, name, &nl);
    int ok = img && lab && ni >= 16 && be32(img) == 2051 && be32(lab) == 2049 &&
             be32(img + 4) == be32(lab + 4) && be32(img + 8) * be32(img + 12) == 784;
    int n = ok ? (int)be32(img + 4) : 0;
    ok = ok && ni >= 16 + (size_t)n * 784 && nl >= 8 + (size_t)n;
    if (ok && nn_mat_alloc(X, n, 784) == NN_OK && nn_mat_alloc(Y, n, 1) == NN_OK) {
        for (size_t i = 0; i < (size_t)n * 784; i++)
            X->data[i] = img[16 + i] / 255.0f;
        for (int i = 0; i < n; i++)
            Y->data[i] = lab[8 + i];
    } else {
        ok = 0;
    }
    free(img);
    free(lab);
    return ok;
}

/* Random inputs with labels from a random linear teacher: same shapes as the real data. */
static void synthetic_split(int n, nn_mat *X, nn_mat *Y, uint64_t seed)
{
    check(nn_mat_alloc(X, n, 784), "alloc");
    check(nn_mat_alloc(Y, n, 1), "alloc");
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t i = 0; i < (size_t)n * 784; i++)
        X->data[i] = nn_rng_uniform(&rng);
    for (int i = 0; i < n; i++)
        Y->data[i] = (float)(i % 10);
}

/* ------------------------------------------------------------- benches */

static const nn_layer_spec mlp[] = {
    {.units = 256, .act = NN_ACT_RELU},
    {.units = 128, .act = NN_ACT_RELU},
    {.units = 10, .act = NN_ACT_SOFTMAX},
};

typedef struct epoch_times {
    double seconds[64];
    int count;
} epoch_times;

static int record_epoch(void *user, const nn_epoch_info *info)
{
    epoch_times *t = user;
    if (t->count < 64)
        t->seconds[t->count++] = info->seconds;
    return 0;
}

/* One model per thread count (1 .. max_threads), trained epoch by epoch in turn, so that each
 * count sees the same load from whatever else the machine runs; every epoch is a call of
 * nn_train with its own shuffle seed. The models must end bit-identical (same_weights). */
static void bench_fmnist(const char *dir, int epochs, int max_threads)
{
    enum { MAX_MODELS = 8 };
    nn_mat Xtr, Ytr, Xte, Yte;
    int real = load_split(dir, "train", &Xtr, &Ytr) && load_split(dir, "t10k", &Xte, &Yte);
    if (!real) {
        synthetic_split(60000, &Xtr, &Ytr, 1);
        synthetic_split(10000, &Xte, &Yte, 2);
    }
    nn_model *models[MAX_MODELS];
    epoch_times t[MAX_MODELS] = {{{0}, 0}};
    for (int m = 0; m < max_threads; m++) {
        nn_model_opts mo = {.seed = 1, .threads = m + 1};
        check(nn_model_create(784, mlp, 3, &mo, &models[m]), "create");
    }
    for (int e = 0; e < epochs; e++) {
        for (int m = 0; m < max_threads; m++) {
            nn_train_opts o = nn_train_defaults();
            o.epochs = 1;
            o.batch_size = 64;
            o.learning_rate = 0.05f;
            o.shuffle_seed = (uint64_t)e;
            o.on_epoch = record_epoch;
            o.user = &t[m];
            check(nn_train(models[m], &Xtr, &Ytr, &o), "train");
        }
    }
    float *p0;
    size_t P = nn_model_params(models[0], &p0, NULL);
    for (int m = 0; m < max_threads; m++) {
        double acc = 0;
        check(nn_evaluate(models[m], &Xte, &Yte, NN_LOSS_CE, NULL, &acc), "evaluate");
        float *p;
        nn_model_params(models[m], &p, NULL);
        double mid = median(t[m].seconds, t[m].count);
        printf("fmnist data=%s threads=%d epochs=%d median_epoch_s=%.4f min_epoch_s=%.4f "
               "test_acc=%.2f%% same_weights=%s\n",
               real ? "real" : "synthetic", m + 1, epochs, mid, t[m].seconds[0], 100 * acc,
               memcmp(p, p0, P * sizeof *p) == 0 ? "yes" : "NO");
    }
    for (int m = 0; m < max_threads; m++)
        nn_model_destroy(models[m]);
    nn_mat_free(&Xtr);
    nn_mat_free(&Ytr);
    nn_mat_free(&Xte);
    nn_mat_free(&Yte);
}

/* One epoch over 1,000,000 XOR rows at batch 1: a million per-sample updates. */
static void bench_xor(void)
{
    enum { N = 1000000, REPEATS = 5 };
    nn_mat X, Y;
    check(nn_mat_alloc(&X, N, 2), "alloc");
    check(nn_mat_alloc(&Y, N, 1), "alloc");
    for (int i = 0; i < N; i++) {
        X.data[2 * i] = (float)(i & 1);
        X.data[2 * i + 1] = (float)(i >> 1 & 1);
        Y.data[i] = (float)((i & 1) ^ (i >> 1 & 1));
    }
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    double rates[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        nn_model_opts mo = {.seed = 42};
        nn_model *model;
        check(nn_model_create(2, specs, 2, &mo, &model), "create");
        nn_train_opts o = nn_train_defaults();
        o.epochs = 1;
        o.batch_size = 1;
        o.learning_rate = 0.1f;
        double t0 = now();
        check(nn_train(model, &X, &Y, &o), "train");
        rates[r] = N / (now() - t0);
        nn_model_destroy(model);
    }
    printf("xor net=2-4-1 act=tanh,sigmoid loss=bce batch=1 updates=%d updates_per_s=%.3g\n", N,
           median(rates, REPEATS));
    nn_mat_free(&X);
    nn_mat_free(&Y);
}

static void bench_inference(void)
{
    nn_model *model;
    check(nn_model_create(784, mlp, 3, NULL, &model), "create");
    int batches[] = {1, 64};
    for (int k = 0; k < 2; k++) {
        int B = batches[k], calls = B == 1 ? 20000 : 2000;
        nn_mat X, P;
        check(nn_mat_alloc(&X, B, 784), "alloc");
        check(nn_mat_alloc(&P, B, 10), "alloc");
        for (size_t i = 0; i < (size_t)B * 784; i++)
            X.data[i] = (float)(i % 255) / 255.0f;
        check(nn_predict(model, &X, &P), "predict"); /* warm-up: sizes the workspace */
        double us[9];
        for (int r = 0; r < 9; r++) {
            double t0 = now();
            for (int c = 0; c < calls; c++)
                nn_predict(model, &X, &P);
            us[r] = (now() - t0) / calls * 1e6;
        }
        printf("infer net=784-256-128-10 batch=%d us_per_call=%.2f\n", B, median(us, 9));
        nn_mat_free(&X);
        nn_mat_free(&P);
    }
    nn_model_destroy(model);
}

int main(int argc, char **argv)
{
    int epochs = argc > 1 ? atoi(argv[1]) : 5;
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    int max_threads = argc > 3 ? atoi(argv[3]) : 2;
    if (epochs < 1 || epochs > 64 || max_threads < 1 || max_threads > 8) {
        fprintf(stderr, "usage: bench_train [EPOCHS 1..64] [FASHION_MNIST_DIR] [THREADS 1..8]\n");
        return 2;
    }
    bench_inference();
    bench_xor();
    bench_fmnist(dir, epochs, max_threads);
    return 0;
}
