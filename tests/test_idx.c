/* The IDX reader: every element type, plain and gzip files, and every kind of broken file —
 * wrong magic, unknown type, truncated, trailing bytes, huge declared sizes, bad gzip —
 * rejected with the output left as it was. With dataset-fashion-mnist installed, its test
 * set is checked against figures computed with Python's gzip module. */
#include "nn_internal.h"
#include "fixture.h"

static void expect_matrix(const char *name, int rows, int cols, const float *want)
{
    nn_mat m = {0};
    assert_int_equal(nn_idx_load(fixture(name), NULL, &m, NULL), NN_OK);
    assert_int_equal(m.rows, rows);
    assert_int_equal(m.cols, cols);
    for (int i = 0; i < rows * cols; i++)
        assert_true(m.data[i] == want[i]); /* exact: every fixture value is a float */
    nn_mat_free(&m);
}

static void test_images_and_labels(void **state)
{
    (void)state;
    /* 3 images of 2 x 2 pixels: rows are images, the pixels of one row-major. */
    float pixels[12];
    for (int i = 0; i < 12; i++)
        pixels[i] = 20.0f * i;
    expect_matrix("images-u8.idx", 3, 4, pixels);
    expect_matrix("images-u8.idx.gz", 3, 4, pixels);
    const float labels[] = {3, 0, 9, 1, 3};
    expect_matrix("labels-u8.idx", 5, 1, labels);
}

static void test_element_types(void **state)
{
    (void)state;
    const float i8[] = {-128, -1, 0, 127}, i16[] = {-32768, -2, 300, 32767};
    const float i32[] = {-100000, -1, 7, 16777216}, f32[] = {-1.5f, 0.0f, 0.25f, 3e38f};
    const float f64[] = {-2.5f, 1e-3f, 1e30f, 12345.0f};
    expect_matrix("values-i8.idx", 2, 2, i8);
    expect_matrix("values-i16.idx", 2, 2, i16);
    expect_matrix("values-i32.idx", 2, 2, i32);
    expect_matrix("values-f32.idx", 2, 2, f32);
    expect_matrix("values-f64.idx", 4, 1, f64);
}

/* A failed load leaves the output exactly as it was. */
static void expect_error(const char *name, nn_status want)
{
    float sentinel = 42.0f;
    nn_mat m = nn_mat_wrap(&sentinel, 1, 1);
    assert_int_equal(nn_idx_load(fixture(name), NULL, &m, NULL), want);
    assert_true(m.rows == 1 && m.cols == 1 && m.data == &sentinel);
}

static void test_broken_files(void **state)
{
    (void)state;
    expect_error("bad-magic.idx", NN_ERR_FORMAT);
    expect_error("bad-type.idx", NN_ERR_FORMAT);
    expect_error("no-dims.idx", NN_ERR_FORMAT);
    expect_error("truncated-header.idx", NN_ERR_FORMAT);
    expect_error("truncated-data.idx", NN_ERR_FORMAT);
    expect_error("trailing-data.idx", NN_ERR_FORMAT);
    expect_error("nan.idx", NN_ERR_FORMAT);
    expect_error("big-f64.idx", NN_ERR_FORMAT); /* 1e300 is no float */
    expect_error("empty.csv", NN_ERR_FORMAT);   /* an empty file */
    expect_error("no-such-file.idx", NN_ERR_IO);
}

/* Dimensions of 2^32 - 1, whose product overflows 64 bits, and 2^31 - 1 by 65536 inside a
 * gzip file: rejected by arithmetic, before any allocation could be attempted. */
static void test_huge_declared_sizes(void **state)
{
    (void)state;
    expect_error("huge-dims.idx", NN_ERR_FORMAT);
    expect_error("huge-dims.idx.gz", NN_ERR_FORMAT);
    expect_error("huge-isize.gz", NN_ERR_FORMAT);
}

static void test_broken_gzip(void **state)
{
    (void)state;
    expect_error("truncated.idx.gz", NN_ERR_FORMAT);
    expect_error("bad-crc.idx.gz", NN_ERR_FORMAT);
    expect_error("bad-size.idx.gz", NN_ERR_FORMAT);
}

/* Every truncation of a valid file, and dimensions that disagree with the data by one. */
static void test_parse_in_memory(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = fixture_bytes("images-u8.idx", &len);
    nn_mat m = {0};
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        assert_int_equal(nn__idx_parse(copy, cut, &m, NULL, NULL, NULL), NN_ERR_FORMAT);
        free(copy);
    }
    data[7] = 4; /* 4 images declared, 3 present */
    assert_int_equal(nn__idx_parse(data, len, &m, NULL, NULL, NULL), NN_ERR_FORMAT);
    data[7] = 3;
    data[15] = 1; /* images of 2 x 1: too few pixels declared */
    assert_int_equal(nn__idx_parse(data, len, &m, NULL, NULL, NULL), NN_ERR_FORMAT);
    data[15] = 0; /* a dimension of 0: no data */
    assert_int_equal(nn__idx_parse(data, 16, &m, NULL, NULL, NULL), NN_ERR_FORMAT);
    assert_null(m.data);
    assert_int_equal(nn__idx_parse(NULL, len, &m, NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn__idx_parse(data, len, NULL, NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_idx_load(NULL, NULL, &m, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_idx_load(fixture("images-u8.idx"), NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    free(data);
}

static bool readable(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* Figures from Python: gzip.open(...).read(), then counts, the first labels and byte sums. */
static void test_fashion_mnist(void **state)
{
    (void)state;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    char labels_path[256], images_path[256];
    snprintf(labels_path, sizeof labels_path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    snprintf(images_path, sizeof images_path, "%s/t10k-images-idx3-ubyte.gz", dir);
    if (!readable(labels_path) || !readable(images_path))
        skip(); /* dataset-fashion-mnist is not installed */
    nn_mat labels = {0}, images = {0};
    assert_int_equal(nn_idx_load(labels_path, NULL, &labels, NULL), NN_OK);
    assert_int_equal(nn_idx_load(images_path, NULL, &images, NULL), NN_OK);
    assert_int_equal(labels.rows, 10000);
    assert_int_equal(labels.cols, 1);
    assert_int_equal(images.rows, 10000);
    assert_int_equal(images.cols, 28 * 28);
    const float first[] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    assert_memory_equal(labels.data, first, sizeof first);
    int per_class[10] = {0};
    for (int i = 0; i < 10000; i++)
        per_class[(int)labels.data[i]]++;
    for (int k = 0; k < 10; k++)
        assert_int_equal(per_class[k], 1000);
    double sum = 0, first_image = 0;
    for (size_t i = 0; i < (size_t)10000 * 784; i++)
        sum += images.data[i];
    for (int i = 0; i < 784; i++)
        first_image += images.data[i];
    assert_true(sum == 573469082.0);
    assert_true(first_image == 33456.0);
    nn_mat_free(&labels);
    nn_mat_free(&images);
}

int main(void)
{
    const struct CMUnitTest valid[] = {
        cmocka_unit_test(test_images_and_labels),
        cmocka_unit_test(test_element_types),
        cmocka_unit_test(test_fashion_mnist),
    };
    const struct CMUnitTest broken[] = {
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_huge_declared_sizes),
        cmocka_unit_test(test_broken_gzip),
        cmocka_unit_test(test_parse_in_memory),
    };
    int failed = cmocka_run_group_tests_name("valid IDX files", valid, NULL, NULL);
    failed += cmocka_run_group_tests_name("broken IDX files", broken, NULL, NULL);
    return failed;
}
