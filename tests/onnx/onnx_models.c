/* Trains a few small models that together use every activation, exports each with
 * nn_model_export_onnx, and writes what a runtime needs to check them: OUTDIR/<name>.onnx,
 * and OUTDIR/cases.json holding, per model, the inputs and libnn's own outputs for them
 * (nn_predict). tests/onnx/run_onnx.js runs the files in ONNX Runtime and compares.
 *
 * usage: onnx_models OUTDIR */
#include <math.h>
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct model_case {
    const char *name;
    const char *about;
    int n_in;
    int n_layers;
    nn_layer_spec layers[4];
    int train_rows;     /* 0: exported untrained, as initialised */
    int epochs;
    float learning_rate;
    float lo, hi;       /* the range of the check's inputs */
} model_case;

static const model_case cases[] = {
    {"xor", "2-4-1, tanh then sigmoid, trained on XOR", 2, 2,
     {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}},
     4, 2000, 0.5f, -0.5f, 1.5f},
    {"rings", "2-32-32-3, ReLU, leaky ReLU (0.1), softmax; trained on three rings", 2, 3,
     {{.units = 32, .act = NN_ACT_RELU},
      {.units = 32, .act = NN_ACT_LEAKY_RELU, .act_param = 0.1f},
      {.units = 3, .act = NN_ACT_SOFTMAX}},
     300, 200, 0.1f, -3.0f, 3.0f},
    {"regression", "5-16-8-8-3, sigmoid, leaky ReLU (0.01), linear, linear; trained, MSE", 5, 4,
     {{.units = 16, .act = NN_ACT_SIGMOID},
      {.units = 8, .act = NN_ACT_LEAKY_RELU},
      {.units = 8, .act = NN_ACT_LINEAR},
      {.units = 3, .act = NN_ACT_LINEAR}},
     256, 100, 0.05f, -4.0f, 4.0f},
    {"prelu-elu", "5-16-8-8-3, PReLU per unit, ELU (0.7), PReLU shared, linear; trained, MSE", 5, 4,
     {{.units = 16, .act = NN_ACT_PRELU_UNITS},
      {.units = 8, .act = NN_ACT_ELU, .act_param = 0.7f},
      {.units = 8, .act = NN_ACT_PRELU},
      {.units = 3, .act = NN_ACT_LINEAR}},
     256, 100, 0.05f, -4.0f, 4.0f},
    {"saturated", "3-8-8-4 untrained, ReLU, tanh, softmax, on inputs up to ±30", 3, 3,
     {{.units = 8, .act = NN_ACT_RELU, .init = NN_INIT_NORMAL, .init_param = 1.0f},
      {.units = 8, .act = NN_ACT_TANH},
      {.units = 4, .act = NN_ACT_SOFTMAX, .init = NN_INIT_NORMAL, .init_param = 3.0f}},
     0, 0, 0.0f, -30.0f, 30.0f},
};

enum { CHECK_ROWS = 64 };

/* Training data for case c: XOR's truth table, points on three rings labelled by ring
 * (class indices), or a smooth function of five inputs. */
static void make_data(const model_case *c, nn_rng *rng, nn_mat *X, nn_mat *Y)
{
    int O = c->layers[c->n_layers - 1].units;
    for (int r = 0; r < X->rows; r++) {
        float *x = X->data + (size_t)r * c->n_in;
        float *y = Y->data + (size_t)r * Y->cols;
        if (!strcmp(c->name, "xor")) {
            x[0] = (float)(r & 1);
            x[1] = (float)(r >> 1 & 1);
            y[0] = (float)((r & 1) ^ (r >> 1 & 1));
        } else if (!strcmp(c->name, "rings")) {
            int k = r % 3;
            float angle = 6.2831853f * nn_rng_uniform(rng);
            float radius = 0.7f * (float)(k + 1) + 0.2f * nn_rng_normal(rng);
            x[0] = radius * cosf(angle);
            x[1] = radius * sinf(angle);
            y[0] = (float)k;
        } else {
            for (int i = 0; i < c->n_in; i++)
                x[i] = -2.0f + 4.0f * nn_rng_uniform(rng);
            for (int j = 0; j < O; j++)
                y[j] = 0.5f * x[j] * x[j + 1] - 0.3f * x[j + 2] + 0.1f * (float)j;
        }
    }
}

static nn_status train(const model_case *c, nn_model *model, nn_rng *rng)
{
    int O = c->layers[c->n_layers - 1].units;
    int ycols = !strcmp(c->name, "rings") ? 1 : O;
    nn_mat X = {0}, Y = {0};
    nn_status s = nn_mat_alloc(&X, c->train_rows, c->n_in);
    if (s == NN_OK)
        s = nn_mat_alloc(&Y, c->train_rows, ycols);
    if (s == NN_OK) {
        make_data(c, rng, &X, &Y);
        nn_train_opts opts = nn_train_defaults();
        opts.epochs = c->epochs;
        opts.batch_size = c->train_rows < 32 ? c->train_rows : 32;
        opts.learning_rate = c->learning_rate;
        s = nn_train(model, &X, &Y, &opts);
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
    return s;
}

static void write_floats(FILE *f, const char *key, const float *x, size_t n)
{
    fprintf(f, "   \"%s\": [", key);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.9g", i ? ", " : "", (double)x[i]);
    fprintf(f, "]");
}

/* Exports case c to dir/<name>.onnx and appends its inputs and libnn's outputs to json. */
static int run_case(const model_case *c, const char *dir, FILE *json, bool first)
{
    nn_model_opts mopts = {.seed = 7};
    nn_model *model = NULL;
    nn_status s = nn_model_create(c->n_in, c->layers, c->n_layers, &mopts, &model);
    nn_rng rng;
    nn_rng_seed(&rng, 42);
    if (s == NN_OK && c->train_rows > 0)
        s = train(c, model, &rng);

    int O = nn_model_outputs(model);
    float in[CHECK_ROWS * 8], out[CHECK_ROWS * 8];
    nn_mat X = nn_mat_wrap(in, CHECK_ROWS, c->n_in), P = nn_mat_wrap(out, CHECK_ROWS, O);
    for (int i = 0; i < CHECK_ROWS * c->n_in; i++)
        in[i] = c->lo + (c->hi - c->lo) * nn_rng_uniform(&rng);
    in[0] = 0.0f; /* an exact zero: ReLU's kink */
    if (s == NN_OK)
        s = nn_predict(model, &X, &P);

    char path[4096];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, c->name);
    if (s == NN_OK)
        s = nn_model_export_onnx(model, path);
    nn_model_destroy(model);
    if (s != NN_OK) {
        fprintf(stderr, "onnx_models: %s: %s\n", c->name, nn_status_message(s));
        return 1;
    }
    fprintf(json, "%s  {\"name\": \"%s\", \"about\": \"%s\", \"file\": \"%s.onnx\",\n", first ? "" : ",\n",
            c->name, c->about, c->name);
    fprintf(json, "   \"rows\": %d, \"n_in\": %d, \"n_out\": %d,\n", CHECK_ROWS, c->n_in, O);
    write_floats(json, "input", in, (size_t)CHECK_ROWS * c->n_in);
    fprintf(json, ",\n");
    write_floats(json, "expected", out, (size_t)CHECK_ROWS * O);
    fprintf(json, "}");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: onnx_models OUTDIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.json", argv[1]);
    FILE *json = fopen(path, "w");
    if (!json) {
        fprintf(stderr, "onnx_models: cannot write %s\n", path);
        return 1;
    }
    fprintf(json, "{\"libnn\": \"%s\", \"cases\": [\n", nn_version());
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        failed |= run_case(&cases[i], argv[1], json, i == 0);
    fprintf(json, "\n]}\n");
    if (fclose(json) != 0)
        failed = 1;
    return failed;
}
