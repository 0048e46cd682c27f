/* C export: every generated file is compiled with the C compiler that built the tests
 * (NN_TEST_CC) into a small driver that #includes it, and run. The float file's outputs must
 * match nn_predict's on 1,000 inputs, for networks of every activation; its exp, expm1, tanh
 * and sigmoid must give fastmath.h's bits; the int8 file must give nn_quant_predict's bits;
 * both self-tests must pass, and fail once a weight of the file is changed. Then the refusals:
 * bad arguments write nothing and leave an existing file as it was.
 * Shape letters: N rows, I inputs, O outputs. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "kernels/fastmath.h"
#include "net/quant.h"
#include "test_util.h"

#ifndef NN_TEST_CC
#error "NN_TEST_CC must name the C compiler (tests/CMakeLists.txt)"
#endif

enum { N = 1000 };

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nn-export-c-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
    static char path[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Compiles driver.c (which includes the generated file) with extra flags; true if it built. */
static bool build(const char *driver_text, const char *flags)
{
    write_text(in_dir("driver.c"), driver_text);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -std=c99 -O2 -Wall -Wextra -Werror %s -I'%s' '%s' -o '%s' -lm",
             NN_TEST_CC, flags, dir, in_dir("driver.c"), in_dir("driver"));
    return system(cmd) == 0;
}

/* Runs the driver on n floats of input (a file), reading m floats of output; its status. */
static int run(const float *in, size_t n, float *out, size_t m)
{
    FILE *f = fopen(in_dir("in.bin"), "wb");
    assert_non_null(f);
    if (n > 0) /* a self-test run reads no input, and in may then be NULL */
        assert_int_equal(fwrite(in, sizeof *in, n, f), n);
    assert_int_equal(fclose(f), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' < '%s' > '%s'", in_dir("driver"), in_dir("in.bin"),
             in_dir("out.bin"));
    int status = system(cmd);
    if (m) {
        f = fopen(in_dir("out.bin"), "rb");
        assert_non_null(f);
        assert_int_equal(fread(out, sizeof *out, m, f), m);
        fclose(f);
    }
    return status;
}

/* The float driver: N rows of I floats in, predict's O floats out. */
static const char FLOAT_DRIVER[] =
    "#include <stdio.h>\n"
    "#include \"net.c\"\n"
    "int main(void)\n"
    "{\n"
    "    float in[NI], out[NO];\n"
    "    while (fread(in, sizeof in, 1, stdin) == 1) {\n"
    "        net_predict(in, out);\n"
    "        fwrite(out, sizeof out, 1, stdout);\n"
    "    }\n"
    "    return 0;\n"
    "}\n";

static nn_model *make(int n_in, const nn_layer_spec *layers, int n_layers, uint64_t seed)
{
    nn_model *m;
    nn_model_opts o = {.seed = seed};
    assert_int_equal(nn_model_create(n_in, layers, n_layers, &o, &m), NN_OK);
    /* Non-zero biases and slopes, so that every parameter matters. */
    float *p;
    size_t n = nn_model_params(m, &p, NULL);
    nn_rng rng;
    nn_rng_seed(&rng, seed + 1);
    for (int l = 0; l < n_layers; l++) {
        nn_layer_view v;
        assert_int_equal(nn_model_layer(m, l, &v), NN_OK);
        for (int j = 0; j < v.n_out; j++)
            v.b.data[j] = 0.4f * nn_rng_uniform(&rng) - 0.2f;
        for (int j = 0; v.s.data && j < v.s.cols; j++)
            v.s.data[j] = 0.1f + 0.3f * nn_rng_uniform(&rng);
    }
    (void)n;
    return m;
}

/* The largest relative deviation of rows of c from rows of r (n rows of O), row-wise in the
 * max norm: max_j |c_j − r_j| / max_j |r_j|. Elementwise, an output near 0 (a linear or tanh
 * output, say) is the difference of larger terms, whose rounding in another order moves it
 * by an amount relative to them, not to itself. */
static double worst_rel(const float *c, const float *r, size_t n, int O)
{
    double worst = 0.0;
    for (size_t k = 0; k < n; k++, c += O, r += O) {
        double norm = 0.0, d = 0.0;
        for (int j = 0; j < O; j++) {
            norm = fmax(norm, fabs((double)r[j]));
            d = fmax(d, fabs((double)c[j] - r[j]));
        }
        worst = fmax(worst, norm > 0.0 ? d / norm : d);
    }
    return worst;
}

/* How the exported file's outputs compare with nn_predict's on N uniform inputs in [-2, 2). */
typedef struct deviation {
    double batch;    /* worst_rel against nn_predict on all N rows at once */
    double self;     /* worst_rel of nn_predict one row at a time against all rows at once */
    long row_differ; /* outputs whose bits differ from nn_predict's one row at a time */
} deviation;

/* Exports m as net.c (prefix "net") with this math, builds the float driver and measures. */
static deviation float_deviation(nn_model *m, nn_export_math math)
{
    int I = nn_model_inputs(m), O = nn_model_outputs(m);
    nn_export_c_opts o = {.prefix = "net", .math = math};
    assert_int_equal(nn_model_export_c(m, in_dir("net.c"), &o, NULL), NN_OK);
    char flags[64];
    snprintf(flags, sizeof flags, "-DNI=%d -DNO=%d", I, O);
    assert_true(build(FLOAT_DRIVER, flags));
    nn_mat X, want, one;
    assert_int_equal(nn_mat_alloc(&X, N, I), NN_OK);
    assert_int_equal(nn_mat_alloc(&want, N, O), NN_OK);
    assert_int_equal(nn_mat_alloc(&one, N, O), NN_OK);
    fill_uniform(&X, -2.0f, 2.0f, 7);
    assert_int_equal(nn_predict(m, &X, &want), NN_OK);
    for (int r = 0; r < N; r++) {
        nn_mat x = nn_mat_wrap(X.data + (size_t)r * I, 1, I), y = nn_mat_wrap(one.data + (size_t)r * O, 1, O);
        assert_int_equal(nn_predict(m, &x, &y), NN_OK);
    }
    float *got = malloc(sizeof(float) * N * O);
    assert_non_null(got);
    assert_int_equal(run(X.data, (size_t)N * I, got, (size_t)N * O), 0);
    deviation d = {worst_rel(got, want.data, N, O), worst_rel(one.data, want.data, N, O), 0};
    for (size_t i = 0; i < (size_t)N * O; i++)
        d.row_differ += memcmp(&got[i], &one.data[i], sizeof(float)) != 0;
    free(got);
    nn_mat_free(&X);
    nn_mat_free(&want);
    nn_mat_free(&one);
    return d;
}

/* ------------------------------------------------------------ float */

/* Every activation in one network: within 1e-6 of nn_predict on 1,000 rows (worst_rel's
 * relative measure). And each activation alone, in three layers so that it is the output,
 * whose error is measured. nn_predict takes one path for a row of a small layer and another
 * for a batch: the file gives the single row's bits exactly (both sum each dot product in
 * order, with one rounding per operation), and is as close to the batch's as that row is. */
static void test_float_every_activation(void **state)
{
    (void)state;
    nn_layer_spec all[] = {
        {.units = 12, .act = NN_ACT_SIGMOID}, {.units = 12, .act = NN_ACT_TANH},
        {.units = 12, .act = NN_ACT_RELU},    {.units = 12, .act = NN_ACT_LEAKY_RELU, .act_param = 0.05f},
        {.units = 12, .act = NN_ACT_ELU, .act_param = 0.7f}, {.units = 12, .act = NN_ACT_GELU},
        {.units = 12, .act = NN_ACT_PRELU},   {.units = 12, .act = NN_ACT_PRELU_UNITS},
        {.units = 12, .act = NN_ACT_SOFTMAX}, {.units = 12, .act = NN_ACT_LINEAR},
        {.units = 5, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make(7, all, 11, 1);
    deviation d = float_deviation(m, NN_EXPORT_MATH_LIBNN);
    print_message("every activation: %.3g from nn_predict (its own rows: %.3g), %ld outputs "
                  "not its rows' bits\n", d.batch, d.self, d.row_differ);
    assert_true(d.batch <= 1e-6);
    assert_int_equal(d.row_differ, 0);
    nn_model_destroy(m);
    for (nn_act a = NN_ACT_LINEAR; a <= NN_ACT_PRELU_UNITS; a++) {
        nn_layer_spec layers[] = {{.units = 24, .act = a}, {.units = 16, .act = a},
                                  {.units = 6, .act = a}};
        m = make(9, layers, 3, 10 + a);
        d = float_deviation(m, NN_EXPORT_MATH_LIBNN);
        print_message("%-11s alone: %.3g from nn_predict (its own rows: %.3g)\n",
                      (const char *[]){"linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax",
                                       "elu", "gelu", "prelu", "prelu_units"}[a], d.batch, d.self);
        assert_int_equal(d.row_differ, 0);
        assert_true(d.batch <= 1e-6 || d.batch <= 1.5 * d.self);
        nn_model_destroy(m);
    }
}

/* Without libm (erf of the file's own) and with libm's functions: close to nn_predict, not
 * equal; GELU and tanh are where they differ. The file builds with libm unavailable. */
static void test_float_math_modes(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {{.units = 16, .act = NN_ACT_GELU}, {.units = 16, .act = NN_ACT_TANH},
                              {.units = 16, .act = NN_ACT_ELU}, {.units = 4, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make(5, layers, 4, 3);
    double own = float_deviation(m, NN_EXPORT_MATH_NO_LIBM).batch;
    char *text = read_text(in_dir("net.c"));
    assert_null(strstr(text, "#include <math.h>"));
    free(text);
    double libm = float_deviation(m, NN_EXPORT_MATH_LIBM).batch;
    print_message("no libm: %.3g, libm: %.3g\n", own, libm);
    assert_true(own <= 1e-5 && libm <= 1e-5);
    nn_model_destroy(m);
}

/* The file's exp, expm1, tanh and sigmoid against fastmath.h, bit for bit, on 200,000 values
 * spread over [-110, 110] and dense near 0. */
static void test_float_math_bits(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {{.units = 3, .act = NN_ACT_TANH}, {.units = 3, .act = NN_ACT_ELU},
                              {.units = 2, .act = NN_ACT_SIGMOID}};
    nn_model *m = make(2, layers, 3, 4);
    nn_export_c_opts o = {.prefix = "net"};
    assert_int_equal(nn_model_export_c(m, in_dir("net.c"), &o, NULL), NN_OK);
    nn_model_destroy(m);
    assert_true(build("#include <stdio.h>\n#include \"net.c\"\n"
                      "int main(void)\n{\n    float x, y[4];\n"
                      "    while (fread(&x, sizeof x, 1, stdin) == 1) {\n"
                      "        y[0] = net_exp(x); y[1] = net_expm1(x);\n"
                      "        y[2] = net_tanh(x); y[3] = net_sigmoid(x);\n"
                      "        fwrite(y, sizeof y, 1, stdout);\n    }\n"
                      "    (void)net_predict;\n    return 0;\n}\n",
                      "-Wno-unused-function"));
    enum { K = 200000 };
    float *x = malloc(sizeof(float) * K), *y = malloc(sizeof(float) * 4 * K);
    assert_true(x && y);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int i = 0; i < K; i++)
        x[i] = i % 2 ? 220.0f * nn_rng_uniform(&rng) - 110.0f
                     : ldexpf(nn_rng_uniform(&rng) - 0.5f, -(i % 40));
    assert_int_equal(run(x, K, y, 4 * (size_t)K), 0);
    long differ = 0;
    for (int i = 0; i < K; i++) {
        float want[4] = {nn__exp(x[i]), nn__expm1(x[i]), nn__tanh(x[i]), nn__sigmoid_inline(x[i])};
        differ += memcmp(want, y + 4 * (size_t)i, sizeof want) != 0;
    }
    assert_int_equal(differ, 0);
    free(x);
    free(y);
}

/* ------------------------------------------------------------ int8 */

/* The int8 driver: float rows in, quantized by the file's own quantize, predict's outputs out. */
static const char INT8_DRIVER[] =
    "#include <stdio.h>\n"
    "#include \"qnet.c\"\n"
    "int main(void)\n"
    "{\n"
    "    float x[NI], out[NO];\n"
    "    int8_t in[NI];\n"
    "    while (fread(x, sizeof x, 1, stdin) == 1) {\n"
    "        qnet_quantize(x, in);\n"
    "        qnet_predict(in, out);\n"
    "        fwrite(out, sizeof out, 1, stdout);\n"
    "    }\n"
    "    return 0;\n"
    "}\n";

/* Every kind of int8 layer (linear, ReLU, leaky, PReLU, the tables of sigmoid, tanh, ELU and
 * GELU) and a softmax output: the file computes nn_quant_predict's bits. */
static void test_int8_matches_host(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {
        {.units = 20, .act = NN_ACT_RELU},  {.units = 20, .act = NN_ACT_SIGMOID},
        {.units = 20, .act = NN_ACT_LEAKY_RELU}, {.units = 20, .act = NN_ACT_TANH},
        {.units = 20, .act = NN_ACT_PRELU_UNITS}, {.units = 20, .act = NN_ACT_ELU},
        {.units = 20, .act = NN_ACT_LINEAR}, {.units = 20, .act = NN_ACT_GELU},
        {.units = 20, .act = NN_ACT_PRELU}, {.units = 6, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make(10, layers, 10, 8);
    nn_mat X, want;
    assert_int_equal(nn_mat_alloc(&X, N, 10), NN_OK);
    assert_int_equal(nn_mat_alloc(&want, N, 6), NN_OK);
    fill_uniform(&X, -1.0f, 1.0f, 9);
    nn_mat calib = nn_mat_wrap(X.data, 200, 10);
    nn_quant *q;
    assert_int_equal(nn_quantize(m, &calib, NULL, &q), NN_OK);
    assert_int_equal(nn_quant_predict(q, &X, &want), NN_OK);
    nn_export_c_opts o = {.prefix = "qnet", .quant = q};
    assert_int_equal(nn_model_export_c(m, in_dir("qnet.c"), &o, NULL), NN_OK);
    assert_true(build(INT8_DRIVER, "-DNI=10 -DNO=6"));
    float *got = malloc(sizeof(float) * N * 6);
    assert_non_null(got);
    assert_int_equal(run(X.data, (size_t)N * 10, got, (size_t)N * 6), 0);
    assert_memory_equal(got, want.data, sizeof(float) * N * 6);
    free(got);
    nn_quant_destroy(q);
    nn_mat_free(&X);
    nn_mat_free(&want);
    nn_model_destroy(m);
}

/* ------------------------------------------------------------ self-tests */

/* Float and int8, on the stack and with the caller's scratch: the self-test passes; with one
 * weight of the file changed it reports a row. */
static void selftest_case(nn_model *m, const nn_quant *q, bool scratch_arg)
{
    nn_mat X;
    assert_int_equal(nn_mat_alloc(&X, 12, nn_model_inputs(m)), NN_OK);
    fill_uniform(&X, -1.0f, 1.0f, 11);
    nn_export_c_opts o = {.prefix = "net", .quant = q, .selftest = &X, .scratch_arg = scratch_arg};
    nn_export_c_info info;
    assert_int_equal(nn_model_export_c(m, in_dir("net.c"), &o, &info), NN_OK);
    assert_string_equal(info.message, "exported");
    char driver[512];
    snprintf(driver, sizeof driver,
             "#include \"net.c\"\nint main(void)\n{\n%s    return net_selftest(%s);\n}\n",
             scratch_arg ? (q ? "    int8_t s[NET_LEN];\n" : "    float s[NET_LEN];\n") : "",
             scratch_arg ? "s" : "");
    char flags[64];
    snprintf(flags, sizeof flags, "-DNET_LEN=%zu", info.ram_bytes / (q ? 1 : 4) + 1);
    assert_true(build(driver, flags));
    assert_int_equal(run(NULL, 0, NULL, 0), 0);
    /* The first weight's value changed: 0x1.xxx becomes 0x1.8xxx or 0x1.4xxx. */
    char *text = read_text(in_dir("net.c"));
    char *w = strstr(strstr(text, "net_w0["), "0x1.");
    assert_non_null(w);
    w[4] = w[4] == '8' ? '4' : '8';
    write_text(in_dir("net.c"), text);
    free(text);
    assert_true(build(driver, flags));
    assert_int_not_equal(run(NULL, 0, NULL, 0), 0);
    nn_mat_free(&X);
}

static void test_selftest(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {{.units = 16, .act = NN_ACT_RELU}, {.units = 8, .act = NN_ACT_TANH},
                              {.units = 3, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make(6, layers, 3, 12);
    nn_mat X;
    assert_int_equal(nn_mat_alloc(&X, 100, 6), NN_OK);
    fill_uniform(&X, -1.0f, 1.0f, 13);
    nn_quant *q;
    assert_int_equal(nn_quantize(m, &X, NULL, &q), NN_OK);
    for (int scratch = 0; scratch < 2; scratch++) {
        selftest_case(m, NULL, scratch);
        /* The int8 file's weights are decimal: change the first one's last digit instead. */
        nn_mat T;
        assert_int_equal(nn_mat_alloc(&T, 12, 6), NN_OK);
        fill_uniform(&T, -1.0f, 1.0f, 11);
        nn_export_c_opts o = {.prefix = "net", .quant = q, .selftest = &T, .scratch_arg = scratch};
        nn_export_c_info info;
        assert_int_equal(nn_model_export_c(m, in_dir("net.c"), &o, &info), NN_OK);
        char driver[512];
        snprintf(driver, sizeof driver,
                 "#include \"net.c\"\nint main(void)\n{\n    int8_t s[%zu];\n"
                 "    (void)s;\n    return net_selftest(%s);\n}\n", info.ram_bytes + 1,
                 scratch ? "s" : "");
        assert_true(build(driver, ""));
        assert_int_equal(run(NULL, 0, NULL, 0), 0);
        char *text = read_text(in_dir("net.c"));
        char *w = strstr(text, "net_b0[");
        w = strstr(w, "{\n    ") + 6; /* the first bias, an int32 that matters */
        *w = *w == '9' ? '1' : '9'; /* "-12" becomes "912", "0" "9", "95" "15" */
        write_text(in_dir("net.c"), text);
        free(text);
        assert_true(build(driver, ""));
        assert_int_not_equal(run(NULL, 0, NULL, 0), 0);
        nn_mat_free(&T);
    }
    nn_quant_destroy(q);
    nn_mat_free(&X);
    nn_model_destroy(m);
}

/* ------------------------------------------------------------ refusals */

/* Each refused export returns its status and a message, and leaves the file at path as it
 * was (here: a file holding "old"), with no temporary file beside it. */
static void refused(nn_model *m, const nn_export_c_opts *o, nn_status want)
{
    const char *path = in_dir("old.c");
    write_text(path, "old");
    nn_export_c_info info;
    assert_int_equal(nn_model_export_c(m, path, o, &info), want);
    assert_non_null(info.message);
    assert_string_not_equal(info.message, "exported");
    char *text = read_text(path);
    assert_string_equal(text, "old");
    free(text);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.0.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_refusals(void **state)
{
    (void)state;
    nn_layer_spec layers[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m = make(3, layers, 2, 14);
    const char *bad[] = {"", "1net", "_net", "net-a", "net a", "abcdefghijabcdefghijabcdefghijabc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused(m, &(nn_export_c_opts){.prefix = bad[i]}, NN_ERR_INVALID_ARG);
    refused(m, &(nn_export_c_opts){.math = (nn_export_math)7}, NN_ERR_INVALID_ARG);
    float x[8] = {0};
    nn_mat wrong = nn_mat_wrap(x, 2, 4), nan_rows = nn_mat_wrap(x, 2, 3);
    refused(m, &(nn_export_c_opts){.selftest = &wrong}, NN_ERR_INVALID_ARG);
    x[1] = NAN;
    refused(m, &(nn_export_c_opts){.selftest = &nan_rows}, NN_ERR_INVALID_ARG);
    /* a quantized model of another shape */
    nn_layer_spec other[] = {{.units = 5, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m2 = make(3, other, 2, 15);
    nn_quant *q;
    x[1] = 0.5f;
    assert_int_equal(nn_quantize(m2, &nan_rows, NULL, &q), NN_OK);
    refused(m, &(nn_export_c_opts){.quant = q}, NN_ERR_INVALID_ARG);
    nn_quant_destroy(q);
    nn_model_destroy(m2);
    /* a parameter that is not finite */
    nn_layer_view v;
    assert_int_equal(nn_model_layer(m, 1, &v), NN_OK);
    v.b.data[1] = INFINITY;
    refused(m, NULL, NN_ERR_INVALID_ARG);
    v.b.data[1] = 0.0f;
    /* NULLs, and a directory that does not exist (the I/O error leaves nothing) */
    assert_int_equal(nn_model_export_c(NULL, in_dir("x.c"), NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_export_c(m, NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    nn_export_c_info info;
    assert_int_equal(nn_model_export_c(m, in_dir("no/such/dir.c"), NULL, &info), NN_ERR_IO);
    assert_string_equal(info.message, "the file could not be written");
    /* an existing file is replaced whole */
    write_text(in_dir("old.c"), "old");
    assert_int_equal(nn_model_export_c(m, in_dir("old.c"), NULL, NULL), NN_OK);
    char *text = read_text(in_dir("old.c"));
    assert_non_null(strstr(text, "void model_predict(const float *in, float *out)"));
    free(text);
    nn_model_destroy(m);
}

/* The self-test's outputs come from the model's allocator: each failure is NN_ERR_NOMEM,
 * writes nothing and leaks nothing. */
static void test_alloc_failures(void **state)
{
    (void)state;
    counting_alloc c = {0};
    nn_model_opts mo = {.seed = 1, .alloc = counting_alloc_fn, .alloc_user = &c};
    nn_layer_spec layers[] = {{.units = 4, .act = NN_ACT_RELU}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m;
    assert_int_equal(nn_model_create(3, layers, 2, &mo, &m), NN_OK);
    float x[6] = {0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f};
    nn_mat X = nn_mat_wrap(x, 2, 3);
    nn_export_c_opts o = {.selftest = &X};
    float out[4];
    nn_mat P = nn_mat_wrap(out, 2, 2);
    assert_int_equal(nn_predict(m, &X, &P), NN_OK); /* the workspace, which the model keeps */
    long blocks = c.live_blocks;
    int failures = 0;
    for (long k = 1;; k++) {
        c.calls = 0;
        c.fail_at = k;
        remove(in_dir("a.c"));
        nn_status s = nn_model_export_c(m, in_dir("a.c"), &o, NULL);
        assert_int_equal(c.live_blocks, blocks);
        if (s == NN_OK)
            break;
        assert_int_equal(s, NN_ERR_NOMEM);
        assert_int_equal(access(in_dir("a.c"), F_OK), -1);
        failures++;
    }
    assert_true(failures >= 1);
    c.fail_at = 0;
    nn_model_destroy(m);
    assert_int_equal(c.live_blocks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_every_activation),
        cmocka_unit_test(test_float_math_modes),
        cmocka_unit_test(test_float_math_bits),
        cmocka_unit_test(test_int8_matches_host),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests_name("export_c", tests, setup, teardown);
}
