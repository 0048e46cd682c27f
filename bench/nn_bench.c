/* libnn's benchmark: every figure of the speed issue in one run, one line per figure,
 * "section key=value ...", so that grep or awk picks any of them out; lines starting with '#'
 * describe the setup of the lines that follow. Sections, in the order they run:
 *   fmnist  W-fmnist: MLP 784-256-128-10, ReLU, softmax + CE, SGD lr 0.05, batch 64; one line
 *           per thread count 1 .. THREADS (nn_model_opts.threads): seconds per epoch (median)
 *           and test accuracy. Real Fashion-MNIST when the Debian package
 *           dataset-fashion-mnist is installed, synthetic data of the same shape otherwise
 *           (then the accuracy means nothing).
 *   rss     the process's peak resident set after fmnist, beside the data's own float size.
 *   gemm    GFLOP/s = 2·M·N·K / time per call of nn__gemm, one thread: the auto kernel (and
 *           the reference one up to 256³ flops) on squares 64 .. 1024 and on the nine
 *           products of one training step of the MLP at batch 64.
 *   infer   nn_predict of the MLP (softmax output) at batch 1 and 64: µs per call, with 1 ..
 *           THREADS threads.
 *   xor     W-xor: 2-4-1 network, tanh hidden, sigmoid + BCE, per-sample SGD over the 4 XOR
 *           samples, 1,000,000 updates: updates/s.
 * Usage: nn_bench [--epochs N] [--threads N] [--kernel K] [--data DIR] [--all] [--only SECTION];
 * --kernel forces the models' kernel (nn_model_opts.kernel) in fmnist, infer and xor, whose
 * lines name the kernel that ran; --all adds to the gemm section every kernel this CPU
 * supports besides auto and the reference.
 * Timings are medians of repetitions: the machine is shared. Shape letters: M, N, K as in
 * nn_internal.h; B batch rows. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, popen, getrusage */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nn_internal.h"

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

/* Sorts v. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check(nn_status s, const char *what)
{
    if (s != NN_OK) {
        fprintf(stderr, "nn_bench: %s: %s\n", what, nn_status_message(s));
        exit(1);
    }
}

/* A model of the layers on n_in inputs, with the kernel the run forces (--kernel; AUTO: the
 * fastest this CPU runs); exits with nn_model_create's message if it refuses. */
static nn_model *create_model(int n_in, const nn_layer_spec *layers, int n_layers,
                              nn_model_opts mo, nn_kernel kernel)
{
    nn_error err;
    mo.kernel = kernel;
    mo.error = &err;
    nn_model *model;
    if (nn_model_create(n_in, layers, n_layers, &mo, &model) != NN_OK) {
        fprintf(stderr, "nn_bench: %s\n", err.message);
        exit(1);
    }
    return model;
}

/* The MLP of the fmnist and infer sections. */
static const nn_layer_spec mlp[] = {
    {.units = 256, .act = NN_ACT_RELU},
    {.units = 128, .act = NN_ACT_RELU},
    {.units = 10, .act = NN_ACT_SOFTMAX},
};

/* ============================================================== W-fmnist: data */

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* Streams the gzip-compressed IDX file dir/name through the system gzip (this is a benchmark,
 * not the library) into *M (count, cols): pixels as value / 255, labels as the value. The
 * header comes first, then M is allocated and the payload is read 64 KiB at a time and
 * converted straight into it, so the raw bytes (47 MB for the training images) never exist
 * beside the floats. magic: 2051 for images (count, 28, 28), 2049 for labels (count); cols is
 * the product of the dimensions after count. 0 on failure, with nothing left allocated. */
static int read_idx(const char *dir, const char *name, unsigned magic, int cols, int pixels,
                    nn_mat *M)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/%s' 2>/dev/null", dir, name);
    FILE *f = popen(cmd, "r");
    if (!f)
        return 0;
    unsigned char buf[64 * 1024];
    /* The low byte of the magic number is the number of dimensions (3 or 1). */
    unsigned dims = magic & 0xff;
    size_t head = 4 + 4 * (size_t)dims;
    int ok = fread(buf, 1, head, f) == head && be32(buf) == magic && be32(buf + 4) >= 1 &&
             be32(buf + 4) <= INT_MAX;
    unsigned long inner = 1; /* each factor is at most cols: no overflow */
    for (unsigned d = 1; ok && d < dims; d++) {
        unsigned size = be32(buf + 4 + 4 * d);
        ok = size >= 1 && size <= (unsigned)cols;
        inner *= size;
    }
    ok = ok && inner == (unsigned long)cols && nn_mat_alloc(M, (int)be32(buf + 4), cols) == NN_OK;
    if (!ok) {
        pclose(f);
        return 0;
    }
    size_t total = (size_t)M->rows * (size_t)cols, done = 0;
    while (ok && done < total) {
        size_t want = total - done < sizeof buf ? total - done : sizeof buf;
        ok = fread(buf, 1, want, f) == want;
        for (size_t i = 0; ok && i < want; i++)
            M->data[done + i] = pixels ? buf[i] / 255.0f : buf[i];
        done += want;
    }
    ok = ok && fgetc(f) == EOF; /* no trailing bytes; gzip then exits 0 */
    if (pclose(f) != 0 || !ok) {
        nn_mat_free(M);
        return 0;
    }
    return 1;
}

/* Images as (N, 784) in [0, 1] and labels as (N, 1) class indices; 0 on failure, with
 * nothing left allocated. */
static int load_split(const char *dir, const char *prefix, nn_mat *X, nn_mat *Y)
{
    char name[128];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", prefix);
    if (!read_idx(dir, name, 2051, 784, 1, X))
        return 0;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", prefix);
    if (!read_idx(dir, name, 2049, 1, 0, Y)) {
        nn_mat_free(X);
        return 0;
    }
    if (X->rows != Y->rows) {
        nn_mat_free(X);
        nn_mat_free(Y);
        return 0;
    }
    return 1;
}

/* Uniform random inputs with labels cycling through 0..9: the real data's shapes, nothing to
 * learn (the accuracy is chance). */
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

/* ============================================================== W-fmnist: training */

enum { MAX_EPOCHS = 64, MAX_THREADS = 8 };

typedef struct epoch_times {
    double seconds[MAX_EPOCHS];
    int count;
} epoch_times;

static int record_epoch(void *user, const nn_epoch_info *info)
{
    epoch_times *t = user;
    if (t->count < MAX_EPOCHS)
        t->seconds[t->count++] = info->seconds;
    return 0;
}

/* What the rss line compares the peak with. */
typedef struct fmnist_data {
    int real;
    double bytes; /* train + test, images + labels, as floats */
} fmnist_data;

/* One model per thread count (1 .. max_threads), trained epoch by epoch in turn, so that each
 * count sees the same load from whatever else the machine runs; every epoch is a call of
 * nn_train with its own shuffle seed. The models must end bit-identical (same_weights). */
static fmnist_data bench_fmnist(const char *dir, int epochs, int max_threads, nn_kernel kernel)
{
    nn_mat Xtr, Ytr, Xte, Yte;
    int real = load_split(dir, "train", &Xtr, &Ytr);
    if (real && !load_split(dir, "t10k", &Xte, &Yte)) {
        nn_mat_free(&Xtr);
        nn_mat_free(&Ytr);
        real = 0;
    }
    if (!real) {
        synthetic_split(60000, &Xtr, &Ytr, 1);
        synthetic_split(10000, &Xte, &Yte, 2);
    }
    fmnist_data data = {
        .real = real,
        .bytes = ((double)Xtr.rows * Xtr.cols + (double)Ytr.rows * Ytr.cols +
                  (double)Xte.rows * Xte.cols + (double)Yte.rows * Yte.cols) * sizeof(float),
    };
    nn_model *models[MAX_THREADS] = {0};
    epoch_times t[MAX_THREADS] = {{{0}, 0}};
    for (int m = 0; m < max_threads; m++) {
        models[m] = create_model(784, mlp, 3, (nn_model_opts){.seed = 1, .threads = m + 1},
                                 kernel);
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
        double mid = median(t[m].seconds, t[m].count); /* sorts: seconds[0] is then the min */
        printf("fmnist data=%s kernel=%s threads=%d epochs=%d median_epoch_s=%.4f "
               "min_epoch_s=%.4f test_acc=%.2f%% same_weights=%s\n",
               real ? "real" : "synthetic", nn_kernel_name(nn_model_kernel(models[m])), m + 1,
               epochs, mid, t[m].seconds[0], 100 * acc,
               memcmp(p, p0, P * sizeof *p) == 0 ? "yes" : "NO");
        fflush(stdout);
    }
    for (int m = 0; m < max_threads; m++)
        nn_model_destroy(models[m]);
    nn_mat_free(&Xtr);
    nn_mat_free(&Ytr);
    nn_mat_free(&Xte);
    nn_mat_free(&Yte);
    return data;
}

/* The peak resident set of this process so far, as getrusage reports it, in MiB. Called right
 * after bench_fmnist, which runs first, it includes: the program, libc and libm, stdio's
 * buffers; the data set as floats; the models of every thread count at once (parameters,
 * gradients, the workspace of a batch and then of nn_evaluate's chunks of rows); nn_train's
 * per-call row lists; the touched stacks of the worker threads (which hold the packing
 * buffers); the loader's 64 KiB read buffer. Not gzip, a child process (RUSAGE_SELF excludes
 * it). The sections after it allocate at most ~12 MiB, so this is also the whole run's peak. */
static void report_rss(fmnist_data data)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        fprintf(stderr, "nn_bench: getrusage: %s\n", strerror(errno));
        return;
    }
#ifdef __APPLE__
    double peak = (double)ru.ru_maxrss / (1024.0 * 1024.0); /* bytes there */
#else
    double peak = (double)ru.ru_maxrss / 1024.0; /* KiB on Linux and the BSDs */
#endif
    double mib = data.bytes / (1024.0 * 1024.0);
    printf("rss after=fmnist data=%s peak_mib=%.1f data_mib=%.1f over_mib=%.1f\n",
           data.real ? "real" : "synthetic", peak, mib, peak - mib);
    fflush(stdout);
}

/* ============================================================== GEMM */

enum { GEMM_REPS = 7 };
static const double MIN_REP_S = 0.05; /* each repetition loops the call for at least this */

typedef struct shape {
    const char *name;
    int M, N, K;
    bool ta, tb;
} shape;

/* The MLP's products at B = 64: forward Z(B, n_out) = X(B, n_in)·Wᵀ, the weight gradient
 * dW(n_out, n_in) += dZᵀ·X, and the input gradient dX(B, n_in) = dZ·W. */
static const shape SHAPES[] = {
    {"sq64", 64, 64, 64, false, false},        {"sq128", 128, 128, 128, false, false},
    {"sq256", 256, 256, 256, false, false},    {"sq512", 512, 512, 512, false, false},
    {"sq1024", 1024, 1024, 1024, false, false}, {"L1.fwd", 64, 256, 784, false, true},
    {"L1.dW", 256, 784, 64, true, false},      {"L1.dX", 64, 784, 256, false, false},
    {"L2.fwd", 64, 128, 256, false, true},     {"L2.dW", 128, 256, 64, true, false},
    {"L2.dX", 64, 256, 128, false, false},     {"L3.fwd", 64, 10, 128, false, true},
    {"L3.dW", 10, 128, 64, true, false},       {"L3.dX", 64, 128, 10, false, false},
};

static const char *const KERNEL_NAMES[] = {"auto",           "ref",          "portable",
                                           "avx2",           "avx512",       "neon",
                                           "fixed-portable", "fixed-avx2",   "fixed-avx512",
                                           "fixed-neon"};
_Static_assert(sizeof KERNEL_NAMES / sizeof KERNEL_NAMES[0] == NN__GEMM_COUNT,
               "a name for every kernel");

static float *random_matrix(size_t n, unsigned *seed)
{
    float *m = malloc(n * sizeof *m);
    if (!m) {
        fprintf(stderr, "nn_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        m[i] = (float)(*seed >> 8) / (float)(1 << 24) - 0.5f;
    }
    return m;
}

/* Median GFLOP/s of kernel k on shape s. The dW products accumulate (beta = 1) as in
 * training; the others overwrite (beta = 0). */
static double gemm_gflops(nn__gemm_kernel k, const shape *s)
{
    unsigned seed = 1;
    float *A = random_matrix((size_t)s->M * s->K, &seed);
    float *B = random_matrix((size_t)s->K * s->N, &seed);
    float *C = random_matrix((size_t)s->M * s->N, &seed);
    float *ws = random_matrix(nn__gemm_ws_floats(), &seed); /* the packing buffers */
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    float beta = s->ta ? 1.0f : 0.0f;
    double t[GEMM_REPS];
    nn__gemm(k, ws, s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, beta, C, s->N); /* warm */
    for (int r = 0; r < GEMM_REPS; r++) {
        long calls = 0;
        double t0 = now(), el;
        do {
            nn__gemm(k, ws, s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, beta, C, s->N);
            calls++;
            el = now() - t0;
        } while (el < MIN_REP_S);
        t[r] = el / (double)calls;
    }
    free(A), free(B), free(C), free(ws);
    return 2.0 * s->M * s->N * s->K / median(t, GEMM_REPS) / 1e9;
}

/* Auto on every shape; the reference up to 256³ flops (it is slow); with all, every other
 * kernel this CPU supports. */
static void bench_gemm(bool all)
{
    const char *best = nn__gemm_available(NN__GEMM_AVX512) ? "avx512"
                       : nn__gemm_available(NN__GEMM_AVX2) ? "avx2"
                       : nn__gemm_available(NN__GEMM_NEON) ? "neon"
                                                           : "portable";
    printf("# nn__gemm, one thread, GFLOP/s = 2MNK / median time per call (%d reps of >= %.2f s); "
           "auto = %s\n", GEMM_REPS, MIN_REP_S, best);
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const shape *s = &SHAPES[i];
        for (int k = 0; k < NN__GEMM_COUNT; k++) {
            bool want = k == NN__GEMM_AUTO || (all && k != NN__GEMM_REF) ||
                        (k == NN__GEMM_REF && (double)s->M * s->N * s->K <= 256.0 * 256 * 256);
            if (!want || !nn__gemm_available((nn__gemm_kernel)k))
                continue;
            printf("gemm kernel=%s shape=%dx%dx%d op=%c%c gflops=%.1f  # %s\n", KERNEL_NAMES[k],
                   s->M, s->N, s->K, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N',
                   gemm_gflops((nn__gemm_kernel)k, s), s->name);
            fflush(stdout);
        }
    }
}

/* ============================================================== inference */

/* nn_predict at batch 1 and 64, one thread (the figure), then with the model's
 * threads (1 .. max_threads): at batch 1 two cores each read half of W1, which then fits in
 * their L2 caches. */
static void bench_inference(int max_threads, nn_kernel kernel)
{
    for (int threads = 1; threads <= max_threads; threads++) {
        nn_model *model = create_model(784, mlp, 3, (nn_model_opts){.threads = threads}, kernel);
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
            printf("infer net=784-256-128-10 kernel=%s batch=%d threads=%d us_per_call=%.2f\n",
                   nn_kernel_name(nn_model_kernel(model)), B, threads, median(us, 9));
            fflush(stdout);
            nn_mat_free(&X);
            nn_mat_free(&P);
        }
        nn_model_destroy(model);
    }
}

/* ============================================================== XOR */

/* W-xor as the peers measure it: per-sample SGD over the 4 XOR samples, 250,000 epochs
 * (1,000,000 updates), reshuffled every epoch, in one nn_train call. The median of 5 runs, each
 * from the same initial weights; the last line says whether XOR was learned. */
static void bench_xor(nn_kernel kernel)
{
    enum { UPDATES = 1000000, REPEATS = 5 };
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0};
    nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1);
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    double rates[REPEATS], accuracy = 0.0;
    const char *ran = "";
    for (int r = 0; r < REPEATS; r++) {
        nn_model *model = create_model(2, specs, 2, (nn_model_opts){.seed = 42}, kernel);
        ran = nn_kernel_name(nn_model_kernel(model));
        nn_train_opts o = nn_train_defaults();
        o.epochs = UPDATES / 4;
        o.batch_size = 1;
        o.learning_rate = 0.1f;
        double t0 = now();
        check(nn_train(model, &X, &Y, &o), "train");
        rates[r] = UPDATES / (now() - t0);
        check(nn_evaluate(model, &X, &Y, NN_LOSS_BCE, NULL, &accuracy), "evaluate");
        nn_model_destroy(model);
    }
    printf("xor net=2-4-1 act=tanh,sigmoid loss=bce kernel=%s batch=1 updates=%d "
           "updates_per_s=%.3g learned=%s\n",
           ran, UPDATES, median(rates, REPEATS), accuracy == 1.0 ? "yes" : "NO");
    fflush(stdout);
}

/* ============================================================== main */

static void usage(FILE *to)
{
    fprintf(to, "usage: nn_bench [--epochs N] [--threads N] [--kernel K] [--data DIR] [--all]\n"
                "                [--only S]\n"
                "  --epochs N   W-fmnist epochs, 1..%d (default 5)\n"
                "  --threads N  W-fmnist and inference with 1 .. N threads; 1..%d (default 2)\n"
                "  --data DIR   where Fashion-MNIST's .gz files are (default\n"
                "               /usr/share/datasets/fashion-mnist); synthetic data without them\n"
                "  --kernel K   the models' kernel (nn_model_opts.kernel): auto (default),\n"
                "               portable, avx2, avx512 or neon\n"
                "  --all        GEMM: every kernel this CPU supports, not only auto and ref\n"
                "  --only S     run section S alone: fmnist (with rss), gemm, infer or xor\n",
            MAX_EPOCHS, MAX_THREADS);
}

/* The whole of s as a decimal integer in lo..hi. */
static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

int main(int argc, char **argv)
{
    int epochs = 5, max_threads = 2;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    const char *only = NULL;
    bool all = false;
    nn_kernel kernel = NN_KERNEL_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--all") == 0) {
            all = true;
        } else if (strcmp(a, "--epochs") == 0 && v) {
            ok = parse_int(v, 1, MAX_EPOCHS, &epochs), i++;
        } else if (strcmp(a, "--threads") == 0 && v) {
            ok = parse_int(v, 1, MAX_THREADS, &max_threads), i++;
        } else if (strcmp(a, "--kernel") == 0 && v) {
            ok = false;
            for (nn_kernel k = NN_KERNEL_AUTO; k <= NN_KERNEL_NEON; k++)
                if (strcmp(v, nn_kernel_name(k)) == 0)
                    kernel = k, ok = true;
            i++;
        } else if (strcmp(a, "--data") == 0 && v) {
            dir = v, i++;
        } else if (strcmp(a, "--only") == 0 && v) {
            ok = strcmp(v, "fmnist") == 0 || strcmp(v, "gemm") == 0 || strcmp(v, "infer") == 0 ||
                 strcmp(v, "xor") == 0;
            only = v, i++;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "nn_bench: bad argument '%s'\n", argv[i]); /* the option or its value */
            usage(stderr);
            return 2;
        }
    }
    /* W-fmnist first: the peak resident set is a high-water mark of the whole process, and
     * with nothing run before it the figure is that of the W-fmnist run alone. */
#define RUNS(section) (!only || strcmp(only, section) == 0)
    if (RUNS("fmnist")) {
        printf("# W-fmnist: MLP 784-256-128-10, ReLU, softmax + CE, SGD lr 0.05, batch 64, "
               "epochs %d; seconds per epoch: median\n", epochs);
        fflush(stdout);
        report_rss(bench_fmnist(dir, epochs, max_threads, kernel));
    }
    if (RUNS("gemm"))
        bench_gemm(all);
    if (RUNS("infer"))
        bench_inference(max_threads, kernel);
    if (RUNS("xor"))
        bench_xor(kernel);
#undef RUNS
    return 0;
}
