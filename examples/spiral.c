/* A nonlinear classifier: two interleaved spirals, which no straight line separates.
 * Each hidden unit draws one line across the plane; the next layers combine the half-planes
 * into the curved regions. The program trains on 80% of the points, reports train and
 * held-out accuracy, and draws the learned regions in the terminal with the points on top,
 * and as a PNG image (spiral.png, or the path given as the only argument).
 * Exits non-zero if held-out accuracy is below 97%. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

#include "common/chart.h"
#include "common/png.h"

enum { N_PER_CLASS = 500, N = 2 * N_PER_CLASS, N_TRAIN = N * 4 / 5, MAP_W = 64, MAP_H = 32 };

/* The picture: a plot of IMAGE² pixels with margins for the axes, and the legend on its right. */
enum { IMAGE = 480, LEFT = 90, TOP = 50, BOTTOM = 70, GAP = 24, RIGHT = 16 };

/* Point i of a spiral arm: radius grows with angle; the second arm is the first turned by π.
 * A little Gaussian noise makes it a learning problem rather than a lookup. */
static void make_spirals(float *x /* (N, 2) */, float *label /* (N) */, nn_rng *rng)
{
    for (int i = 0; i < N; i++) {
        int cls = i % 2;
        float t = (float)(i / 2) / N_PER_CLASS;      /* 0 .. 1 along the arm */
        float angle = 3.0f * 3.14159265f * t + cls * 3.14159265f, r = 0.1f + 0.9f * t;
        x[2 * i] = r * cosf(angle) + 0.02f * nn_rng_normal(rng);
        x[2 * i + 1] = r * sinf(angle) + 0.02f * nn_rng_normal(rng);
        label[i] = (float)cls;
    }
    /* Shuffle so the train/test split takes points from all along both arms. */
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(nn_rng_uniform(rng) * (float)(i + 1));
        float t0 = x[2 * i], t1 = x[2 * i + 1], tl = label[i];
        x[2 * i] = x[2 * j], x[2 * i + 1] = x[2 * j + 1], label[i] = label[j];
        x[2 * j] = t0, x[2 * j + 1] = t1, label[j] = tl;
    }
}

static int report(void *user, const nn_epoch_info *info)
{
    (void)user;
    if (info->epoch % 50 == 0)
        printf("epoch %4d  loss %.4f  train accuracy %.3f\n", info->epoch, info->loss,
               info->accuracy);
    return 0;
}

/* The plane [-1.2, 1.2]² as characters: '.' and ' ' for the predicted class of each cell,
 * 'o' and 'x' for training points of class 0 and 1 falling in it. */
static nn_status draw_map(nn_model *model, const float *x, const float *label, int n)
{
    static float grid[MAP_W * MAP_H * 2], cls[MAP_W * MAP_H * 2];
    for (int r = 0; r < MAP_H; r++)
        for (int c = 0; c < MAP_W; c++) {
            grid[2 * (r * MAP_W + c)] = -1.2f + 2.4f * (c + 0.5f) / MAP_W;
            grid[2 * (r * MAP_W + c) + 1] = 1.2f - 2.4f * (r + 0.5f) / MAP_H;
        }
    nn_mat G = nn_mat_wrap(grid, MAP_W * MAP_H, 2), P = nn_mat_wrap(cls, MAP_W * MAP_H, 2);
    nn_status s = nn_predict(model, &G, &P);
    if (s != NN_OK)
        return s;
    char map[MAP_H][MAP_W + 1];
    for (int r = 0; r < MAP_H; r++) {
        for (int c = 0; c < MAP_W; c++)
            map[r][c] = cls[2 * (r * MAP_W + c) + 1] > 0.5f ? '.' : ' ';
        map[r][MAP_W] = '\0';
    }
    for (int i = 0; i < n; i++) {
        int c = (int)((x[2 * i] + 1.2f) / 2.4f * MAP_W), r = (int)((1.2f - x[2 * i + 1]) / 2.4f * MAP_H);
        if (c >= 0 && c < MAP_W && r >= 0 && r < MAP_H)
            map[r][c] = label[i] > 0.5f ? 'x' : 'o';
    }
    printf("\nlearned regions ('.' = class 1), training points (o = class 0, x = class 1):\n");
    for (int r = 0; r < MAP_H; r++)
        printf("|%s|\n", map[r]);
    return NN_OK;
}

/* Colours: the two classes' regions (pale) and points (dark). */
static const uint8_t REGION[2][3] = {{198, 219, 239}, {253, 208, 162}};
static const uint8_t POINT[2][3] = {{33, 102, 172}, {217, 95, 14}};

/* Paints the plot area of [-1.2, 1.2]²: every pixel shaded by the predicted probability of
 * class 1 (blue regions for class 0, orange for class 1, paler where the network is less
 * sure), the training points on top. */
static nn_status draw_regions(chart_image *img, nn_model *model, const float *x,
                              const float *label, int n)
{
    float *grid = malloc(sizeof(float) * IMAGE * IMAGE * 2);
    float *prob = malloc(sizeof(float) * IMAGE * IMAGE * 2);
    nn_status s = grid && prob ? NN_OK : NN_ERR_NOMEM;
    for (int i = 0; s == NN_OK && i < IMAGE * IMAGE; i++) {
        grid[2 * i] = -1.2f + 2.4f * (i % IMAGE + 0.5f) / IMAGE;
        grid[2 * i + 1] = 1.2f - 2.4f * (i / IMAGE + 0.5f) / IMAGE;
    }
    nn_mat G = nn_mat_wrap(grid, IMAGE * IMAGE, 2), P = nn_mat_wrap(prob, IMAGE * IMAGE, 2);
    if (s == NN_OK)
        s = nn_predict(model, &G, &P);
    for (int i = 0; s == NN_OK && i < IMAGE * IMAGE; i++) {
        float p = prob[2 * i + 1], sure = fabsf(2 * p - 1); /* 0 on the boundary, 1 far off */
        const uint8_t *c = REGION[p > 0.5f];
        uint8_t shade[3];
        for (int k = 0; k < 3; k++)
            shade[k] = (uint8_t)(255 - (255 - c[k]) * (0.35f + 0.65f * sure));
        chart_image_fill(img, LEFT + i % IMAGE, TOP + i / IMAGE, 1, 1, shade);
    }
    for (int i = 0; s == NN_OK && i < n; i++) {
        int px = (int)((x[2 * i] + 1.2f) / 2.4f * IMAGE);
        int py = (int)((1.2f - x[2 * i + 1]) / 2.4f * IMAGE);
        if (px >= 0 && px < IMAGE && py >= 0 && py < IMAGE)
            chart_image_dot(img, LEFT + px, TOP + py, POINT[label[i] > 0.5f]);
    }
    free(grid);
    free(prob);
    return s;
}

/* The picture as a PNG image: the regions and points, axes in the data's units, a legend. */
static nn_status write_png(nn_model *model, const float *x, const float *label, int n,
                           const char *path)
{
    const chart_key keys[] = {
        {"class 0 point", POINT[0], CHART_KEY_DOT},   {"class 1 point", POINT[1], CHART_KEY_DOT},
        {"class 0 region", REGION[0], CHART_KEY_BOX}, {"class 1 region", REGION[1], CHART_KEY_BOX},
        {"paler: less sure", NULL, CHART_KEY_NOTE},
    };
    const int n_keys = (int)(sizeof keys / sizeof keys[0]);
    int legend_w, legend_h;
    chart_image_legend_size(keys, n_keys, &legend_w, &legend_h);
    chart_image img = {.w = LEFT + IMAGE + GAP + legend_w + RIGHT, .h = TOP + IMAGE + BOTTOM};
    img.rgb = malloc((size_t)img.w * img.h * 3);
    if (!img.rgb)
        return NN_ERR_NOMEM;
    memset(img.rgb, 255, (size_t)img.w * img.h * 3); /* white */
    nn_status s = draw_regions(&img, model, x, label, n);
    chart_image_plot plot = {.left = LEFT, .top = TOP, .width = IMAGE, .height = IMAGE,
                             .x0 = -1.2, .x1 = 1.2, .y0 = -1.2, .y1 = 1.2,
                             .title = "decision regions and training points",
                             .x_label = "x", .y_label = "y"};
    chart_image_axes(&img, &plot);
    chart_image_legend(&img, LEFT + IMAGE + GAP, TOP, keys, n_keys);
    if (s == NN_OK && png_write(path, img.rgb, img.w, img.h) != 0) {
        fprintf(stderr, "spiral: could not write %s\n", path);
        s = NN_ERR_IO;
    }
    if (s == NN_OK)
        printf("decision regions written to %s\n", path);
    free(img.rgb);
    return s;
}

int main(int argc, char **argv)
{
    const char *png_path = argc > 1 ? argv[1] : "spiral.png";
    static float x[N * 2], label[N];
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    make_spirals(x, label, &rng);
    nn_mat Xtr = nn_mat_wrap(x, N_TRAIN, 2), Ytr = nn_mat_wrap(label, N_TRAIN, 1);
    nn_mat Xte = nn_mat_wrap(x + 2 * N_TRAIN, N - N_TRAIN, 2);
    nn_mat Yte = nn_mat_wrap(label + N_TRAIN, N - N_TRAIN, 1);

    /* ReLU hidden layers (the usual choice: no saturation, cheap), two classes through a
     * softmax, labels given as class indices. */
    nn_layer_spec layers[] = {
        {.units = 32, .act = NN_ACT_RELU},
        {.units = 32, .act = NN_ACT_RELU},
        {.units = 2, .act = NN_ACT_SOFTMAX},
    };
    nn_model_opts mopts = {.seed = 1};
    nn_model *model = NULL;
    nn_status s = nn_model_create(2, layers, 3, &mopts, &model);
    nn_train_opts opts = nn_train_defaults();
    opts.epochs = 300;
    opts.batch_size = 32;
    opts.learning_rate = 0.05f;
    opts.on_epoch = report;
    if (s == NN_OK)
        s = nn_train(model, &Xtr, &Ytr, &opts);
    double train_acc = 0, test_acc = 0;
    if (s == NN_OK)
        s = nn_evaluate(model, &Xtr, &Ytr, NN_LOSS_CE, NULL, &train_acc);
    if (s == NN_OK)
        s = nn_evaluate(model, &Xte, &Yte, NN_LOSS_CE, NULL, &test_acc);
    if (s == NN_OK)
        s = draw_map(model, x, label, N_TRAIN);
    if (s == NN_OK)
        s = write_png(model, x, label, N_TRAIN, png_path);
    nn_model_destroy(model);
    if (s != NN_OK) {
        fprintf(stderr, "spiral: %s\n", nn_status_message(s));
        return 1;
    }
    printf("\ntrain accuracy %.1f%%, held-out accuracy %.1f%% (%d points)\n", 100 * train_acc,
           100 * test_acc, N - N_TRAIN);
    return test_acc >= 0.97 ? 0 : 1;
}
