/* C export: a model, float or int8 (net/quant.h), as one standalone C99 file — static const
 * arrays, a predict function, an optional self-test — for programs and devices without libnn,
 * malloc or a file system.
 *
 * The file's code is written from the text fragments below, in which '@' stands for the
 * caller's prefix and '_'. Two of them restate libnn's arithmetic as plain C99: the exponential family
 * of kernels/fastmath.h (MATH_EXP, MATH_TANH) and the int8 operations of net/quant.h
 * (INT8_CORE); tests/test_export_c.c compiles them and holds their results to libnn's bits.
 * Every float goes out as a hexadecimal literal built from its bits: exact, and the same in
 * every C locale.
 * Shape letters: K self-test rows, I a layer's inputs, O its outputs. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "formats/formats.h"
#include "net/quant.h"

enum { PREFIX_MAX = 32, PER_LINE_F = 6, PER_LINE_I = 16, DESCRIPTION_MAX = 200 };

/* --------------------------------------------------------- code fragments */

static const char MATH_EXP_BASE[] =
    "/* libnn's e^x (kernels/fastmath.h): e^x = 2^n e^r, n = round(x / ln 2), |r| <= ln2/2,\n"
    " * e^r - 1 a degree-6 polynomial, 2^n built from its bits in two halves. */\n"
    "static float @pow2(uint32_t e)\n"
    "{\n"
    "    union { uint32_t u; float f; } v;\n"
    "    v.u = e << 23;\n"
    "    return v.f;\n"
    "}\n\n"
    "static float @exp_round(float x, uint32_t *n_bits)\n"
    "{\n"
    "    union { float f; uint32_t u; } k;\n"
    "    k.f = x * 1.44269504f + 12582912.0f;\n"
    "    *n_bits = k.u - 0x4b400000u;\n"
    "    return k.f - 12582912.0f;\n"
    "}\n\n"
    "static float @expm1_small(float r)\n"
    "{\n"
    "    float r2 = r * r;\n"
    "    float p01 = 4.999999702e-01f + 1.666654348e-01f * r;\n"
    "    float p23 = 4.166720062e-02f + 8.366514929e-03f * r;\n"
    "    float p = p01 + r2 * (p23 + r2 * 1.388245728e-03f);\n"
    "    return r + r2 * p;\n"
    "}\n\n"
    "static float @exp_remainder(float x, float n)\n"
    "{\n"
    "    return (x - n * 0.693359375f) - n * -2.12194440e-4f;\n"
    "}\n\n";

static const char MATH_EXP[] =
    "static float @exp(float x)\n"
    "{\n"
    "    float xc = x < -104.0f ? -104.0f : x, n, e;\n"
    "    uint32_t u, u1, u2;\n"
    "    xc = xc > 88.0f ? 88.0f : xc;\n"
    "    n = @exp_round(xc, &u);\n"
    "    u += 150u;\n"
    "    u1 = u / 2;\n"
    "    u2 = u - u1;\n"
    "    e = (1.0f + @expm1_small(@exp_remainder(xc, n))) * @pow2(u1 + 52u);\n"
    "    e *= @pow2(u2 + 52u);\n"
    "    return x < -104.0f ? 0.0f : e;\n"
    "}\n\n";

static const char MATH_EXPM1[] =
    "static float @expm1(float x)\n"
    "{\n"
    "    float xc = x < -87.336544f ? -87.336544f : x, n, two_n;\n"
    "    uint32_t n_bits;\n"
    "    xc = xc > 88.0f ? 88.0f : xc;\n"
    "    n = @exp_round(xc, &n_bits);\n"
    "    two_n = @pow2(n_bits + 127u);\n"
    "    return two_n * @expm1_small(@exp_remainder(xc, n)) + (two_n - 1.0f);\n"
    "}\n\n";

static const char MATH_TANH[] =
    "static float @tanh(float x)\n"
    "{\n"
    "    float ax = x < 0.0f ? -x : x, e, t;\n"
    "    ax = ax > 10.0f ? 10.0f : ax;\n"
    "    e = @expm1(2.0f * ax);\n"
    "    t = e / (e + 2.0f);\n"
    "    return x < 0.0f ? -t : t;\n"
    "}\n\n";

static const char MATH_SIGMOID[] =
    "static float @sigmoid(float z)\n"
    "{\n"
    "    float t = @exp(z < 0.0f ? z : -z), s = 1.0f / (1.0f + t);\n"
    "    return z >= 0.0f ? s : t * s;\n"
    "}\n\n";

/* The same functions from libm, for NN_EXPORT_MATH_LIBM. */
static const char LIBM_EXP[] = "static float @exp(float x) { return expf(x); }\n\n";
static const char LIBM_EXPM1[] = "static float @expm1(float x) { return expm1f(x); }\n\n";
static const char LIBM_TANH[] = "static float @tanh(float x) { return tanhf(x); }\n\n";
static const char LIBM_ERF[] = "static float @erf(float x) { return erff(x); }\n\n";

/* erf without libm: Abramowitz and Stegun 7.1.26, |error| <= 1.5e-7 (the file's own exp). */
static const char OWN_ERF[] =
    "static float @erf(float x)\n"
    "{\n"
    "    float a = x < 0.0f ? -x : x, t = 1.0f / (1.0f + 0.3275911f * a), y;\n"
    "    y = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f\n"
    "          + t * (-1.453152027f + t * 1.061405429f))));\n"
    "    y = 1.0f - y * @exp(-a * a);\n"
    "    return x < 0.0f ? -y : y;\n"
    "}\n\n";

/* The activations over n floats in place; the ones a model uses are written. */
static const char ACT_SIGMOID[] =
    "static void @act_sigmoid(int n, float *z)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] = @sigmoid(z[i]);\n"
    "}\n\n";
static const char ACT_TANH[] =
    "static void @act_tanh(int n, float *z)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] = @tanh(z[i]);\n"
    "}\n\n";
static const char ACT_RELU[] =
    "static void @act_relu(int n, float *z)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] = z[i] > 0.0f ? z[i] : 0.0f;\n"
    "}\n\n";
static const char ACT_LEAKY[] = /* leaky ReLU and PReLU: one slope, or one per unit */
    "static void @act_leaky(int n, float *z, const float *slope, int per_unit)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] = z[i] > 0.0f ? z[i] : slope[per_unit ? i : 0] * z[i];\n"
    "}\n\n";
static const char ACT_ELU[] =
    "static void @act_elu(int n, float *z, float alpha)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] = z[i] > 0.0f ? z[i] : alpha * @expm1(z[i]);\n"
    "}\n\n";
static const char ACT_GELU[] =
    "static void @act_gelu(int n, float *z)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] = 0.5f * z[i] * (1.0f + @erf(z[i] * 0.70710678f));\n"
    "}\n\n";
static const char ACT_SOFTMAX[] = /* as libnn's: the row's max first, then one division */
    "static void @act_softmax(int n, float *z)\n"
    "{\n"
    "    float max = z[0], sum = 0.0f, inv;\n"
    "    int i;\n"
    "    for (i = 1; i < n; i++)\n"
    "        max = z[i] > max ? z[i] : max;\n"
    "    for (i = 0; i < n; i++) {\n"
    "        z[i] = @exp(z[i] - max);\n"
    "        sum += z[i];\n"
    "    }\n"
    "    inv = 1.0f / sum;\n"
    "    for (i = 0; i < n; i++)\n"
    "        z[i] *= inv;\n"
    "}\n\n";

/* The float dense layer. Each dot product is summed in order along I, the order in which
 * libnn's packed product sums (with one rounding per multiply-add where it has FMA), so that
 * outputs differ from nn_predict's by rounding alone, not by a different order of the terms;
 * four units at a time give the processor four independent chains. */
static const char DENSE_FLOAT[] =
    "/* z (O) = W (O, I) x (I) + b (O). */\n"
    "static void @dense(int O, int I, const float *W, const float *b, const float *x, float *z)\n"
    "{\n"
    "    int j = 0, i;\n"
    "    for (; j + 4 <= O; j += 4, W += 4 * I) {\n"
    "        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;\n"
    "        for (i = 0; i < I; i++) {\n"
    "            s0 += x[i] * W[i];\n"
    "            s1 += x[i] * W[I + i];\n"
    "            s2 += x[i] * W[2 * I + i];\n"
    "            s3 += x[i] * W[3 * I + i];\n"
    "        }\n"
    "        z[j] = s0 + b[j];\n"
    "        z[j + 1] = s1 + b[j + 1];\n"
    "        z[j + 2] = s2 + b[j + 2];\n"
    "        z[j + 3] = s3 + b[j + 3];\n"
    "    }\n"
    "    for (; j < O; j++, W += I) {\n"
    "        float s = 0.0f;\n"
    "        for (i = 0; i < I; i++)\n"
    "            s += x[i] * W[i];\n"
    "        z[j] = s + b[j];\n"
    "    }\n"
    "}\n\n";

/* The int8 arithmetic of net/quant.h. */
static const char INT8_CORE[] =
    "/* bias + sum of w[i] x[i], exact in int32. */\n"
    "static int32_t @dot(int I, const int8_t *w, const int8_t *x, int32_t acc)\n"
    "{\n"
    "    int i;\n"
    "    for (i = 0; i < I; i++)\n"
    "        acc += (int32_t)w[i] * (int32_t)x[i];\n"
    "    return acc;\n"
    "}\n\n"
    "/* round(x m / 2^n), half up, 1 <= n <= 62: the product offset by 2^63 is a positive\n"
    " * uint64, so the shift is a logical one. */\n"
    "static int64_t @mul(int32_t x, int32_t m, int n)\n"
    "{\n"
    "    uint64_t u = (uint64_t)((int64_t)x * m) + (UINT64_C(1) << 63) + (UINT64_C(1) << (n - 1));\n"
    "    return (int64_t)(u >> n) - (int64_t)(UINT64_C(1) << (63 - n));\n"
    "}\n\n"
    "static int8_t @sat(int64_t v)\n"
    "{\n"
    "    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);\n"
    "}\n\n";

static const char INT8_LINEAR[] =
    "/* A linear or ReLU layer: y = max(zp + round(acc m / 2^n), floor), saturated. */\n"
    "static void @q_linear(int O, int I, const int8_t *W, const int32_t *b, const int32_t *m,\n"
    "                      const uint8_t *n, int zp, int floor, const int8_t *x, int8_t *y)\n"
    "{\n"
    "    int j;\n"
    "    for (j = 0; j < O; j++, W += I) {\n"
    "        int64_t v = zp + @mul(@dot(I, W, x, b[j]), m[j], n[j]);\n"
    "        y[j] = @sat(v < floor ? floor : v);\n"
    "    }\n"
    "}\n\n";
static const char INT8_LEAKY[] =
    "/* A leaky ReLU or PReLU layer: the multiplier of the sum's sign. */\n"
    "static void @q_leaky(int O, int I, const int8_t *W, const int32_t *b, const int32_t *m,\n"
    "                     const uint8_t *n, const int32_t *mn, const uint8_t *nn, int zp,\n"
    "                     const int8_t *x, int8_t *y)\n"
    "{\n"
    "    int j;\n"
    "    for (j = 0; j < O; j++, W += I) {\n"
    "        int32_t acc = @dot(I, W, x, b[j]);\n"
    "        y[j] = @sat(zp + (acc < 0 ? @mul(acc, mn[j], nn[j]) : @mul(acc, m[j], n[j])));\n"
    "    }\n"
    "}\n\n";
static const char INT8_TABLE[] =
    "/* A sigmoid, tanh, ELU or GELU layer: its int8 pre-activation through a table. */\n"
    "static void @q_table(int O, int I, const int8_t *W, const int32_t *b, const int32_t *m,\n"
    "                     const uint8_t *n, int zp, const int8_t *table, const int8_t *x,\n"
    "                     int8_t *y)\n"
    "{\n"
    "    int j;\n"
    "    for (j = 0; j < O; j++, W += I)\n"
    "        y[j] = table[@sat(zp + @mul(@dot(I, W, x, b[j]), m[j], n[j])) + 128];\n"
    "}\n\n";
static const char INT8_FLOAT[] =
    "/* The last layer: its sums back to float, z = acc deq. */\n"
    "static void @q_float(int O, int I, const int8_t *W, const int32_t *b, const float *deq,\n"
    "                     const int8_t *x, float *z)\n"
    "{\n"
    "    int j;\n"
    "    for (j = 0; j < O; j++, W += I) {\n"
    "        int32_t acc = @dot(I, W, x, b[j]);\n"
    "        z[j] = (float)acc * deq[j];\n"
    "    }\n"
    "}\n\n";

/* Code bytes of each fragment, of predict's call per layer and of an activation's call, as
 * arm-none-eabi-gcc 12 -mcpu=cortex-m4 -mthumb -Os makes them (soft float: the float
 * operations are calls into libgcc, whose code is not counted). Fitted by least squares to the
 * object files of 70 random models (1 to 4 layers, every activation, float and int8, with and
 * without self-test); .ci/steps/55-export-c.sh checks the estimate against `size`. */
enum {
    CODE_FLOAT_BASE = 163, CODE_INT8_BASE = 98, CODE_PER_LAYER = 65, CODE_PER_ACT = 17,
    CODE_ACT_LOOP = 15, CODE_SOFTMAX = 72, CODE_EXP_BASE = 126, CODE_EXP = 158,
    CODE_EXPM1 = 121, CODE_TANH = 69, CODE_SIGMOID = 45, CODE_ERF_OWN = 176,
    CODE_LIBM_WRAP = 19, CODE_Q_LINEAR = 154, CODE_Q_LEAKY = 228, CODE_Q_TABLE = 133,
    CODE_Q_FLOAT = 98, CODE_SELFTEST = 129,
};

/* ------------------------------------------------------------ the writer */

/* What the file needs: which fragments, and its figures. */
typedef struct plan {
    nn_model *m;
    const nn_quant *q;    /* NULL: the float model */
    const nn_export_c_opts *o;
    char prefix[PREFIX_MAX + 1], upper[PREFIX_MAX + 1];
    bool uses[NN_ACT_PRELU_UNITS + 1]; /* activations of any layer */
    bool need_exp, need_expm1, need_tanh, need_sigmoid, need_erf, need_libm;
    int max_hidden, n_out, K;
    int scratch_len;      /* elements of predict's scratch */
    float *test_out;      /* (K, n_out) libnn's outputs of the self-test rows */
    nn_export_c_info info;
} plan;

typedef struct emit {
    FILE *f;
    const char *prefix;
} emit;

/* text with each '@' replaced by the prefix and '_'. */
static void put(emit *e, const char *text)
{
    for (const char *p = text; *p; p++)
        if (*p == '@') {
            fputs(e->prefix, e->f);
            fputc('_', e->f);
        }
        else
            fputc(*p, e->f);
}

/* x as a C99 hexadecimal float literal with an f suffix, from its bits; x is finite. */
static void put_float(emit *e, float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    const char *sign = u >> 31 ? "-" : "";
    int biased = (int)(u >> 23 & 0xff);
    uint32_t frac = (u & 0x7fffff) << 1; /* 24 bits: six hex digits */
    if (biased == 0 && frac == 0) {
        fprintf(e->f, "%s0.0f", sign);
        return;
    }
    int digits = 6;
    while (digits > 0 && (frac & 0xf) == 0) {
        frac >>= 4;
        digits--;
    }
    int lead = biased ? 1 : 0, exp2 = biased ? biased - 127 : -126;
    if (digits)
        fprintf(e->f, "%s0x%d.%0*" PRIx32 "p%+df", sign, lead, digits, frac, exp2);
    else
        fprintf(e->f, "%s0x%dp%+df", sign, lead, exp2);
}

/* static const TYPE @NAME[n] = {...}; with one of the value writers. */
static void put_floats(emit *e, const char *name, const float *x, size_t n)
{
    fprintf(e->f, "static const float %s%s[%zu] = {", e->prefix, name, n);
    for (size_t i = 0; i < n; i++) {
        fputs(i % PER_LINE_F ? ", " : i ? ",\n    " : "\n    ", e->f);
        put_float(e, x[i]);
    }
    fputs("\n};\n", e->f);
}

/* static const TYPE @NAME[n] = {...}; of n integers read from src (int8_t, or int32_t with
 * a stride of `stride` bytes). */
static void put_ints(emit *e, const char *type, const char *name, const void *src, bool int8,
                     size_t n, size_t stride)
{
    fprintf(e->f, "static const %s %s%s[%zu] = {", type, e->prefix, name, n);
    for (size_t i = 0; i < n; i++) {
        int32_t v;
        if (int8)
            v = ((const int8_t *)src)[i];
        else
            memcpy(&v, (const uint8_t *)src + i * stride, sizeof v);
        fputs(i % PER_LINE_I ? ", " : i ? ",\n    " : "\n    ", e->f);
        if (v == INT32_MIN) /* not a literal of type int: 2147483648 is too large */
            fputs("-2147483647 - 1", e->f);
        else
            fprintf(e->f, "%" PRId32, v);
    }
    fputs("\n};\n", e->f);
}

/* A comment line from caller text: printable ASCII only, never closing the comment. */
static void put_comment_text(emit *e, const char *text, size_t n)
{
    char prev = 0;
    for (size_t i = 0; i < n && i < DESCRIPTION_MAX; i++) {
        char c = isprint((unsigned char)text[i]) ? text[i] : '?';
        if (prev == '*' && c == '/')
            fputc(' ', e->f);
        fputc(c, e->f);
        prev = c;
    }
}

static const char *act_name(nn_act a)
{
    static const char *names[] = {"linear", "sigmoid", "tanh", "relu", "leaky_relu",
                                  "softmax", "elu", "gelu", "prelu", "prelu_units"};
    return names[a];
}

static bool is_text(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isprint(v[i]))
            return false;
    return n > 0;
}

static void write_comment(emit *e, const plan *p)
{
    const nn_model *m = p->m;
    const nn_export_c_info *in = &p->info;
    fprintf(e->f, "/* %s: generated by libnn %s (nn_model_export_c). Do not edit: export again.\n"
                  " *\n * Network (%s): %d inputs", p->prefix, NN_VERSION_STRING,
            p->q ? "int8, per-unit weight scales, int32 sums" : "float", m->n_in);
    for (int l = 0; l < m->n_layers; l++)
        fprintf(e->f, " -> %d %s", m->layers[l].n_out, act_name(m->layers[l].act));
    fputs("\n", e->f);
    if (p->o->description) {
        fputs(" * About: ", e->f);
        put_comment_text(e, p->o->description, strlen(p->o->description));
        fputs("\n", e->f);
    }
    for (int i = 0; i < m->n_meta; i++) {
        const nn__meta *md = &m->meta[i];
        fputs(" * Metadata ", e->f);
        put_comment_text(e, md->key, strlen(md->key));
        fputs(": ", e->f);
        if (is_text(md->value, md->size))
            put_comment_text(e, (const char *)md->value, md->size);
        else
            fprintf(e->f, "(%zu bytes)", md->size);
        fputs("\n", e->f);
    }
    fprintf(e->f, " *\n * Flash: %zu bytes = constants %zu + code %zu (an estimate for Cortex-M4,\n"
                  " *        Thumb-2, gcc -Os) + self-test data %zu\n",
            in->flash_bytes, in->weight_bytes, in->code_bytes, in->test_bytes);
    fprintf(e->f, " * RAM: %zu bytes of scratch, %s; no global or static data at all\n",
            in->ram_bytes, p->o->scratch_arg ? "the caller's buffer" : "on the stack of predict");
    fprintf(e->f, " * MACs per inference: %" PRIu64 "\n", in->macs);
    static const char *maths[] = {
        "libnn's own exp/expm1/tanh (the code nn_predict runs); erff from libm for GELU only",
        "libnn's own exp/expm1/tanh, and erf by Abramowitz-Stegun 7.1.26: no libm",
        "expf, expm1f, tanhf and erff from libm"};
    fprintf(e->f, " * Math: %s%s\n", maths[p->o->math], p->need_libm ? " (link with -lm)" : "");
    if (p->q)
        fputs(" * int8: x = scale (q - zero) per tensor; hidden layers requantized by fixed-point\n"
              " *       multipliers (sigmoid/tanh/ELU/GELU by 256-entry tables), no float; the last\n"
              " *       layer's sums are scaled to float and its activation computed in float.\n",
              e->f);
    fprintf(e->f, " *\n * void %s_predict(const %s *in, float *out%s);   in: %d, out: %d values\n",
            p->prefix, p->q ? "int8_t" : "float",
            p->o->scratch_arg ? (p->q ? ", int8_t *scratch" : ", float *scratch") : "",
            m->n_in, p->n_out);
    if (p->q)
        fprintf(e->f, " * void %s_quantize(const float *x, int8_t *in);   x to predict's input\n",
                p->prefix);
    if (p->K)
        fprintf(e->f, " * int %s_selftest(%s);   0, or the first of %d stored rows whose outputs\n"
                      " *     differ by more than 1e-4 (1 + |expected|)\n",
                p->prefix, p->o->scratch_arg ? (p->q ? "int8_t *scratch" : "float *scratch") : "void",
                p->K);
    fputs(" */\n", e->f);
}

static void write_prototypes(emit *e, const plan *p)
{
    const char *scratch = p->o->scratch_arg ? (p->q ? ", int8_t *scratch" : ", float *scratch") : "";
    fprintf(e->f, "void %s_predict(const %s *in, float *out%s);\n", p->prefix,
            p->q ? "int8_t" : "float", scratch);
    if (p->q)
        fprintf(e->f, "void %s_quantize(const float *x, int8_t *in);\n", p->prefix);
    if (p->K)
        fprintf(e->f, "int %s_selftest(%s);\n", p->prefix,
                p->o->scratch_arg ? scratch + 2 : "void");
}

/* The math and activation fragments the model needs. */
static void write_math(emit *e, const plan *p)
{
    bool libm = p->o->math == NN_EXPORT_MATH_LIBM;
    if (!libm && (p->need_exp || p->need_expm1))
        put(e, MATH_EXP_BASE);
    if (p->need_exp)
        put(e, libm ? LIBM_EXP : MATH_EXP);
    if (p->need_expm1)
        put(e, libm ? LIBM_EXPM1 : MATH_EXPM1);
    if (p->need_tanh)
        put(e, libm ? LIBM_TANH : MATH_TANH);
    if (p->need_sigmoid)
        put(e, MATH_SIGMOID);
    if (p->need_erf)
        put(e, p->o->math == NN_EXPORT_MATH_NO_LIBM ? OWN_ERF : LIBM_ERF);
    const char *acts[] = {NULL, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_LEAKY, ACT_SOFTMAX,
                          ACT_ELU, ACT_GELU, ACT_LEAKY, NULL};
    for (int a = 0; a <= NN_ACT_PRELU_UNITS; a++) {
        bool leaky_done = (a == NN_ACT_PRELU && p->uses[NN_ACT_LEAKY_RELU]);
        if (p->uses[a] && acts[a] && !leaky_done)
            put(e, acts[a]);
    }
    if (p->uses[NN_ACT_PRELU_UNITS] && !p->uses[NN_ACT_LEAKY_RELU] && !p->uses[NN_ACT_PRELU])
        put(e, ACT_LEAKY);
}

/* The float model's arrays: W, b and, for leaky ReLU and PReLU, the slopes. */
static void write_float_arrays(emit *e, const plan *p)
{
    char name[32];
    for (int l = 0; l < p->m->n_layers; l++) {
        const nn__layer *L = &p->m->layers[l];
        snprintf(name, sizeof name, "_w%d", l);
        put_floats(e, name, L->W, (size_t)L->n_out * L->n_in);
        snprintf(name, sizeof name, "_b%d", l);
        put_floats(e, name, L->b, (size_t)L->n_out);
        snprintf(name, sizeof name, "_s%d", l);
        if (L->n_slopes)
            put_floats(e, name, L->s, (size_t)L->n_slopes);
        else if (L->act == NN_ACT_LEAKY_RELU)
            put_floats(e, name, &L->act_param, 1);
    }
    fputs("\n", e->f);
}

static void write_int8_arrays(emit *e, const plan *p)
{
    char name[32];
    for (int l = 0; l < p->q->n_layers; l++) {
        const nn__qlayer *ql = &p->q->layers[l];
        size_t O = (size_t)ql->n_out;
        snprintf(name, sizeof name, "_w%d", l);
        put_ints(e, "int8_t", name, ql->W, true, O * ql->n_in, 1);
        snprintf(name, sizeof name, "_b%d", l);
        put_ints(e, "int32_t", name, ql->bias, false, O, sizeof(int32_t));
        if (ql->mul) {
            snprintf(name, sizeof name, "_m%d", l);
            put_ints(e, "int32_t", name, &ql->mul[0].m, false, O, sizeof(nn__qmul));
            snprintf(name, sizeof name, "_n%d", l);
            put_ints(e, "uint8_t", name, &ql->mul[0].n, false, O, sizeof(nn__qmul));
        }
        if (ql->mul_neg) {
            snprintf(name, sizeof name, "_mn%d", l);
            put_ints(e, "int32_t", name, &ql->mul_neg[0].m, false, O, sizeof(nn__qmul));
            snprintf(name, sizeof name, "_nn%d", l);
            put_ints(e, "uint8_t", name, &ql->mul_neg[0].n, false, O, sizeof(nn__qmul));
        }
        if (ql->table) {
            snprintf(name, sizeof name, "_t%d", l);
            put_ints(e, "int8_t", name, ql->table, true, 256, 1);
        }
        if (ql->deq) {
            snprintf(name, sizeof name, "_d%d", l);
            put_floats(e, name, ql->deq, O);
        }
        snprintf(name, sizeof name, "_s%d", l);
        if (ql->n_slopes)
            put_floats(e, name, ql->slopes, (size_t)ql->n_slopes);
        else if (ql->kind == NN__Q_FLOAT && ql->act == NN_ACT_LEAKY_RELU)
            put_floats(e, name, &ql->act_param, 1);
    }
    fputs("\n", e->f);
}

/* The call that applies layer l's activation to its n outputs in v, in float. */
static void put_float_act(emit *e, const nn__layer *L, int l, const char *v)
{
    const char *p = e->prefix;
    switch (L->act) {
    case NN_ACT_LINEAR:
        return;
    case NN_ACT_LEAKY_RELU:
    case NN_ACT_PRELU:
    case NN_ACT_PRELU_UNITS:
        fprintf(e->f, "    %s_act_leaky(%d, %s, %s_s%d, %d);\n", p, L->n_out, v, p, l,
                L->act == NN_ACT_PRELU_UNITS);
        return;
    case NN_ACT_ELU:
        fprintf(e->f, "    %s_act_elu(%d, %s, ", p, L->n_out, v);
        put_float(e, L->act_param);
        fputs(");\n", e->f);
        return;
    default:
        fprintf(e->f, "    %s_act_%s(%d, %s);\n", p, act_name(L->act), L->n_out, v);
    }
}

/* The name of what layer l reads (l − 1's output) or writes. */
static void buffer_name(char *name, size_t size, const plan *p, int l)
{
    if (l < 0)
        snprintf(name, size, "in");
    else if (l == p->m->n_layers - 1)
        snprintf(name, size, "out");
    else
        snprintf(name, size, "t%d", l % 2);
}

/* The scratch declarations at the top of predict: one buffer of the widest hidden layer per
 * hidden layer, two at most (the layers take turns). */
static void put_scratch(emit *e, const plan *p, const char *type)
{
    if (p->max_hidden == 0) {
        if (p->o->scratch_arg)
            fputs("    (void)scratch;\n", e->f);
        return;
    }
    bool two = p->m->n_layers > 2; /* a second buffer only for a second hidden layer */
    if (p->o->scratch_arg && two)
        fprintf(e->f, "    %s *t0 = scratch, *t1 = scratch + %d;\n", type, p->max_hidden);
    else if (p->o->scratch_arg)
        fprintf(e->f, "    %s *t0 = scratch;\n", type);
    else if (two)
        fprintf(e->f, "    %s t0[%d], t1[%d];\n", type, p->max_hidden, p->max_hidden);
    else
        fprintf(e->f, "    %s t0[%d];\n", type, p->max_hidden);
}

static void write_float_predict(emit *e, const plan *p)
{
    const char *pre = e->prefix;
    put(e, DENSE_FLOAT);
    fprintf(e->f, "void %s_predict(const float *in, float *out%s)\n{\n", pre,
            p->o->scratch_arg ? ", float *scratch" : "");
    put_scratch(e, p, "float");
    char x[8], y[8];
    for (int l = 0; l < p->m->n_layers; l++) {
        const nn__layer *L = &p->m->layers[l];
        buffer_name(x, sizeof x, p, l - 1);
        buffer_name(y, sizeof y, p, l);
        fprintf(e->f, "    %s_dense(%d, %d, %s_w%d, %s_b%d, %s, %s);\n", pre, L->n_out, L->n_in,
                pre, l, pre, l, x, y);
        put_float_act(e, L, l, y);
    }
    fputs("}\n\n", e->f);
}

static void write_int8_predict(emit *e, const plan *p)
{
    const char *pre = e->prefix;
    const nn_quant *q = p->q;
    put(e, INT8_CORE);
    bool kinds[4] = {false};
    for (int l = 0; l < q->n_layers; l++)
        kinds[q->layers[l].kind] = true;
    const char *code[] = {INT8_LINEAR, INT8_LEAKY, INT8_TABLE, INT8_FLOAT};
    for (int k = 0; k < 4; k++)
        if (kinds[k])
            put(e, code[k]);
    fprintf(e->f, "void %s_predict(const int8_t *in, float *out%s)\n{\n", pre,
            p->o->scratch_arg ? ", int8_t *scratch" : "");
    put_scratch(e, p, "int8_t");
    char x[8], y[8];
    for (int l = 0; l < q->n_layers; l++) {
        const nn__qlayer *ql = &q->layers[l];
        buffer_name(x, sizeof x, p, l - 1);
        buffer_name(y, sizeof y, p, l);
        fprintf(e->f, "    %s_q_", pre);
        const char *args = "%s_w%d, %s_b%d";
        switch (ql->kind) {
        case NN__Q_LINEAR:
            fprintf(e->f, "linear(%d, %d, ", ql->n_out, ql->n_in);
            fprintf(e->f, args, pre, l, pre, l);
            fprintf(e->f, ", %s_m%d, %s_n%d, %d, %d, %s, %s);\n", pre, l, pre, l, ql->out_zero,
                    ql->floor, x, y);
            break;
        case NN__Q_LEAKY:
            fprintf(e->f, "leaky(%d, %d, ", ql->n_out, ql->n_in);
            fprintf(e->f, args, pre, l, pre, l);
            fprintf(e->f, ", %s_m%d, %s_n%d, %s_mn%d, %s_nn%d, %d, %s, %s);\n", pre, l, pre, l,
                    pre, l, pre, l, ql->out_zero, x, y);
            break;
        case NN__Q_TABLE:
            fprintf(e->f, "table(%d, %d, ", ql->n_out, ql->n_in);
            fprintf(e->f, args, pre, l, pre, l);
            fprintf(e->f, ", %s_m%d, %s_n%d, %d, %s_t%d, %s, %s);\n", pre, l, pre, l, ql->z_zero,
                    pre, l, x, y);
            break;
        case NN__Q_FLOAT:
            fprintf(e->f, "float(%d, %d, ", ql->n_out, ql->n_in);
            fprintf(e->f, args, pre, l, pre, l);
            fprintf(e->f, ", %s_d%d, %s, %s);\n", pre, l, x, y);
            put_float_act(e, &p->m->layers[l], l, y);
            break;
        }
    }
    fputs("}\n\n", e->f);
    /* The input's quantization, as nn__quantize_one. */
    const nn__qlayer *first = &q->layers[0];
    fprintf(e->f, "void %s_quantize(const float *x, int8_t *in)\n{\n"
                  "    int i;\n"
                  "    for (i = 0; i < %d; i++) {\n"
                  "        float v = x[i] / ", pre, q->n_in);
    put_float(e, first->in_scale);
    fprintf(e->f, " + %d.0f;\n"
                  "        if (!(v >= -128.0f))\n"
                  "            v = -128.0f;\n"
                  "        if (v > 127.0f)\n"
                  "            v = 127.0f;\n"
                  "        in[i] = (int8_t)(v >= 0.0f ? (int)(v + 0.5f) : -(int)(0.5f - v));\n"
                  "    }\n}\n\n", first->in_zero);
}

/* The self-test: the stored rows through predict, against libnn's outputs for them. */
static void write_selftest(emit *e, const plan *p)
{
    const char *pre = e->prefix;
    const nn_mat *X = p->o->selftest;
    size_t n_in = (size_t)p->m->n_in, n = (size_t)p->K * n_in;
    if (p->q) {
        fprintf(e->f, "static const int8_t %s_test_in[%zu] = {", pre, n);
        for (size_t i = 0; i < n; i++) {
            int8_t v = nn__quantize_one(X->data[i], p->q->layers[0].in_scale,
                                        p->q->layers[0].in_zero);
            fputs(i % PER_LINE_I ? ", " : i ? ",\n    " : "\n    ", e->f);
            fprintf(e->f, "%d", v);
        }
        fputs("\n};\n", e->f);
    } else {
        put_floats(e, "_test_in", X->data, n);
    }
    put_floats(e, "_test_out", p->test_out, (size_t)p->K * p->n_out);
    const char *scratch = p->o->scratch_arg ? (p->q ? "int8_t *scratch" : "float *scratch") : "void";
    fprintf(e->f, "\nint %s_selftest(%s)\n{\n"
                  "    float out[%d];\n"
                  "    int k, j;\n"
                  "    for (k = 0; k < %d; k++) {\n"
                  "        %s_predict(%s_test_in + k * %zu, out%s);\n"
                  "        for (j = 0; j < %d; j++) {\n"
                  "            float want = %s_test_out[k * %d + j], d = out[j] - want;\n"
                  "            d = d < 0.0f ? -d : d;\n"
                  "            if (!(d <= 1e-4f * (1.0f + (want < 0.0f ? -want : want))))\n"
                  "                return k + 1;\n"
                  "        }\n"
                  "    }\n"
                  "    return 0;\n}\n",
            pre, scratch, p->n_out, p->K, pre, pre, n_in, p->o->scratch_arg ? ", scratch" : "",
            p->n_out, pre, p->n_out);
}

static bool write_source(FILE *f, void *ctx)
{
    const plan *p = ctx;
    emit e = {f, p->prefix};
    write_comment(&e, p);
    if (p->need_libm)
        fputs("#include <math.h>\n", f);
    if (p->q || p->need_exp || p->need_expm1 || p->need_tanh)
        fputs("#include <stdint.h>\n", f);
    fputs("\n", f);
    write_prototypes(&e, p);
    fputs("\n", f);
    if (p->q)
        write_int8_arrays(&e, p);
    else
        write_float_arrays(&e, p);
    write_math(&e, p);
    if (p->q)
        write_int8_predict(&e, p);
    else
        write_float_predict(&e, p);
    if (p->K)
        write_selftest(&e, p);
    return !ferror(f);
}

static bool write_header(FILE *f, void *ctx)
{
    const plan *p = ctx;
    emit e = {f, p->prefix};
    const nn_quant *q = p->q;
    fprintf(f, "/* %s: the declarations of the file nn_model_export_c wrote with it\n"
               " * (libnn %s). Do not edit: export again. */\n"
               "#ifndef %s_MODEL_H\n#define %s_MODEL_H\n\n",
            p->prefix, NN_VERSION_STRING, p->upper, p->upper);
    if (q)
        fputs("#include <stdint.h>\n\n", f);
    fprintf(f, "#define %s_N_IN %d    /* predict's inputs */\n"
               "#define %s_N_OUT %d    /* and outputs */\n"
               "#define %s_SCRATCH_LEN %d    /* %s elements of scratch predict uses */\n"
               "#define %s_FLASH_BYTES %zu\n#define %s_RAM_BYTES %zu\n"
               "#define %s_MACS %" PRIu64 "\n",
            p->upper, p->m->n_in, p->upper, p->n_out, p->upper, p->scratch_len,
            q ? "int8_t" : "float", p->upper, p->info.flash_bytes, p->upper, p->info.ram_bytes,
            p->upper, p->info.macs);
    if (q) {
        fprintf(f, "#define %s_IN_SCALE ", p->upper);
        put_float(&e, q->layers[0].in_scale);
        fprintf(f, "    /* x = scale (q - zero) */\n#define %s_IN_ZERO %d\n", p->upper,
                q->layers[0].in_zero);
    }
    fputs("\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", f);
    write_prototypes(&e, p);
    fprintf(f, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_MODEL_H */\n", p->upper);
    return !ferror(f);
}

/* ------------------------------------------------------------ planning */

/* A C identifier of 1 .. PREFIX_MAX characters that starts with a letter (names starting
 * with '_' are the implementation's). */
static bool prefix_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PREFIX_MAX || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_') || (s[i] & 0x80))
            return false;
    return true;
}

static bool all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

/* Which activations are computed in float (every layer's, or an int8 model's last), what
 * math they need, and the code estimate. */
static void plan_code(plan *p)
{
    nn_model *m = p->m;
    bool libm = p->o->math == NN_EXPORT_MATH_LIBM, own_erf = p->o->math == NN_EXPORT_MATH_NO_LIBM;
    for (int l = p->q ? m->n_layers - 1 : 0; l < m->n_layers; l++)
        p->uses[m->layers[l].act] = true;
    p->need_sigmoid = p->uses[NN_ACT_SIGMOID];
    p->need_tanh = p->uses[NN_ACT_TANH];
    p->need_erf = p->uses[NN_ACT_GELU];
    p->need_exp = p->need_sigmoid || p->uses[NN_ACT_SOFTMAX] || (p->need_erf && own_erf);
    p->need_expm1 = p->need_tanh || p->uses[NN_ACT_ELU];
    p->need_libm = libm ? p->need_exp || p->need_expm1 || p->need_tanh || p->need_erf
                        : p->need_erf && !own_erf;

    size_t code = p->q ? CODE_INT8_BASE : CODE_FLOAT_BASE;
    code += !libm && (p->need_exp || p->need_expm1) ? CODE_EXP_BASE : 0;
    code += p->need_exp ? (libm ? CODE_LIBM_WRAP : CODE_EXP) : 0;
    code += p->need_expm1 ? (libm ? CODE_LIBM_WRAP : CODE_EXPM1) : 0;
    code += p->need_tanh ? (libm ? CODE_LIBM_WRAP : CODE_TANH) : 0;
    code += p->need_sigmoid ? CODE_SIGMOID : 0;
    code += p->need_erf ? (own_erf ? CODE_ERF_OWN : CODE_LIBM_WRAP) : 0;
    bool leaky = false; /* leaky ReLU and both PReLUs share one loop */
    for (int a = 0; a <= NN_ACT_PRELU_UNITS; a++) {
        bool is_leaky = a == NN_ACT_LEAKY_RELU || a == NN_ACT_PRELU || a == NN_ACT_PRELU_UNITS;
        if (!p->uses[a] || a == NN_ACT_LINEAR || (is_leaky && leaky))
            continue;
        leaky = leaky || is_leaky;
        code += a == NN_ACT_SOFTMAX ? CODE_SOFTMAX : CODE_ACT_LOOP;
    }
    if (p->q) {
        static const size_t kind_code[] = {CODE_Q_LINEAR, CODE_Q_LEAKY, CODE_Q_TABLE, CODE_Q_FLOAT};
        bool kinds[4] = {false};
        for (int l = 0; l < p->q->n_layers; l++)
            kinds[p->q->layers[l].kind] = true;
        for (int k = 0; k < 4; k++)
            code += kinds[k] ? kind_code[k] : 0;
    }
    for (int l = 0; l < m->n_layers; l++)
        code += CODE_PER_LAYER + (m->layers[l].act != NN_ACT_LINEAR ? CODE_PER_ACT : 0);
    code += p->K ? CODE_SELFTEST : 0;
    p->info.code_bytes = code;
}

/* The figures of the comment block. */
static void plan_figures(plan *p)
{
    nn_model *m = p->m;
    nn_export_c_info *in = &p->info;
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        in->macs += (uint64_t)L->n_out * (uint64_t)L->n_in;
        if (l < m->n_layers - 1)
            p->max_hidden = L->n_out > p->max_hidden ? L->n_out : p->max_hidden;
        if (!p->q)
            in->weight_bytes += 4 * ((size_t)L->n_out * ((size_t)L->n_in + 1) + (size_t)L->n_slopes
                                     + (L->act == NN_ACT_LEAKY_RELU));
    }
    if (p->q)
        in->weight_bytes = p->q->int8_bytes;
    in->test_bytes = (size_t)p->K * ((size_t)m->n_in * (p->q ? 1 : 4) + 4 * (size_t)p->n_out);
    p->scratch_len = (m->n_layers > 2 ? 2 : 1) * p->max_hidden;
    in->ram_bytes = (size_t)p->scratch_len * (p->q ? 1 : 4);
    plan_code(p);
    in->flash_bytes = in->weight_bytes + in->code_bytes + in->test_bytes;
}

/* Checks the arguments; message says why not. */
static nn_status plan_check(const plan *p, const char **message)
{
    const nn_export_c_opts *o = p->o;
    const nn_model *m = p->m;
    if (!prefix_ok(p->prefix)) {
        *message = "the prefix must be a C identifier of 1 to 32 letters, digits and '_', "
                   "starting with a letter";
        return NN_ERR_INVALID_ARG;
    }
    if (o->math < NN_EXPORT_MATH_LIBNN || o->math > NN_EXPORT_MATH_LIBM) {
        *message = "unknown nn_export_math";
        return NN_ERR_INVALID_ARG;
    }
    if (p->q && !nn__quant_fits(m, p->q)) {
        *message = "the quantized model was not made from a model of this shape";
        return NN_ERR_INVALID_ARG;
    }
    if (!p->q && !all_finite(m->params, m->n_params)) {
        *message = "a parameter is not finite";
        return NN_ERR_INVALID_ARG;
    }
    if (o->selftest && (!nn__mat_ok(o->selftest) || o->selftest->cols != m->n_in ||
                        !all_finite(o->selftest->data, nn__mat_size(o->selftest)))) {
        *message = "the self-test rows must be a (K, n_in) matrix of finite values";
        return NN_ERR_INVALID_ARG;
    }
    return NN_OK;
}

nn_status nn_model_export_c(nn_model *m, const char *path, const nn_export_c_opts *opts,
                            nn_export_c_info *info)
{
    nn_export_c_opts o = opts ? *opts : (nn_export_c_opts){0};
    plan p = {.m = m, .q = o.quant, .o = &o, .info.message = "exported"};
    const char *message = "the model, or the path, is NULL";
    nn_status s = m && path && *path ? NN_OK : NN_ERR_INVALID_ARG;
    if (s == NN_OK) {
        snprintf(p.prefix, sizeof p.prefix, "%s", o.prefix ? o.prefix : "model");
        s = o.prefix && strlen(o.prefix) > PREFIX_MAX ? NN_ERR_INVALID_ARG : NN_OK;
        message = "the prefix must be a C identifier of 1 to 32 letters, digits and '_', "
                  "starting with a letter";
    }
    if (s == NN_OK)
        s = plan_check(&p, &message);
    size_t test_bytes = 0;
    if (s == NN_OK) {
        for (int i = 0; p.prefix[i]; i++)
            p.upper[i] = (char)toupper((unsigned char)p.prefix[i]);
        p.n_out = nn__out_layer(m)->n_out;
        p.K = o.selftest ? o.selftest->rows : 0;
        plan_figures(&p);
        test_bytes = (size_t)p.K * p.n_out * sizeof(float);
        p.test_out = p.K ? nn__alloc(m, NULL, 0, test_bytes) : NULL;
        s = p.K && !p.test_out ? NN_ERR_NOMEM : NN_OK;
        message = "out of memory for the self-test's outputs";
    }
    if (s == NN_OK && p.K) {
        nn_mat T = nn_mat_wrap(p.test_out, p.K, p.n_out);
        s = p.q ? nn_quant_predict(p.q, o.selftest, &T) : nn_predict(m, o.selftest, &T);
        message = "the self-test's outputs could not be computed";
    }
    bool described = false; /* the writes describe their own failures in the model */
    if (s == NN_OK && o.header_path) {
        s = nn__write_atomic(o.header_path, write_header, &p, m->errmsg);
        message = "the header could not be written";
        described = true;
    }
    if (s == NN_OK) {
        s = nn__write_atomic(path, write_source, &p, m->errmsg);
        message = "the file could not be written";
        described = true;
    }
    if (s != NN_OK && !described && m)
        nn__fail(m->errmsg, s, "nn_model_export_c: %s", message);
    if (p.test_out)
        nn__alloc(m, p.test_out, test_bytes, 0);
    if (info) {
        *info = p.info;
        info->message = s == NN_OK ? "exported" : message;
    }
    return s;
}
