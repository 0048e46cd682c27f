/* Fashion-MNIST: 70,000 grey 28x28 pictures of clothing in ten classes, the harder successor
 * of the handwritten digits. The program reads the dataset's gzip-compressed IDX files as they
 * ship, scales the pixels to [0, 1], trains a 784-256-128-10 network (ReLU, softmax +
 * cross-entropy) with plain mini-batch SGD, showing a progress bar through every epoch, then
 * prints the test accuracy, the confusion matrix with the class names and each class's
 * precision, recall and F1, and draws the training curves into an SVG file.
 *
 *   usage: fashion_mnist [--strong] [--epochs N] [--batch B] [--lr RATE] [--svg FILE] [DIR]
 *
 * --strong trains with what the library offers beyond the seed's SGD, all through nn_train:
 * Nesterov momentum, weight decay, dropout, a cosine schedule after a warm-up epoch, and a
 * held-out tenth of the training set for early stopping.
 *
 * DIR holds train-images-idx3-ubyte.gz and the three other files (or their unpacked
 * versions); by default where Debian's dataset-fashion-mnist package puts them. Exits
 * non-zero if the data is missing or the network did not learn (test accuracy below 80%). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

#include "common/chart.h"
#include "common/progress.h"

#define DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
enum { CLASSES = 10, PIXELS = 28 * 28, MAX_EPOCHS = 1000 };

static const char *const CLASS_NAMES[CLASSES] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                 "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};

typedef struct recipe {
    int epochs, batch;
    float lr;
    const char *svg, *dir;
    bool strong;
} recipe;

typedef struct dataset {
    nn_mat X_train, Y_train; /* (60000, 784) pixels in [0, 1], (60000, 1) class indices */
    nn_mat X_test, Y_test;   /* (10000, 784), (10000, 1) */
} dataset;

/* The curves, one point per epoch. */
typedef struct history {
    double epoch[MAX_EPOCHS], train_loss[MAX_EPOCHS], test_loss[MAX_EPOCHS];
    double train_acc[MAX_EPOCHS], test_acc[MAX_EPOCHS];
} history;

/* Loads DIR/NAME.gz, or DIR/NAME where the files were unpacked. */
static nn_status load(const char *dir, const char *name, nn_mat *out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    nn_error err;
    nn_status s = nn_idx_load(path, NULL, out, &err);
    if (s == NN_ERR_IO) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        s = nn_idx_load(path, NULL, out, &err);
    }
    if (s != NN_OK) /* the message names the file and the reason */
        fprintf(stderr, "fashion_mnist: %s\n", err.message);
    return s;
}

static void free_data(dataset *d)
{
    nn_mat_free(&d->X_train);
    nn_mat_free(&d->Y_train);
    nn_mat_free(&d->X_test);
    nn_mat_free(&d->Y_test);
}

static nn_status load_data(const char *dir, dataset *d)
{
    nn_status s = load(dir, "train-images-idx3-ubyte", &d->X_train);
    if (s == NN_OK)
        s = load(dir, "train-labels-idx1-ubyte", &d->Y_train);
    if (s == NN_OK)
        s = load(dir, "t10k-images-idx3-ubyte", &d->X_test);
    if (s == NN_OK)
        s = load(dir, "t10k-labels-idx1-ubyte", &d->Y_test);
    if (s == NN_OK && (d->X_train.cols != PIXELS || d->X_test.cols != PIXELS ||
                       d->Y_train.rows != d->X_train.rows || d->Y_test.rows != d->X_test.rows)) {
        fprintf(stderr, "fashion_mnist: the files do not fit together (images of %d and %d "
                        "pixels, %d and %d labels)\n", d->X_train.cols, d->X_test.cols,
                d->Y_train.rows, d->Y_test.rows);
        s = NN_ERR_SHAPE;
    }
    if (s == NN_OK) { /* pixels 0..255 → [0, 1]: the range is known, no statistics needed */
        nn_mat_scale(&d->X_train, 1.0f / 255);
        nn_mat_scale(&d->X_test, 1.0f / 255);
    }
    return s;
}

/* The step size of an epoch: from r->lr down to nearly 0 along half a cosine, the curve
 * nn_train follows with NN_SCHED_COSINE (this loop is our own, so it computes it itself).
 * Large steps early cover ground; small ones late settle into a minimum instead of bouncing
 * around it. */
static float learning_rate(const recipe *r, int epoch)
{
    double pi = 3.14159265358979, t = (double)(epoch - 1) / r->epochs;
    return (float)(r->lr * 0.5 * (1 + cos(pi * t)));
}

/* One epoch of mini-batch SGD in our own loop (the loop nn_train runs, written out so that
 * the progress bar can follow each batch). xb (batch, 784) and yb (batch) are scratch. */
static nn_status train_epoch(nn_model *model, const dataset *d, const recipe *r, int epoch,
                             int *order, float *xb, float *yb, nn_rng *rng, double *mean_loss)
{
    float lr = learning_rate(r, epoch);
    int N = d->X_train.rows, batches = (N + r->batch - 1) / r->batch;
    double total = 0;
    progress bar;
    progress_begin(&bar, epoch, r->epochs, batches);
    nn_rng_shuffle(rng, order, N);
    for (int b = 0; b < batches; b++) {
        int start = b * r->batch, B = N - start < r->batch ? N - start : r->batch;
        for (int i = 0; i < B; i++) {
            memcpy(xb + (size_t)i * PIXELS, d->X_train.data + (size_t)order[start + i] * PIXELS,
                   PIXELS * sizeof(float));
            yb[i] = d->Y_train.data[order[start + i]];
        }
        nn_mat Xb = nn_mat_wrap(xb, B, PIXELS), Yb = nn_mat_wrap(yb, B, 1);
        float loss = 0;
        nn_status s = nn_zero_grad(model);
        if (s == NN_OK)
            s = nn_forward(model, &Xb, NULL);
        if (s == NN_OK)
            s = nn_backward(model, &Yb, NN_LOSS_CE, &loss);
        if (s == NN_OK && !isfinite(loss))
            s = NN_ERR_DIVERGED;
        if (s == NN_OK)
            s = nn_optim_step(model, &(nn_optim_opts){0}, lr); /* plain SGD */
        if (s != NN_OK)
            return s;
        total += (double)loss * B;
        progress_update(&bar, b + 1, start + B, total / (start + B));
    }
    *mean_loss = total / N;
    progress_end(&bar, N, *mean_loss, "");
    return NN_OK;
}

static void print_confusion(const int64_t *counts, const nn_class_score *score)
{
    printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%12s", "");
    for (int p = 0; p < CLASSES; p++)
        printf(" %6.6s", CLASS_NAMES[p]);
    printf("\n");
    for (int t = 0; t < CLASSES; t++) {
        printf("%-12s", CLASS_NAMES[t]);
        for (int p = 0; p < CLASSES; p++)
            printf(" %6lld", (long long)counts[t * CLASSES + p]);
        printf("\n");
    }
    printf("\n%-12s %9s %7s %7s %8s\n", "class", "precision", "recall", "F1", "samples");
    for (int k = 0; k < CLASSES; k++)
        printf("%-12s %9.3f %7.3f %7.3f %8lld\n", CLASS_NAMES[k], score[k].precision,
               score[k].recall, score[k].f1, (long long)score[k].support);
}

/* Test accuracy, the confusion matrix and the per-class scores of the trained model. */
static nn_status report(nn_model *model, const dataset *d, double *accuracy)
{
    nn_mat P;
    nn_status s = nn_mat_alloc(&P, d->X_test.rows, CLASSES);
    int64_t counts[CLASSES * CLASSES];
    nn_class_score score[CLASSES];
    if (s == NN_OK)
        s = nn_predict(model, &d->X_test, &P);
    if (s == NN_OK)
        s = nn_confusion(&P, &d->Y_test, counts);
    if (s == NN_OK)
        s = nn_class_metrics(counts, CLASSES, accuracy, score);
    if (s == NN_OK)
        print_confusion(counts, score);
    nn_mat_free(&P);
    return s;
}

static void write_curves(const recipe *r, const history *h, int epochs)
{
    chart_series loss[] = {
        chart_line("training, during the epoch", h->epoch, h->train_loss, epochs),
        chart_line("test", h->epoch, h->test_loss, epochs),
    };
    chart_series acc[] = {chart_line("training", h->epoch, h->train_acc, epochs),
                          chart_line("test", h->epoch, h->test_acc, epochs)};
    chart_panel panels[] = {
        {.title = "cross-entropy loss", .x_label = "epoch", .y_label = "mean loss",
         .series = loss, .n_series = 2},
        {.title = "accuracy", .x_label = "epoch", .y_label = "fraction right", .series = acc,
         .n_series = 2},
    };
    if (chart_svg(r->svg, "Fashion-MNIST: 784-256-128-10 MLP, SGD with a cosine learning rate",
                  panels, 2) == 0)
        printf("training curves written to %s\n", r->svg);
    else
        fprintf(stderr, "fashion_mnist: could not write %s\n", r->svg);
}

static int parse_args(int argc, char **argv, recipe *r)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--epochs") == 0 && v)
            r->epochs = atoi(v), i++;
        else if (strcmp(a, "--batch") == 0 && v)
            r->batch = atoi(v), i++;
        else if (strcmp(a, "--lr") == 0 && v)
            r->lr = strtof(v, NULL), i++;
        else if (strcmp(a, "--strong") == 0)
            r->strong = true;
        else if (strcmp(a, "--svg") == 0 && v)
            r->svg = v, i++;
        else if (a[0] != '-')
            r->dir = a;
        else
            return -1;
    }
    return r->epochs >= 1 && r->epochs <= MAX_EPOCHS && r->batch >= 1 && r->lr > 0 ? 0 : -1;
}

static int print_epoch(void *user, const nn_epoch_info *info)
{
    (void)user;
    printf("epoch %2d/%d  lr %.4f  loss %.4f  train acc %.4f  validation loss %.4f, acc %.4f"
           "  (%.1fs)\n", info->epoch, info->epochs, info->learning_rate, info->loss,
           info->accuracy, info->val_loss, info->val_accuracy, info->seconds);
    fflush(stdout);
    return 0;
}

/* The strong recipe: one nn_train call with the regularisers and the schedule. */
static nn_status train_strong(nn_model *model, const dataset *d, const recipe *r)
{
    nn_train_opts o = nn_train_defaults();
    o.epochs = r->epochs;
    o.batch_size = r->batch;
    o.learning_rate = r->lr;
    o.shuffle_seed = 2;
    o.optim = (nn_optim_opts){.kind = NN_OPT_SGD, .momentum = 0.9f, .nesterov = true,
                              .weight_decay = 5e-4f};
    o.schedule = (nn_schedule){.kind = NN_SCHED_COSINE, .warmup_epochs = 1};
    o.val_split = 0.1f; /* early stopping watches 6,000 training images, never the test set */
    o.patience = 6;
    o.on_epoch = print_epoch;
    printf("784-256-128-10 with dropout 0.1; Nesterov SGD, momentum 0.9, weight decay 5e-4, "
           "batch %d, cosine from %g, %d epochs at most, early stopping on a 10%% split\n",
           r->batch, r->lr, r->epochs);
    return nn_train(model, &d->X_train, &d->Y_train, &o);
}

int main(int argc, char **argv)
{
    recipe r = {.epochs = 20, .batch = 64, .lr = 0.1f, .svg = "fashion_mnist.svg",
                .dir = DEFAULT_DIR};
    bool epochs_given = false, lr_given = false;
    for (int i = 1; i < argc; i++) {
        epochs_given = epochs_given || strcmp(argv[i], "--epochs") == 0;
        lr_given = lr_given || strcmp(argv[i], "--lr") == 0;
    }
    if (parse_args(argc, argv, &r) != 0) {
        fprintf(stderr, "usage: fashion_mnist [--strong] [--epochs N] [--batch B] [--lr RATE] "
                        "[--svg FILE] [DIR]\n");
        return 2;
    }
    if (r.strong && !epochs_given)
        r.epochs = 40;
    if (r.strong && !lr_given)
        r.lr = 0.02f;
    dataset d = {0};
    double t0 = progress_now();
    nn_status s = load_data(r.dir, &d);
    if (s != NN_OK) {
        if (s == NN_ERR_IO)
            fprintf(stderr, "Fashion-MNIST was not found in %s. On Debian or Ubuntu:\n"
                            "    apt-get install dataset-fashion-mnist\n"
                            "or give the folder that holds train-images-idx3-ubyte.gz.\n", r.dir);
        free_data(&d);
        return 1;
    }
    printf("loaded %d training and %d test images from %s in %.1fs\n", d.X_train.rows,
           d.X_test.rows, r.dir, progress_now() - t0);

    float dropout = r.strong ? 0.1f : 0.0f;
    nn_layer_spec layers[] = {
        {.units = 256, .act = NN_ACT_RELU, .dropout = dropout},
        {.units = 128, .act = NN_ACT_RELU, .dropout = dropout},
        {.units = CLASSES, .act = NN_ACT_SOFTMAX},
    };
    nn_model_opts mopts = {.seed = 1};
    nn_model *model = NULL;
    s = nn_model_create(PIXELS, layers, 3, &mopts, &model);
    char summary[1024];
    if (s == NN_OK && nn_model_summary(model, summary, sizeof summary, NULL) == NN_OK)
        fputs(summary, stdout);
    int N = d.X_train.rows, *order = malloc((size_t)N * sizeof *order);
    float *xb = malloc((size_t)r.batch * PIXELS * sizeof *xb);
    float *yb = malloc((size_t)r.batch * sizeof *yb);
    history *h = calloc(1, sizeof *h);
    if (s == NN_OK && (!order || !xb || !yb || !h))
        s = NN_ERR_NOMEM;
    for (int i = 0; order && i < N; i++)
        order[i] = i;
    nn_rng rng;
    nn_rng_seed(&rng, 2);
    double train_seconds = 0;
    if (s == NN_OK && r.strong) {
        double start = progress_now();
        s = train_strong(model, &d, &r);
        train_seconds = progress_now() - start;
    } else if (s == NN_OK) {
        printf("784-256-128-10, ReLU, softmax + cross-entropy; SGD, batch %d, learning rate %g, "
               "%d epochs\n", r.batch, r.lr, r.epochs);
    }
    for (int e = 1; e <= r.epochs && s == NN_OK && !r.strong; e++) {
        double start = progress_now(), loss = 0;
        s = train_epoch(model, &d, &r, e, order, xb, yb, &rng, &loss);
        train_seconds += progress_now() - start;
        /* The curves: the training loss as the epoch went, then both sets with the weights
         * the epoch ended with. The test set only watches: nothing is tuned on it. */
        double train_acc = 0, test_loss = 0, test_acc = 0;
        if (s == NN_OK)
            s = nn_evaluate(model, &d.X_train, &d.Y_train, NN_LOSS_CE, NULL, &train_acc);
        if (s == NN_OK)
            s = nn_evaluate(model, &d.X_test, &d.Y_test, NN_LOSS_CE, &test_loss, &test_acc);
        if (s == NN_OK) {
            printf("          training accuracy %.4f   test loss %.4f, accuracy %.4f\n", train_acc,
                   test_loss, test_acc);
            h->epoch[e - 1] = e, h->train_loss[e - 1] = loss, h->test_loss[e - 1] = test_loss;
            h->train_acc[e - 1] = train_acc, h->test_acc[e - 1] = test_acc;
        }
    }
    double accuracy = 0;
    if (s == NN_OK)
        s = report(model, &d, &accuracy);
    if (s == NN_OK) {
        printf("\ntest accuracy %.2f%%; training took %.1fs\n", 100 * accuracy, train_seconds);
        if (!r.strong)
            write_curves(&r, h, r.epochs);
    } else {
        fprintf(stderr, "fashion_mnist: %s\n", nn_status_message(s));
    }
    nn_model_destroy(model);
    free(order);
    free(xb);
    free(yb);
    free(h);
    free_data(&d);
    return s == NN_OK && accuracy >= 0.80 ? 0 : 1;
}
