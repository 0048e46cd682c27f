/* A trained network as standalone C for a device: trains on digits (a synthetic set, below)
 * or Fashion-MNIST, quantizes the network to int8 on 2,000 training images, exports both the
 * float and the int8 network as C files with a self-test, builds each with the host's C
 * compiler into a small program that runs the self-test and times predict, and prints the
 * accuracy report and the figures of the files.
 *
 *   usage: export_c [--xor | --fmnist] [--epochs N] [--out DIR] [--data DIR]
 *
 * Digits are 8×8 grey images of the ten digits drawn from a 5×7 font at a random place, with
 * strokes of random strength and noise: 6,000 to train on and 2,000 to test, from a fixed
 * seed. --fmnist uses Fashion-MNIST from DIR (by default where Debian's dataset-fashion-mnist
 * puts it) with a 784-256-128-10 network; --xor the 2-4-1 network of examples/xor.c on the
 * four XOR rows (trained, calibrated and tested on them). The files go to DIR (--out, default the current
 * directory): PREFIX.c and PREFIX.h for digits_float, digits_int8 (or xor_*, fmnist_*). The C
 * compiler is $CC, or the one that built this program. Exits non-zero if a file does not
 * build, its self-test fails, or int8 loses more than 1 point of accuracy. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nn.h>

#ifndef NN_EXAMPLE_CC
#define NN_EXAMPLE_CC "cc"
#endif
#define DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* The ten digits in a 5×7 font: one row of 5 bits per line, top first. */
static const unsigned char FONT[10][7] = {
    {14, 17, 19, 21, 25, 17, 14}, {4, 12, 4, 4, 4, 4, 14},   {14, 17, 1, 2, 4, 8, 31},
    {31, 2, 4, 2, 1, 17, 14},     {2, 6, 10, 18, 31, 2, 2},  {31, 16, 30, 1, 1, 17, 14},
    {6, 8, 16, 30, 17, 17, 14},   {31, 1, 2, 4, 8, 8, 8},    {14, 17, 17, 14, 17, 17, 14},
    {14, 17, 17, 15, 1, 2, 12}};

/* n digit images (n, 64) in [0, 1] and their labels (n, 1). */
static void make_digits(nn_mat *X, nn_mat *Y, int n, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int k = 0; k < n; k++) {
        int d = k % 10, dx = (int)(nn_rng_next(&rng) % 4), dy = (int)(nn_rng_next(&rng) % 2);
        float ink = 0.6f + 0.4f * nn_rng_uniform(&rng), *img = X->data + (size_t)k * 64;
        Y->data[k] = (float)d;
        for (int p = 0; p < 64; p++)
            img[p] = 0.15f * nn_rng_uniform(&rng);
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 5; c++)
                if (FONT[d][r] >> (4 - c) & 1 && nn_rng_uniform(&rng) > 0.1f) {
                    float *px = &img[(r + dy) * 8 + c + dx];
                    *px += ink * (0.7f + 0.3f * nn_rng_uniform(&rng));
                    *px = *px > 1.0f ? 1.0f : *px;
                }
    }
}

typedef struct data {
    nn_mat X_train, Y_train, X_test, Y_test;
} data;

static nn_status load(const char *dir, const char *name, nn_mat *out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    nn_error err;
    nn_status s = nn_idx_load(path, NULL, out, &err);
    if (s != NN_OK)
        fprintf(stderr, "export_c: %s (apt-get install dataset-fashion-mnist)\n", err.message);
    return s;
}

typedef enum task { DIGITS, XOR, FMNIST } task;

static nn_status load_data(task k, const char *dir, data *d)
{
    if (k == XOR) {
        static const float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0};
        nn_status s = nn_mat_alloc(&d->X_train, 4, 2);
        if (s == NN_OK) s = nn_mat_alloc(&d->Y_train, 4, 1);
        if (s == NN_OK) s = nn_mat_alloc(&d->X_test, 4, 2);
        if (s == NN_OK) s = nn_mat_alloc(&d->Y_test, 4, 1);
        if (s == NN_OK) {
            memcpy(d->X_train.data, x, sizeof x), memcpy(d->X_test.data, x, sizeof x);
            memcpy(d->Y_train.data, y, sizeof y), memcpy(d->Y_test.data, y, sizeof y);
        }
        return s;
    }
    if (k == DIGITS) {
        nn_status s = nn_mat_alloc(&d->X_train, 6000, 64);
        if (s == NN_OK) s = nn_mat_alloc(&d->Y_train, 6000, 1);
        if (s == NN_OK) s = nn_mat_alloc(&d->X_test, 2000, 64);
        if (s == NN_OK) s = nn_mat_alloc(&d->Y_test, 2000, 1);
        if (s == NN_OK) {
            make_digits(&d->X_train, &d->Y_train, 6000, 1);
            make_digits(&d->X_test, &d->Y_test, 2000, 2);
        }
        return s;
    }
    nn_status s = load(dir, "train-images-idx3-ubyte", &d->X_train);
    if (s == NN_OK) s = load(dir, "train-labels-idx1-ubyte", &d->Y_train);
    if (s == NN_OK) s = load(dir, "t10k-images-idx3-ubyte", &d->X_test);
    if (s == NN_OK) s = load(dir, "t10k-labels-idx1-ubyte", &d->Y_test);
    if (s == NN_OK) {
        nn_mat_scale(&d->X_train, 1.0f / 255);
        nn_mat_scale(&d->X_test, 1.0f / 255);
    }
    return s;
}

/* Microseconds per call of nn_predict at batch 1: the median of three runs over n rows. */
static double predict_us(nn_model *m, const nn_mat *X, int n)
{
    double runs[3];
    float out[16];
    for (int r = 0; r < 3; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int k = 0; k < n; k++) {
            nn_mat x = nn_mat_wrap(X->data + (size_t)(k % X->rows) * X->cols, 1, X->cols);
            nn_mat y = nn_mat_wrap(out, 1, nn_model_outputs(m));
            nn_predict(m, &x, &y);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        runs[r] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
    }
    double lo = runs[0] < runs[1] ? runs[0] : runs[1], hi = runs[0] < runs[1] ? runs[1] : runs[0];
    return runs[2] < lo ? lo : runs[2] > hi ? hi : runs[2];
}

/* The driver: the file's self-test, then predict timed over its stored rows (median of 3). */
static const char DRIVER[] =
    "#define _POSIX_C_SOURCE 200809L\n"
    "#include <stdio.h>\n#include <time.h>\n#include \"%s.h\"\n#include \"%s.c\"\n"
    "int main(void)\n{\n"
    "    %s scratch[%s_SCRATCH_LEN + 1];\n    float out[%s_N_OUT];\n"
    "    double runs[3], lo, hi;\n    int r, k, n = %d, failed = %s_selftest(scratch);\n"
    "    for (r = 0; r < 3; r++) {\n"
    "        struct timespec t0, t1;\n        clock_gettime(CLOCK_MONOTONIC, &t0);\n"
    "        for (k = 0; k < n; k++)\n"
    "            %s_predict(%s_test_in + (k %% %d) * %s_N_IN, out, scratch);\n"
    "        clock_gettime(CLOCK_MONOTONIC, &t1);\n"
    "        runs[r] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;\n"
    "    }\n"
    "    lo = runs[0] < runs[1] ? runs[0] : runs[1];\n    hi = runs[0] < runs[1] ? runs[1] : runs[0];\n"
    "    printf(\"%%d %%.3f\\n\", failed, runs[2] < lo ? lo : runs[2] > hi ? hi : runs[2]);\n"
    "    return failed;\n}\n";

/* Exports one file with a self-test on the first K test rows, builds and runs its driver. */
static int export_and_run(nn_model *m, const nn_quant *q, const char *dir, const char *prefix,
                          const nn_mat *X_test, const char *about, int reps)
{
    int K = X_test->rows < 20 ? X_test->rows : 20;
    char path[4096], header[4096], driver[4096], bin[4096], cmd[16384];
    snprintf(path, sizeof path, "%s/%s.c", dir, prefix);
    snprintf(header, sizeof header, "%s/%s.h", dir, prefix);
    nn_mat T = nn_mat_wrap(X_test->data, K, X_test->cols);
    nn_export_c_opts o = {.prefix = prefix, .quant = q, .selftest = &T, .scratch_arg = true,
                          .header_path = header, .description = about};
    nn_export_c_info info;
    nn_status s = nn_model_export_c(m, path, &o, &info);
    if (s != NN_OK) {
        fprintf(stderr, "export_c: %s: %s (%s)\n", path, nn_status_message(s), info.message);
        return 1;
    }
    char upper[64];
    for (size_t i = 0; i <= strlen(prefix); i++)
        upper[i] = (char)(prefix[i] >= 'a' && prefix[i] <= 'z' ? prefix[i] - 32 : prefix[i]);
    snprintf(driver, sizeof driver, "%s/%s_driver.c", dir, prefix);
    FILE *f = fopen(driver, "w");
    if (!f)
        return 1;
    fprintf(f, DRIVER, prefix, prefix, q ? "int8_t" : "float", upper, upper, reps, prefix, prefix,
            prefix, K, upper);
    fclose(f);
    const char *cc = getenv("CC") ? getenv("CC") : NN_EXAMPLE_CC;
    snprintf(bin, sizeof bin, "%s/%s_driver", dir, prefix);
    snprintf(cmd, sizeof cmd, "'%s' -std=c99 -O2 -Wall -Wextra -Werror -I'%s' '%s' -o '%s' -lm"
             " && '%s'", cc, dir, driver, bin, bin);
    FILE *p = popen(cmd, "r");
    int failed = -1;
    double us = 0.0;
    if (!p || fscanf(p, "%d %lf", &failed, &us) != 2)
        failed = -1;
    if (p)
        pclose(p);
    printf("%-13s %s: flash %zu B (constants %zu, code ~%zu, self-test %zu), RAM %zu B, "
           "%llu MACs; self-test %s; %.2f us per inference\n", prefix, path, info.flash_bytes,
           info.weight_bytes, info.code_bytes, info.test_bytes, info.ram_bytes,
           (unsigned long long)info.macs, failed == 0 ? "passed" : "FAILED", us);
    return failed != 0;
}

int main(int argc, char **argv)
{
    task k = DIGITS;
    int epochs = 0;
    const char *out = ".", *dir = DEFAULT_DIR;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fmnist"))
            k = FMNIST;
        else if (!strcmp(argv[i], "--xor"))
            k = XOR;
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: export_c [--xor | --fmnist] [--epochs N] [--out DIR] [--data DIR]\n");
            return 2;
        }
    }
    data d = {0};
    if (load_data(k, dir, &d) != NN_OK)
        return 1;
    nn_layer_spec fm[] = {{.units = 256, .act = NN_ACT_RELU}, {.units = 128, .act = NN_ACT_RELU},
                          {.units = 10, .act = NN_ACT_SOFTMAX}};
    nn_layer_spec dg[] = {{.units = 32, .act = NN_ACT_RELU}, {.units = 10, .act = NN_ACT_SOFTMAX}};
    nn_layer_spec xr[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    nn_layer_spec *layers[] = {dg, xr, fm};
    static const char *const names[] = {"digits", "xor", "fmnist"};
    static const char *const nets[] = {"64-32-10 on synthetic digits", "2-4-1 on XOR",
                                       "784-256-128-10 on Fashion-MNIST"};
    static const char *const abouts[] = {
        "synthetic 8x8 digits (examples/export_c.c), pixels in [0, 1]", "XOR of two 0/1 inputs",
        "Fashion-MNIST, 60,000 training images, pixels / 255"};
    nn_model *m;
    nn_model_opts mo = {.seed = 1};
    nn_status s = nn_model_create(d.X_train.cols, layers[k], k == FMNIST ? 3 : 2, &mo, &m);
    nn_train_opts t = nn_train_defaults();
    static const int default_epochs[] = {30, 2000, 5};
    t.epochs = epochs > 0 ? epochs : default_epochs[k];
    t.batch_size = k == XOR ? 4 : 64;
    t.learning_rate = k == XOR ? 0.5f : 0.1f;
    if (k != XOR)
        t.schedule = (nn_schedule){.kind = NN_SCHED_COSINE};
    const char *about = abouts[k];
    if (s == NN_OK) {
        printf("training %s for %d epochs...\n", nets[k], t.epochs);
        s = nn_train(m, &d.X_train, &d.Y_train, &t);
    }
    if (s == NN_OK)
        s = nn_model_set_meta(m, "trained_on", about, strlen(about));
    nn_quant *q = NULL;
    nn_mat calib = nn_mat_wrap(d.X_train.data, d.X_train.rows < 2000 ? d.X_train.rows : 2000,
                               d.X_train.cols);
    if (s == NN_OK)
        s = nn_quantize(m, &calib, NULL, &q);
    nn_quant_report r;
    if (s == NN_OK)
        s = nn_quant_evaluate(m, q, &d.X_test, &d.Y_test, &r);
    if (s != NN_OK) {
        fprintf(stderr, "export_c: %s\n", nn_status_message(s));
        return 1;
    }
    printf("test accuracy: float %.2f%%, int8 %.2f%% (%+.2f points); largest output difference "
           "%.4f (mean %.5f); parameters %zu B as float, %zu B as int8 (%.2f of the float size)\n",
           100 * r.float_accuracy, 100 * r.int8_accuracy,
           100 * (r.int8_accuracy - r.float_accuracy), r.max_output_diff, r.mean_output_diff,
           r.float_bytes, r.int8_bytes, (double)r.int8_bytes / (double)r.float_bytes);
    int reps = k == FMNIST ? 2000 : 100000;
    printf("nn_predict, batch 1: %.2f us per inference\n", predict_us(m, &d.X_test, reps));
    char prefix[2][32];
    snprintf(prefix[0], sizeof prefix[0], "%s_float", names[k]);
    snprintf(prefix[1], sizeof prefix[1], "%s_int8", names[k]);
    int failed = export_and_run(m, NULL, out, prefix[0], &d.X_test, about, reps);
    failed |= export_and_run(m, q, out, prefix[1], &d.X_test, about, reps);
    bool close = r.float_accuracy - r.int8_accuracy <= 0.01;
    if (!close)
        fprintf(stderr, "export_c: int8 lost more than 1 point of accuracy\n");
    nn_quant_destroy(q);
    nn_model_destroy(m);
    nn_mat_free(&d.X_train);
    nn_mat_free(&d.Y_train);
    nn_mat_free(&d.X_test);
    nn_mat_free(&d.Y_test);
    return failed || !close;
}
