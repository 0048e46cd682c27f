/* House prices: regression, a linear output and the mean squared error. First the seed
 * article's model: one neuron that sees only the floor area, price ≈ w·area + b. Then a small
 * network on every feature (area, bedrooms, age, distance to the centre), which can also
 * learn that price per m² falls with distance and age in a curved way no single neuron draws.
 *
 * The data is a realistic synthetic market drawn from the seeded generator, or a CSV file
 * with a header row, the area in its first column and the price in its last (any columns in
 * between are more features). Both are split 80/20 with a seeded shuffle, standardised with
 * the training part's statistics, and judged on the held-out part: MSE, its root in the
 * price's own unit, and R². The loss curves and a predicted-against-true plot go into an SVG.
 *
 *   usage: house_price [--svg FILE] [--save-csv FILE] [data.csv]
 *
 * --save-csv writes the synthetic data as a CSV file that this program reads back. Exits
 * non-zero if the network explains less than half of the held-out variance (R² < 0.5). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

#include "common/chart.h"

enum { HOUSES = 2000, FEATURES = 4, AREA_EPOCHS = 20, MLP_EPOCHS = 60, MAX_EPOCHS = 60 };

/* One model's story: validation loss before training and after each epoch (on standardised
 * prices) and, at the end, its predictions for the held-out houses in the price's own unit. */
typedef struct result {
    const char *name;
    int epochs;
    double epoch[MAX_EPOCHS + 1], val_loss[MAX_EPOCHS + 1];
    double mse, r2;
    double *predicted; /* (V) */
} result;

/* A market of n houses, prices in thousands. Price per m² is highest in the centre and
 * falls off with distance; old houses lose value, the oldest regain a little (character);
 * bedrooms add a little on top; and every sale is ±8% luck. */
static nn_status make_houses(int n, uint64_t seed, nn_mat *X, nn_mat *Y)
{
    nn_status s = nn_mat_alloc(X, n, FEATURES);
    if (s == NN_OK)
        s = nn_mat_alloc(Y, n, 1);
    if (s != NN_OK) {
        nn_mat_free(X);
        return s;
    }
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        float area = fmaxf(25.0f, 110.0f + 38.0f * nn_rng_normal(&rng));
        float rooms = roundf(area / 32.0f + 0.6f * nn_rng_normal(&rng));
        float bedrooms = fminf(6.0f, fmaxf(1.0f, rooms));
        float age = 80.0f * nn_rng_uniform(&rng);
        float distance = fminf(40.0f, 0.5f - 7.0f * logf(1.0f - nn_rng_uniform(&rng)));
        float per_m2 = 1.1f + 2.4f * expf(-distance / 6.0f);     /* thousands per m² */
        float aging = 1.0f - 0.006f * age + 0.00005f * age * age; /* lowest near 60 years */
        float price = area * per_m2 * aging + 12.0f * bedrooms;
        float *x = X->data + (size_t)i * FEATURES;
        x[0] = area, x[1] = bedrooms, x[2] = age, x[3] = distance;
        Y->data[i] = price * (1.0f + 0.08f * nn_rng_normal(&rng));
    }
    return NN_OK;
}

static int save_csv(const char *path, const nn_mat *X, const nn_mat *Y)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "area_m2,bedrooms,age_years,distance_km,price_k\n");
    for (int i = 0; i < X->rows; i++) {
        const float *x = X->data + (size_t)i * X->cols;
        fprintf(f, "%.1f,%.0f,%.1f,%.2f,%.1f\n", x[0], x[1], x[2], x[3], Y->data[i]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Undoes a standardisation: y = y'/factor + shift, with stats (2, 1) from nn_scale_fit. */
static void unscale(const nn_mat *stats, nn_mat *P)
{
    for (int i = 0; i < P->rows; i++)
        P->data[i] = P->data[i] / stats->data[1] + stats->data[0];
}

/* Trains a model with nn_train one epoch at a time (a new shuffle each), recording the
 * validation loss, then predicts the validation prices in their own unit and scores them. */
static nn_status fit(result *res, nn_model *model, const nn_mat *Xtr, const nn_mat *Ytr,
                     const nn_mat *Xval, const nn_mat *Yval_scaled, const nn_mat *Yval,
                     const nn_mat *ystats, float lr)
{
    nn_train_opts o = nn_train_defaults();
    o.epochs = 1;
    o.batch_size = 32;
    o.learning_rate = lr;
    o.loss = NN_LOSS_MSE;
    nn_status s = nn_evaluate(model, Xval, Yval_scaled, NN_LOSS_MSE, &res->val_loss[0], NULL);
    for (int e = 1; e <= res->epochs && s == NN_OK; e++) {
        o.shuffle_seed = (uint64_t)e;
        s = nn_train(model, Xtr, Ytr, &o);
        res->epoch[e] = e;
        if (s == NN_OK)
            s = nn_evaluate(model, Xval, Yval_scaled, NN_LOSS_MSE, &res->val_loss[e], NULL);
    }
    nn_mat P = {0};
    if (s == NN_OK)
        s = nn_mat_alloc(&P, Xval->rows, 1);
    if (s == NN_OK)
        s = nn_predict(model, Xval, &P);
    if (s == NN_OK) {
        unscale(ystats, &P);
        s = nn_regression_metrics(&P, Yval, &res->mse, &res->r2);
    }
    for (int i = 0; s == NN_OK && i < Xval->rows; i++)
        res->predicted[i] = P.data[i];
    nn_mat_free(&P);
    if (s == NN_OK)
        printf("%-34s held-out MSE %9.1f   RMSE %6.1f   R² %.3f\n", res->name, res->mse,
               sqrt(res->mse), res->r2);
    return s;
}

/* The single neuron's w and b, learned on standardised data, in the data's own units:
 * y = my + (w·(x - mx)·fx + b)/fy = (w·fx/fy)·x + my + (b - w·mx·fx)/fy. */
static void print_line(nn_model *model, const nn_mat *xstats, const nn_mat *ystats)
{
    nn_layer_view v;
    if (nn_model_layer(model, 0, &v) != NN_OK)
        return;
    double w = v.W.data[0], b = v.b.data[0];
    double mx = xstats->data[0], fx = xstats->data[xstats->cols], my = ystats->data[0],
           fy = ystats->data[1];
    printf("the single neuron learned: price ≈ %.3f · area %+.1f\n", w * fx / fy,
           my + (b - w * mx * fx) / fy);
}

static void write_chart(const char *path, const result *r, int n_results, const nn_mat *Yval,
                        const char *unit)
{
    chart_series loss[2], scatter[2];
    double *truth = malloc(sizeof(double) * Yval->rows);
    if (!truth)
        return;
    for (int i = 0; i < Yval->rows; i++)
        truth[i] = Yval->data[i];
    for (int k = 0; k < n_results; k++) {
        loss[k] = chart_line(r[k].name, r[k].epoch, r[k].val_loss, r[k].epochs + 1);
        scatter[k] = chart_dots(r[k].name, truth, r[k].predicted, Yval->rows);
    }
    char xlabel[64], ylabel[64];
    snprintf(xlabel, sizeof xlabel, "true price (%s)", unit);
    snprintf(ylabel, sizeof ylabel, "predicted price (%s)", unit);
    chart_panel panels[] = {
        {.title = "held-out loss while training", .x_label = "epoch",
         .y_label = "MSE on standardised prices", .series = loss, .n_series = n_results},
        {.title = "held-out houses", .x_label = xlabel, .y_label = ylabel, .series = scatter,
         .n_series = n_results, .diagonal = true},
    };
    if (chart_svg(path, "House prices: one neuron on the area vs. a network on every feature",
                  panels, 2) == 0)
        printf("loss curves and predictions written to %s\n", path);
    else
        fprintf(stderr, "house_price: could not write %s\n", path);
    free(truth);
}

/* Copies column c of X (N, C) into a new (N, 1) matrix. */
static nn_status column(const nn_mat *X, int c, nn_mat *out)
{
    nn_status s = nn_mat_alloc(out, X->rows, 1);
    for (int i = 0; s == NN_OK && i < X->rows; i++)
        out->data[i] = X->data[(size_t)i * X->cols + c];
    return s;
}

int main(int argc, char **argv)
{
    const char *svg = "house_price.svg", *save = NULL, *csv = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc)
            svg = argv[++i];
        else if (strcmp(argv[i], "--save-csv") == 0 && i + 1 < argc)
            save = argv[++i];
        else if (argv[i][0] != '-')
            csv = argv[i];
        else {
            fprintf(stderr, "usage: house_price [--svg FILE] [--save-csv FILE] [data.csv]\n");
            return 2;
        }
    }
    nn_mat X = {0}, Y = {0}, Ys = {0}, Xa_train = {0}, Xa_val = {0};
    nn_status s;
    if (csv) {
        nn_csv_opts copts = {.header = true}; /* the price: the last column, the default */
        nn_csv_error where;
        s = nn_csv_load(csv, &copts, &X, &Y, &where);
        if (s == NN_ERR_FORMAT && where.line > 0)
            fprintf(stderr, "house_price: %s, line %d, column %d: not a number, or a line "
                            "with too few or too many fields\n", csv, where.line, where.column);
        else if (s == NN_OK)
            printf("read %d houses with %d features from %s\n", X.rows, X.cols, csv);
    } else {
        s = make_houses(HOUSES, 2024, &X, &Y);
        if (s == NN_OK)
            printf("generated %d houses: area, bedrooms, age, distance to the centre → price "
                   "(thousands)\n", HOUSES);
        if (s == NN_OK && save)
            printf(save_csv(save, &X, &Y) == 0 ? "saved them to %s\n" : "could not write %s\n",
                   save);
    }

    /* Split, then standardise features and prices with the training part's statistics. */
    nn_split sp = {0};
    float xs[2 * 64], ys[2];
    nn_mat xstats = nn_mat_wrap(xs, 2, X.cols), ystats = nn_mat_wrap(ys, 2, 1);
    if (s == NN_OK && (X.cols > 64 || X.rows < 10))
        s = NN_ERR_SHAPE;
    if (s == NN_OK)
        s = nn_split_rows(&X, &Y, 0.2, 7, &sp);
    if (s == NN_OK)
        s = nn_scale_fit(&sp.X_train, NN_SCALE_ZSCORE, &xstats);
    if (s == NN_OK)
        s = nn_scale_apply(&xstats, &sp.X_train);
    if (s == NN_OK)
        s = nn_scale_apply(&xstats, &sp.X_val);
    if (s == NN_OK)
        s = nn_scale_fit(&sp.Y_train, NN_SCALE_ZSCORE, &ystats);
    if (s == NN_OK)
        s = nn_mat_alloc(&Ys, Y.rows, 1); /* scaled prices to train on; Y keeps the originals */
    if (s == NN_OK) {
        memcpy(Ys.data, Y.data, sizeof(float) * Y.rows);
        s = nn_scale_apply(&ystats, &Ys);
    }
    int T = sp.X_train.rows, V = sp.X_val.rows;
    nn_mat Ys_train = nn_mat_wrap(Ys.data, T, 1), Ys_val = nn_mat_wrap(Ys.data + T, V, 1);
    if (s == NN_OK)
        s = column(&sp.X_train, 0, &Xa_train);
    if (s == NN_OK)
        s = column(&sp.X_val, 0, &Xa_val);

    result r[2] = {{.name = "one neuron, area only", .epochs = AREA_EPOCHS},
                   {.name = "network, every feature", .epochs = MLP_EPOCHS}};
    r[0].predicted = malloc(sizeof(double) * (V > 0 ? V : 1));
    r[1].predicted = malloc(sizeof(double) * (V > 0 ? V : 1));
    if (s == NN_OK && (!r[0].predicted || !r[1].predicted))
        s = NN_ERR_NOMEM;
    if (s == NN_OK)
        printf("%d houses to train on, %d held out\n\n", T, V);

    nn_layer_spec neuron[] = {{.units = 1, .act = NN_ACT_LINEAR}};
    nn_layer_spec network[] = {
        {.units = 32, .act = NN_ACT_RELU},
        {.units = 16, .act = NN_ACT_RELU},
        {.units = 1, .act = NN_ACT_LINEAR},
    };
    nn_model_opts mopts = {.seed = 5};
    nn_model *m0 = NULL, *m1 = NULL;
    if (s == NN_OK)
        s = nn_model_create(1, neuron, 1, &mopts, &m0);
    if (s == NN_OK)
        s = nn_model_create(X.cols, network, 3, &mopts, &m1);
    if (s == NN_OK)
        s = fit(&r[0], m0, &Xa_train, &Ys_train, &Xa_val, &Ys_val, &sp.Y_val, &ystats, 0.05f);
    if (s == NN_OK)
        print_line(m0, &xstats, &ystats);
    if (s == NN_OK)
        s = fit(&r[1], m1, &sp.X_train, &Ys_train, &sp.X_val, &Ys_val, &sp.Y_val, &ystats, 0.02f);
    if (s == NN_OK)
        write_chart(svg, r, 2, &sp.Y_val, csv ? "file's unit" : "thousands");
    if (s != NN_OK)
        fprintf(stderr, "house_price: %s\n", nn_status_message(s));
    bool learned = s == NN_OK && r[1].r2 >= 0.5;
    nn_model_destroy(m0);
    nn_model_destroy(m1);
    free(r[0].predicted);
    free(r[1].predicted);
    nn_mat_free(&Xa_train);
    nn_mat_free(&Xa_val);
    nn_mat_free(&Ys);
    nn_mat_free(&X);
    nn_mat_free(&Y);
    return learned ? 0 : 1;
}
