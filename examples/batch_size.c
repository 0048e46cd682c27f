/* The batch-size experiment of the seed article: one model, one dataset, one learning rate,
 * trained with batches of 1, 8, 32, 64, 256, 1024 samples and the full set. Small batches take
 * many cheap, noisy steps and learn the most per epoch; large ones process more samples per
 * second (one matrix product does the work of many) but take fewer steps per epoch, so they
 * need more epochs to reach the same accuracy. Somewhere between lies the batch size that
 * gets there fastest.
 *
 * The data: three interleaved spiral arms with noise (2 inputs, 3 classes), 6000 points to
 * train on and 2000 to validate with. The model: 2-64-64-3, ReLU, softmax + cross-entropy,
 * SGD with learning rate 0.05 for every batch size. For each, the program prints samples per
 * second, the epochs and seconds until validation accuracy first reaches the target, and the
 * accuracy after the last epoch; the curves go into an SVG chart.
 *
 *   usage: batch_size [--epochs N] [--target ACCURACY] [--svg FILE]
 *
 * Exits non-zero if no batch size reached the target. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

#include "common/chart.h"
#include "common/progress.h"

enum { ARMS = 3, N_TRAIN = 6000, N_VAL = 2000, N = N_TRAIN + N_VAL, RUNS = 7, MAX_EPOCHS = 500 };
static const int BATCH[RUNS] = {1, 8, 32, 64, 256, 1024, N_TRAIN};

typedef struct run {
    int batch, reached_epoch; /* 0: target never reached */
    double reached_seconds, samples_per_second, final_accuracy;
    double seconds[MAX_EPOCHS + 1], accuracy[MAX_EPOCHS + 1]; /* after each epoch; [0]: before */
} run;

/* Points along ARMS spiral arms, each arm a class, with Gaussian noise that makes the arms'
 * edges overlap a little: no model gets every point right. */
static void make_spirals(float *x /* (N, 2) */, float *y /* (N) */, nn_rng *rng)
{
    for (int i = 0; i < N; i++) {
        int arm = i % ARMS;
        float t = nn_rng_uniform(rng), pi = 3.14159265f;
        float angle = 2.5f * pi * t + 2 * pi * arm / ARMS, r = 0.15f + 0.85f * t;
        x[2 * i] = r * cosf(angle) + 0.04f * nn_rng_normal(rng);
        x[2 * i + 1] = r * sinf(angle) + 0.04f * nn_rng_normal(rng);
        y[i] = (float)arm;
    }
}

/* Trains a fresh model (the same initial weights every time) with one batch size, timing
 * the training alone and checking validation accuracy after every epoch. */
static nn_status train_with(run *r, int epochs, double target, const nn_mat *X, const nn_mat *Y,
                            const nn_mat *Xv, const nn_mat *Yv)
{
    nn_layer_spec layers[] = {
        {.units = 64, .act = NN_ACT_RELU},
        {.units = 64, .act = NN_ACT_RELU},
        {.units = ARMS, .act = NN_ACT_SOFTMAX},
    };
    nn_model_opts mopts = {.seed = 3};
    nn_model *model = NULL;
    nn_status s = nn_model_create(2, layers, 3, &mopts, &model);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 1;
    o.batch_size = r->batch;
    o.learning_rate = 0.05f;
    double trained = 0;
    if (s == NN_OK)
        s = nn_evaluate(model, Xv, Yv, NN_LOSS_CE, NULL, &r->accuracy[0]);
    for (int e = 1; e <= epochs && s == NN_OK; e++) {
        o.shuffle_seed = (uint64_t)e; /* a new order every epoch, the same for every batch size */
        double start = progress_now();
        s = nn_train(model, X, Y, &o);
        trained += progress_now() - start;
        r->seconds[e] = trained;
        if (s == NN_OK)
            s = nn_evaluate(model, Xv, Yv, NN_LOSS_CE, NULL, &r->accuracy[e]);
        if (s == NN_OK && !r->reached_epoch && r->accuracy[e] >= target) {
            r->reached_epoch = e;
            r->reached_seconds = trained;
        }
    }
    r->samples_per_second = (double)epochs * X->rows / trained;
    r->final_accuracy = r->accuracy[epochs];
    nn_model_destroy(model);
    return s;
}

static void write_chart(const char *path, const run *runs, int epochs, double target)
{
    chart_series curves[RUNS], speed;
    char names[RUNS][32];
    double batch[RUNS], rate[RUNS];
    for (int k = 0; k < RUNS; k++) {
        if (runs[k].batch == N_TRAIN)
            snprintf(names[k], sizeof names[k], "full set (%d)", N_TRAIN);
        else
            snprintf(names[k], sizeof names[k], "batch %d", runs[k].batch);
        /* From the first epoch on: on a log time axis there is no room for time 0. */
        curves[k] = chart_line(names[k], runs[k].seconds + 1, runs[k].accuracy + 1, epochs);
        batch[k] = runs[k].batch;
        rate[k] = runs[k].samples_per_second;
    }
    speed = chart_line("samples per second", batch, rate, RUNS);
    char title[96];
    snprintf(title, sizeof title, "validation accuracy while training (target %.0f%%)",
             100 * target);
    chart_panel panels[] = {
        {.title = title, .x_label = "training time (seconds, log scale)",
         .y_label = "validation accuracy", .series = curves, .n_series = RUNS, .log_x = true,
         .y_rule = &target},
        {.title = "throughput", .x_label = "batch size (log scale)",
         .y_label = "training samples per second", .series = &speed, .n_series = 1,
         .log_x = true},
    };
    if (chart_svg(path, "Batch size: same model, data and learning rate", panels, 2) == 0)
        printf("\nchart written to %s\n", path);
    else
        fprintf(stderr, "batch_size: could not write %s\n", path);
}

int main(int argc, char **argv)
{
    int epochs = 100;
    double target = 0.95;
    const char *svg = "batch_size.svg";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            target = atof(argv[++i]);
        else if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc)
            svg = argv[++i];
        else
            epochs = 0;
    }
    if (epochs < 1 || epochs > MAX_EPOCHS || !(target > 0 && target <= 1)) {
        fprintf(stderr, "usage: batch_size [--epochs N (1..%d)] [--target ACCURACY] "
                        "[--svg FILE]\n", MAX_EPOCHS);
        return 2;
    }
    static float x[N * 2], y[N];
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    make_spirals(x, y, &rng);
    nn_mat X = nn_mat_wrap(x, N_TRAIN, 2), Y = nn_mat_wrap(y, N_TRAIN, 1);
    nn_mat Xv = nn_mat_wrap(x + 2 * N_TRAIN, N_VAL, 2), Yv = nn_mat_wrap(y + N_TRAIN, N_VAL, 1);
    printf("%d spiral points (%d arms) to train on, %d to validate; 2-64-64-%d, SGD, learning "
           "rate 0.05, %d epochs each\n\n", N_TRAIN, ARMS, N_VAL, ARMS, epochs);
    printf("%10s %12s %24s %16s\n", "batch", "samples/s", "to reach the target", "final");
    printf("%10s %12s %11s %12s %16s\n", "", "", "epochs", "seconds", "accuracy");

    static run runs[RUNS];
    nn_status s = NN_OK;
    int reached = 0;
    for (int k = 0; k < RUNS && s == NN_OK; k++) {
        runs[k].batch = BATCH[k];
        s = train_with(&runs[k], epochs, target, &X, &Y, &Xv, &Yv);
        if (s != NN_OK)
            break;
        const run *r = &runs[k];
        printf("%10d %12.0f", r->batch, r->samples_per_second);
        if (r->reached_epoch)
            printf(" %11d %12.2f", r->reached_epoch, r->reached_seconds);
        else
            printf(" %11s %12s", "-", "-");
        printf(" %15.1f%%\n", 100 * r->final_accuracy);
        fflush(stdout);
        reached += r->reached_epoch > 0;
    }
    if (s != NN_OK) {
        fprintf(stderr, "batch_size: %s\n", nn_status_message(s));
        return 1;
    }
    printf("\n(target: %.1f%% validation accuracy; '-': not reached in %d epochs)\n",
           100 * target, epochs);
    write_chart(svg, runs, epochs, target);
    return reached > 0 ? 0 : 1;
}
