/* Model files: round trips, atomic saves, the golden file of format version 1, and a loader
 * that survives every truncation, every flipped bit and hand-crafted hostile files.
 * Run as `test_io --write-golden PATH` to regenerate tests/data/golden_v1.nnm. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, unlink, rmdir */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "test_util.h"

#ifndef NN_TEST_DATA_DIR
#define NN_TEST_DATA_DIR "tests/data"
#endif

static char dir[64];      /* a fresh temporary directory per test run */
static char path[128];    /* dir/model.nnm */

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/nn_test_io_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/model.nnm", dir);
    return 0;
}

/* Removes dir and what is in it; fails if anything but model.nnm was left (a temp file). */
static int remove_dir(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    int strays = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        strays += strcmp(e->d_name, "model.nnm") != 0;
        char p[sizeof dir + sizeof e->d_name + 1];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return strays ? -1 : 0;
}

/* A 3-layer model with every activation kind that has a parameter, trained a little so its
 * weights and biases are nothing like the initial ones. */
static nn_model *trained_model(void)
{
    nn_layer_spec specs[] = {{.units = 6, .act = NN_ACT_LEAKY_RELU, .act_param = 0.2f},
                             {.units = 5, .act = NN_ACT_TANH, .dropout = 0.25f},
                             {.units = 3, .act = NN_ACT_SOFTMAX}};
    nn_model_opts mo = {.seed = 17};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(4, specs, 3, &mo, &m), NN_OK);
    float x[40], y[10];
    nn_mat X = nn_mat_wrap(x, 10, 4), Y = nn_mat_wrap(y, 10, 1);
    fill_uniform(&X, -1, 1, 3);
    for (int i = 0; i < 10; i++)
        y[i] = (float)(i % 3);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 20;
    o.batch_size = 4;
    o.learning_rate = 0.1f;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    return m;
}

/* Reads a whole file into a malloc'd buffer. */
static uint8_t *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(*len + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, *len, f), *len);
    fclose(f);
    return data;
}

static void spit(const char *p, const uint8_t *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static nn_status load_bytes(const uint8_t *data, size_t len, nn_model **m)
{
    char p[128];
    snprintf(p, sizeof p, "%s/bytes.nnm", dir);
    spit(p, data, len);
    nn_status s = nn_model_load(p, NULL, m);
    unlink(p);
    return s;
}

/* ------------------------------------------------------------ round trip */

static void test_round_trip_is_bit_identical(void **state)
{
    (void)state;
    nn_model *m = trained_model(), *back = NULL;
    const char classes[] = "setosa\nversicolor\nvirginica";
    float stats[4] = {0.5f, -1.25f, 3.0f, 1e-3f};
    assert_int_equal(nn_model_set_meta(m, "classes", classes, sizeof classes), NN_OK);
    assert_int_equal(nn_model_set_meta(m, "input_mean", stats, sizeof stats), NN_OK);
    assert_int_equal(nn_model_save(m, path), NN_OK);
    assert_int_equal(nn_model_load(path, NULL, &back), NN_OK);

    float *p1, *p2;
    size_t n1 = nn_model_params(m, &p1, NULL), n2 = nn_model_params(back, &p2, NULL);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1 * sizeof(float));
    assert_int_equal(nn_model_inputs(back), 4);
    assert_int_equal(nn_model_layer_count(back), 3);
    for (int l = 0; l < 3; l++) {
        nn_layer_view a, b;
        nn_model_layer(m, l, &a);
        nn_model_layer(back, l, &b);
        assert_int_equal(a.act, b.act);
        assert_true(a.act_param == b.act_param);
        assert_true(a.dropout == b.dropout);
        assert_int_equal(a.n_out, b.n_out);
    }
    float x[20], out1[15], out2[15];
    nn_mat X = nn_mat_wrap(x, 5, 4), O1 = nn_mat_wrap(out1, 5, 3), O2 = nn_mat_wrap(out2, 5, 3);
    fill_uniform(&X, -3, 3, 9);
    assert_int_equal(nn_predict(m, &X, &O1), NN_OK);
    assert_int_equal(nn_predict(back, &X, &O2), NN_OK);
    assert_memory_equal(out1, out2, sizeof out1);

    const void *value;
    size_t size;
    assert_int_equal(nn_model_get_meta(back, "classes", &value, &size), NN_OK);
    assert_int_equal(size, sizeof classes);
    assert_memory_equal(value, classes, sizeof classes);
    assert_int_equal(nn_model_get_meta(back, "input_mean", &value, &size), NN_OK);
    assert_memory_equal(value, stats, sizeof stats);
    assert_int_equal(nn_model_get_meta(back, "absent", &value, &size), NN_ERR_NOT_FOUND);
    nn_model_destroy(m);
    nn_model_destroy(back);
}

static void test_metadata_api(void **state)
{
    (void)state;
    nn_model *m = trained_model();
    const void *value;
    size_t size;
    char long_key[300];
    memset(long_key, 'k', sizeof long_key);
    long_key[256] = '\0'; /* 256 bytes: one too many */
    assert_int_equal(nn_model_set_meta(m, long_key, "v", 1), NN_ERR_INVALID_ARG);
    long_key[255] = '\0';
    assert_int_equal(nn_model_set_meta(m, long_key, "v", 1), NN_OK);
    assert_int_equal(nn_model_set_meta(m, "", "v", 1), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_set_meta(m, NULL, "v", 1), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_set_meta(m, "k", NULL, 3), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_set_meta(NULL, "k", "v", 1), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_set_meta(m, "k", "first", 5), NN_OK);
    assert_int_equal(nn_model_set_meta(m, "k", "second!", 7), NN_OK); /* replaces */
    assert_int_equal(nn_model_get_meta(m, "k", &value, &size), NN_OK);
    assert_int_equal(size, 7);
    assert_memory_equal(value, "second!", 7);
    assert_int_equal(nn_model_set_meta(m, "empty", "", 0), NN_OK); /* an empty value exists */
    assert_int_equal(nn_model_get_meta(m, "empty", &value, &size), NN_OK);
    assert_int_equal(size, 0);
    assert_int_equal(nn_model_set_meta(m, "k", NULL, 0), NN_OK); /* removes */
    assert_int_equal(nn_model_get_meta(m, "k", &value, &size), NN_ERR_NOT_FOUND);
    assert_int_equal(nn_model_set_meta(m, "k", NULL, 0), NN_ERR_NOT_FOUND);
    for (int i = 0; i < 40; i++) { /* grows the table */
        char key[16];
        snprintf(key, sizeof key, "key%d", i);
        assert_int_equal(nn_model_set_meta(m, key, &i, sizeof i), NN_OK);
    }
    assert_int_equal(nn_model_get_meta(m, "key33", &value, &size), NN_OK);
    assert_int_equal(*(const int *)value, 33);
    assert_int_equal(nn_model_get_meta(m, "key33", NULL, &size), NN_ERR_INVALID_ARG);
    nn_model_destroy(m);
}

/* ----------------------------------------------------------------- saving */

static void test_save_replaces_atomically(void **state)
{
    (void)state;
    nn_model *a = trained_model(), *b = NULL, *back = NULL;
    nn_layer_spec specs[] = {{.units = 2}};
    assert_int_equal(nn_model_create(3, specs, 1, NULL, &b), NN_OK);
    assert_int_equal(nn_model_save(a, path), NN_OK);
    assert_int_equal(nn_model_save(b, path), NN_OK); /* replaces the file */
    assert_int_equal(nn_model_load(path, NULL, &back), NN_OK);
    assert_int_equal(nn_model_inputs(back), 3);
    nn_model_destroy(back);

    /* A save that cannot complete leaves the old file as it was and no temporary file. */
    size_t before_len, after_len;
    uint8_t *before = slurp(path, &before_len);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/model.nnm", dir);
    assert_int_equal(nn_model_save(a, bad), NN_ERR_IO);
    assert_int_equal(nn_model_save(a, "/proc/nn-cannot-write-here"), NN_ERR_IO);
    uint8_t *after = slurp(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    assert_int_equal(nn_model_save(NULL, path), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_save(a, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_save(a, ""), NN_ERR_INVALID_ARG);
    free(before);
    free(after);
    nn_model_destroy(a);
    nn_model_destroy(b);
}

/* The format's overhead is as docs/FORMAT.md states: 16 + 16 per section + 12 per layer. */
static void test_size_overhead(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 256, .act = NN_ACT_RELU},
                             {.units = 128, .act = NN_ACT_RELU},
                             {.units = 10, .act = NN_ACT_SOFTMAX}};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(784, specs, 3, NULL, &m), NN_OK);
    assert_int_equal(nn_model_save(m, path), NN_OK);
    size_t len;
    free(slurp(path, &len));
    size_t P = nn_model_params(m, NULL, NULL);
    assert_int_equal(P, 235146);
    assert_int_equal(len - 4 * P, 16 + 3 * 16 + 8 + 3 * 12); /* 108 bytes */
    nn_model_destroy(m);
}

/* ------------------------------------------------------------ golden file */

/* The golden model: 2 inputs, 3 tanh units, 2 softmax outputs, parameters i/16 - 1 in flat
 * order, and one metadata entry. Written once by format version 1; loading it must keep
 * working in every later version. */
static nn_model *golden_model(void)
{
    nn_layer_spec specs[] = {{.units = 3, .act = NN_ACT_TANH}, {.units = 2, .act = NN_ACT_SOFTMAX}};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(2, specs, 2, NULL, &m), NN_OK);
    float *p;
    size_t P = nn_model_params(m, &p, NULL);
    for (size_t i = 0; i < P; i++)
        p[i] = (float)i / 16.0f - 1.0f;
    assert_int_equal(nn_model_set_meta(m, "classes", "no,yes", 6), NN_OK);
    return m;
}

static void test_golden_file_loads(void **state)
{
    (void)state;
    nn_model *m = NULL, *want = golden_model();
    assert_int_equal(nn_model_load(NN_TEST_DATA_DIR "/golden_v1.nnm", NULL, &m), NN_OK);
    float *p1, *p2;
    size_t n1 = nn_model_params(m, &p1, NULL), n2 = nn_model_params(want, &p2, NULL);
    assert_int_equal(n1, 17);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1 * sizeof(float));
    const void *value;
    size_t size;
    assert_int_equal(nn_model_get_meta(m, "classes", &value, &size), NN_OK);
    assert_int_equal(size, 6);
    assert_memory_equal(value, "no,yes", 6);
    /* And today's writer still writes exactly the golden bytes. */
    assert_int_equal(nn_model_save(want, path), NN_OK);
    size_t len_now, len_golden;
    uint8_t *now = slurp(path, &len_now), *golden = slurp(NN_TEST_DATA_DIR "/golden_v1.nnm", &len_golden);
    assert_int_equal(len_now, len_golden);
    assert_memory_equal(now, golden, len_now);
    free(now);
    free(golden);
    nn_model_destroy(m);
    nn_model_destroy(want);
}

/* ------------------------------------------------------- hostile files */

static void test_every_truncation_fails(void **state)
{
    (void)state;
    nn_model *m = trained_model(), *back = NULL;
    assert_int_equal(nn_model_set_meta(m, "note", "hello", 5), NN_OK);
    assert_int_equal(nn_model_save(m, path), NN_OK);
    size_t len;
    uint8_t *data = slurp(path, &len);
    for (size_t k = 0; k < len; k++) {
        nn_status s = load_bytes(data, k, &back);
        if (s != NN_ERR_FORMAT)
            fail_msg("truncated to %zu of %zu bytes: status %d", k, len, (int)s);
    }
    free(data);
    nn_model_destroy(m);
}

static void test_every_flipped_bit_fails(void **state)
{
    (void)state;
    nn_layer_spec specs[] = {{.units = 3, .act = NN_ACT_SIGMOID}, {.units = 1}};
    nn_model *m = NULL, *back = NULL;
    assert_int_equal(nn_model_create(2, specs, 2, NULL, &m), NN_OK);
    assert_int_equal(nn_model_set_meta(m, "k", "v", 1), NN_OK);
    assert_int_equal(nn_model_save(m, path), NN_OK);
    size_t len;
    uint8_t *data = slurp(path, &len);
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            data[i] ^= (uint8_t)(1u << bit);
            nn_status s = load_bytes(data, len, &back);
            data[i] ^= (uint8_t)(1u << bit);
            if (s != NN_ERR_FORMAT && s != NN_ERR_VERSION)
                fail_msg("bit %d of byte %zu flipped: status %d", bit, i, (int)s);
        }
    free(data);
    nn_model_destroy(m);
}

/* A file builder with its own CRC-32 (bit by bit, independent of the library's). */
typedef struct blob {
    uint8_t data[1024];
    size_t len, section_start;
} blob;

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    return ~crc;
}

static void add_bytes(blob *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void add_u32(blob *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    add_bytes(b, le, 4);
}

static void add_f32(blob *b, float x)
{
    uint32_t v;
    memcpy(&v, &x, 4);
    add_u32(b, v);
}

static void add_header(blob *b, uint32_t version, uint32_t flags)
{
    add_bytes(b, "\x89NNMOD\r\n", 8);
    add_u32(b, version);
    add_u32(b, flags);
}

/* Opens a section; the length is patched in by end_section, or forced with forced_len. */
static void begin(blob *b, const char *tag)
{
    b->section_start = b->len;
    add_bytes(b, tag, 4);
    add_u32(b, 0);
    add_u32(b, 0);
}

static void end(blob *b, int64_t forced_len)
{
    uint64_t n = forced_len >= 0 ? (uint64_t)forced_len : b->len - b->section_start - 12;
    for (int i = 0; i < 8; i++)
        b->data[b->section_start + 4 + i] = (uint8_t)(n >> 8 * i);
    add_u32(b, crc32_bitwise(b->data + b->section_start, b->len - b->section_start));
}

/* ARCH for n_in inputs and the given widths (linear), then PARM of `params` floats. */
static void add_arch(blob *b, uint32_t n_in, const uint32_t *units, int n)
{
    begin(b, "ARCH");
    add_u32(b, n_in);
    add_u32(b, (uint32_t)n);
    for (int l = 0; l < n; l++) {
        add_u32(b, units[l]);
        add_u32(b, NN_ACT_LINEAR);
        add_f32(b, 0.0f);
    }
    end(b, -1);
}

static void add_params(blob *b, int count, float value)
{
    begin(b, "PARM");
    for (int i = 0; i < count; i++)
        add_f32(b, value);
    end(b, -1);
}

static void add_end(blob *b)
{
    begin(b, "END ");
    end(b, -1);
}

static nn_status load_blob(const blob *b)
{
    nn_model *m = NULL;
    nn_status s = load_bytes(b->data, b->len, &m);
    nn_model_destroy(m);
    return s;
}

static void test_crafted_files(void **state)
{
    (void)state;
    const uint32_t w[] = {2}; /* 3 inputs → 2 outputs: 8 parameters */
    blob b;

    b = (blob){0}; /* the builder itself makes a valid file */
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1), add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_OK);

    b = (blob){0}; /* an unknown ancillary section is skipped */
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1);
    begin(&b, "zzzz"), add_u32(&b, 7), end(&b, -1);
    add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_OK);

    b = (blob){0}; /* an unknown critical one is a later format */
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1);
    begin(&b, "ZZZZ"), end(&b, -1);
    add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_VERSION);

    b = (blob){0};
    add_header(&b, 2, 0), add_arch(&b, 3, w, 1), add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_VERSION);
    b = (blob){0};
    add_header(&b, 1, 4), add_arch(&b, 3, w, 1), add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_VERSION);

    struct {
        const char *what;
        int params;
        float value;
        bool second_arch, skip_end, trailing;
    } cases[] = {
        {"too few parameters", 7, 0.5f, false, false, false},
        {"too many parameters", 9, 0.5f, false, false, false},
        {"a NaN parameter", 8, NAN, false, false, false},
        {"an infinite parameter", 8, INFINITY, false, false, false},
        {"two ARCH sections", 8, 0.5f, true, false, false},
        {"no END", 8, 0.5f, false, true, false},
        {"bytes after END", 8, 0.5f, false, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b = (blob){0};
        add_header(&b, 1, 0), add_arch(&b, 3, w, 1);
        if (cases[i].second_arch)
            add_arch(&b, 3, w, 1);
        add_params(&b, cases[i].params, cases[i].value);
        if (!cases[i].skip_end)
            add_end(&b);
        if (cases[i].trailing)
            add_u32(&b, 0);
        if (load_blob(&b) != NN_ERR_FORMAT)
            fail_msg("%s was accepted", cases[i].what);
    }

    b = (blob){0}; /* PARM before ARCH */
    add_header(&b, 1, 0), add_params(&b, 8, 0.5f), add_arch(&b, 3, w, 1), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
    b = (blob){0}; /* metadata with a key longer than the section */
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1);
    begin(&b, "meta"), add_u32(&b, 1000), add_bytes(&b, "key", 3), end(&b, -1);
    add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
    b = (blob){0}; /* the same key twice */
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1);
    for (int k = 0; k < 2; k++)
        begin(&b, "meta"), add_u32(&b, 1), add_bytes(&b, "k", 1), end(&b, -1);
    add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
    b = (blob){0}; /* an unknown activation, and a zero width */
    add_header(&b, 1, 0);
    begin(&b, "ARCH"), add_u32(&b, 3), add_u32(&b, 1), add_u32(&b, 2), add_u32(&b, 77);
    add_f32(&b, 0), end(&b, -1), add_params(&b, 8, 0.5f), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
    const uint32_t zero[] = {0};
    b = (blob){0};
    add_header(&b, 1, 0), add_arch(&b, 3, zero, 1), add_params(&b, 0, 0), add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
    b = (blob){0}; /* a section length beyond the file, and one near 2^64 */
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1), begin(&b, "PARM"), end(&b, 1 << 20);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
    b = (blob){0};
    add_header(&b, 1, 0), add_arch(&b, 3, w, 1), begin(&b, "PARM"), end(&b, INT64_MAX);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
}

/* Where each section of a file starts and how long it is, header excluded; the file is one
 * nn_model_save wrote, so it is well formed. */
typedef struct sections {
    size_t start[16], size[16]; /* tag, length, payload and CRC */
    int n;
} sections;

static sections find_sections(const uint8_t *data, size_t len)
{
    sections t = {.n = 0};
    for (size_t pos = 16; pos < len; t.n++) {
        assert_true(t.n < 16 && len - pos >= 16);
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = n << 8 | data[pos + 4 + i];
        t.start[t.n] = pos;
        t.size[t.n] = 16 + (size_t)n;
        pos += t.size[t.n];
    }
    return t;
}

static int section_index(const uint8_t *data, const sections *t, const char *tag)
{
    for (int i = 0; i < t->n; i++)
        if (memcmp(data + t->start[i], tag, 4) == 0)
            return i;
    fail_msg("no %s section", tag);
    return -1;
}

/* The file's bytes with `extra` (extra_len bytes) inserted at offset at. */
static uint8_t *insert_bytes(const uint8_t *data, size_t len, size_t at, const uint8_t *extra,
                             size_t extra_len)
{
    uint8_t *out = malloc(len + extra_len);
    assert_non_null(out);
    memcpy(out, data, at);
    memcpy(out + at, extra, extra_len);
    memcpy(out + at + extra_len, data + at, len - at);
    return out;
}

/* docs/FORMAT.md's rules that a CRC cannot enforce, each broken in an otherwise valid file
 * (every CRC right), which must then be refused: ARCH first, at most one drop, and a
 * checkpoint's random-generator state never all zero. */
static void test_format_rules(void **state)
{
    (void)state;
    nn_model *m = trained_model(), *back = NULL; /* layer 1 has dropout: a drop section */
    assert_int_equal(nn_model_save_checkpoint(m, path), NN_OK);
    nn_model_destroy(m);
    size_t len;
    uint8_t *data = slurp(path, &len);
    assert_int_equal(load_bytes(data, len, &back), NN_OK); /* the file the cases start from */
    nn_model_destroy(back);
    back = NULL;
    sections t = find_sections(data, len);
    assert_int_equal(memcmp(data + t.start[0], "ARCH", 4), 0);

    /* A second drop section, right after the first, the same bytes. */
    int d = section_index(data, &t, "drop");
    uint8_t *two_drops = insert_bytes(data, len, t.start[d] + t.size[d], data + t.start[d],
                                      t.size[d]);
    assert_int_equal(load_bytes(two_drops, len + t.size[d], &back), NN_ERR_FORMAT);
    assert_null(back);
    free(two_drops);

    /* An ancillary section, unknown to the reader, before ARCH (after ARCH it is skipped). */
    blob z = {0};
    begin(&z, "zzzz"), add_u32(&z, 7), end(&z, -1);
    uint8_t *first = insert_bytes(data, len, t.start[0], z.data, z.len);
    assert_int_equal(load_bytes(first, len + z.len, &back), NN_ERR_FORMAT);
    assert_null(back);
    free(first);
    uint8_t *second = insert_bytes(data, len, t.start[1], z.data, z.len);
    assert_int_equal(load_bytes(second, len + z.len, &back), NN_OK);
    nn_model_destroy(back);
    back = NULL;
    free(second);

    /* trst's generator state (its bytes 4 .. 20) all zero, the CRC recomputed. */
    int r = section_index(data, &t, "trst");
    uint8_t *zero = malloc(len);
    assert_non_null(zero);
    memcpy(zero, data, len);
    uint8_t *trst = zero + t.start[r];
    memset(trst + 12 + 4, 0, 16);
    uint32_t crc = crc32_bitwise(trst, t.size[r] - 4);
    for (int i = 0; i < 4; i++)
        trst[t.size[r] - 4 + (size_t)i] = (uint8_t)(crc >> 8 * i);
    assert_int_equal(load_bytes(zero, len, &back), NN_ERR_FORMAT);
    assert_null(back);
    trst[12 + 4] = 1; /* one bit of state is enough: the same file, valid again */
    crc = crc32_bitwise(trst, t.size[r] - 4);
    for (int i = 0; i < 4; i++)
        trst[t.size[r] - 4 + (size_t)i] = (uint8_t)(crc >> 8 * i);
    assert_int_equal(load_bytes(zero, len, &back), NN_OK);
    nn_model_destroy(back);
    free(zero);
    free(data);
}

/* Widths that describe billions of parameters in a file of a few bytes are refused before
 * anything of that size is allocated. */
static void test_absurd_sizes_allocate_nothing_absurd(void **state)
{
    (void)state;
    const uint32_t huge[][3] = {{46000, 46000, 1}, {0x7fffffff, 0x7fffffff, 1}, {65536, 1, 65536}};
    for (int i = 0; i < 3; i++) {
        blob b = {0};
        add_header(&b, 1, 0), add_arch(&b, huge[i][0], huge[i] + 1, 2);
        add_params(&b, 4, 0.5f), add_end(&b);
        char p[128];
        snprintf(p, sizeof p, "%s/huge.nnm", dir);
        spit(p, b.data, b.len);
        counting_alloc c = {0};
        nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &c};
        nn_model *m = NULL;
        assert_int_equal(nn_model_load(p, &mo, &m), NN_ERR_FORMAT);
        assert_int_equal(c.live_blocks, 0);
        unlink(p);
    }
    blob b = {0};
    add_header(&b, 1, 0);
    begin(&b, "ARCH"), add_u32(&b, 3), add_u32(&b, 0x40000000), end(&b, -1);
    add_end(&b);
    assert_int_equal(load_blob(&b), NN_ERR_FORMAT);
}

static void test_load_bad_arguments(void **state)
{
    (void)state;
    nn_model *m = NULL;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.nnm", dir);
    assert_int_equal(nn_model_load(missing, NULL, &m), NN_ERR_IO);
    assert_int_equal(nn_model_load(NULL, NULL, &m), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_load(path, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_load(dir, NULL, &m), NN_ERR_IO); /* a directory */
    assert_null(m);
}

/* Every allocation a load makes may fail: NN_ERR_NOMEM, and nothing leaked. */
static void test_load_allocation_failures(void **state)
{
    (void)state;
    nn_model *m = trained_model();
    assert_int_equal(nn_model_set_meta(m, "a", "1", 1), NN_OK);
    assert_int_equal(nn_model_set_meta(m, "b", "22", 2), NN_OK);
    assert_int_equal(nn_model_save(m, path), NN_OK);
    nn_model_destroy(m);
    long k = 1;
    for (;; k++) {
        counting_alloc c = {.fail_at = k};
        nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &c};
        nn_model *back = NULL;
        nn_status s = nn_model_load(path, &mo, &back);
        if (s == NN_OK) {
            nn_model_destroy(back);
            assert_int_equal(c.live_blocks, 0);
            break;
        }
        assert_int_equal(s, NN_ERR_NOMEM);
        assert_null(back);
        assert_int_equal(c.live_blocks, 0);
        assert_int_equal(c.live_bytes, 0);
    }
    assert_true(k > 5); /* file buffer, specs, model, layers, params, metadata */
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) {
        nn_model *m = golden_model();
        nn_status s = nn_model_save(m, argv[2]);
        nn_model_destroy(m);
        return s != NN_OK;
    }
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_round_trip_is_bit_identical),
        cmocka_unit_test(test_metadata_api),
        cmocka_unit_test(test_save_replaces_atomically),
        cmocka_unit_test(test_size_overhead),
        cmocka_unit_test(test_golden_file_loads),
    };
    const struct CMUnitTest hostile[] = {
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_every_flipped_bit_fails),
        cmocka_unit_test(test_crafted_files),
        cmocka_unit_test(test_format_rules),
        cmocka_unit_test(test_absurd_sizes_allocate_nothing_absurd),
        cmocka_unit_test(test_load_bad_arguments),
        cmocka_unit_test(test_load_allocation_failures),
    };
    int failed = cmocka_run_group_tests_name("model files", files, make_dir, remove_dir);
    failed += cmocka_run_group_tests_name("hostile files", hostile, make_dir, remove_dir);
    return failed != 0;
}
