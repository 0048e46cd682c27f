/* The CSV reader: files with a header, CRLF, a byte order mark, other delimiters, gzip; the
 * choice of target columns; numbers parsed exactly as the C library's strtof does (the
 * oracle); every malformed cell named by line and column, with nothing loaded. */
#include <float.h>
#include <locale.h>
#include <math.h>

#include "nn_internal.h"
#include "fixture.h"

/* Parses text; expects success and the given matrices (Y NULL: all columns to X). */
static void expect_parse(const char *text, const nn_csv_opts *opts, int rows, int xcols,
                         const float *x, int ycols, const float *y)
{
    nn_mat X = {0}, Y = {0};
    nn_csv_error err = {.line = -1, .column = -1};
    assert_int_equal(nn__csv_parse(text, strlen(text), opts, &X, y ? &Y : NULL, &err), NN_OK);
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 0);
    assert_int_equal(X.rows, rows);
    assert_int_equal(X.cols, xcols);
    for (int i = 0; i < rows * xcols; i++)
        assert_true(X.data[i] == x[i]);
    if (y) {
        assert_int_equal(Y.rows, rows);
        assert_int_equal(Y.cols, ycols);
        for (int i = 0; i < rows * ycols; i++)
            assert_true(Y.data[i] == y[i]);
    }
    nn_mat_free(&X);
    nn_mat_free(&Y);
}

/* Parses text; expects status want at (line, column) and X, Y untouched. */
static void expect_parse_error(const char *text, const nn_csv_opts *opts, nn_status want,
                               int line, int column)
{
    float sentinel = 7.0f;
    nn_mat X = nn_mat_wrap(&sentinel, 1, 1), Y = nn_mat_wrap(&sentinel, 1, 1);
    nn_csv_error err = {.line = -1, .column = -1};
    assert_int_equal(nn__csv_parse(text, strlen(text), opts, &X, &Y, &err), want);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    assert_true(X.data == &sentinel && X.rows == 1 && Y.data == &sentinel && Y.cols == 1);
}

/* ------------------------------------------------------------------ files */

static void test_header_crlf_bom(void **state)
{
    (void)state;
    const char *names[] = {"header-crlf.csv", "header-crlf.csv.gz"};
    for (int k = 0; k < 2; k++) {
        nn_csv_opts o = {.header = true};
        nn_mat X = {0}, Y = {0};
        nn_csv_error err;
        assert_int_equal(nn_csv_load(fixture(names[k]), &o, &X, &Y, &err), NN_OK);
        const float x[] = {50.5f, 2, 72, 3, 120, 4}, y[] = {150, 210.25f, 400};
        assert_int_equal(X.rows, 3);
        assert_int_equal(X.cols, 2);
        assert_int_equal(Y.rows, 3);
        assert_int_equal(Y.cols, 1);
        assert_memory_equal(X.data, x, sizeof x);
        assert_memory_equal(Y.data, y, sizeof y);
        nn_mat_free(&X);
        nn_mat_free(&Y);
    }
}

static void test_other_delimiter(void **state)
{
    (void)state;
    nn_csv_opts o = {.delimiter = ';'};
    nn_mat X = {0};
    assert_int_equal(nn_csv_load(fixture("semicolon.csv"), &o, &X, NULL, NULL), NN_OK);
    const float x[] = {1, -25, 3, 4, 0.5f, 6};
    assert_int_equal(X.rows, 2);
    assert_int_equal(X.cols, 3);
    assert_memory_equal(X.data, x, sizeof x);
    nn_mat_free(&X);
}

static void expect_file_error(const char *name, bool header, nn_status want, int line, int col)
{
    nn_csv_opts o = {.header = header};
    nn_mat X = {0}, Y = {0};
    nn_csv_error err = {.line = -1, .column = -1};
    assert_int_equal(nn_csv_load(fixture(name), &o, &X, &Y, &err), want);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
    assert_null(X.data);
    assert_null(Y.data);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_file_error("bad-cell.csv", true, NN_ERR_FORMAT, 4, 2); /* "abc" */
    expect_file_error("short-row.csv", false, NN_ERR_FORMAT, 3, 3);
    expect_file_error("long-row.csv", false, NN_ERR_FORMAT, 2, 4);
    expect_file_error("empty.csv", false, NN_ERR_FORMAT, 0, 0);
    expect_file_error("header-only.csv", true, NN_ERR_FORMAT, 0, 0);
    expect_file_error("header-only.csv", false, NN_ERR_FORMAT, 1, 1); /* a header read as data */
    expect_file_error("no-such-file.csv", false, NN_ERR_IO, 0, 0);
    expect_file_error("bad-crc.idx.gz", false, NN_ERR_FORMAT, 0, 0);
}

/* ---------------------------------------------------------------- targets */

static void test_target_columns(void **state)
{
    (void)state;
    const char *text = "1,2,3,4\n5,6,7,8\n";
    const float all[] = {1, 2, 3, 4, 5, 6, 7, 8};
    expect_parse(text, NULL, 2, 4, all, 0, NULL); /* Y NULL: everything is X */
    const float x_last[] = {1, 2, 3, 5, 6, 7}, y_last[] = {4, 8};
    expect_parse(text, NULL, 2, 3, x_last, 1, y_last);
    nn_csv_opts two = {.n_targets = 2};
    const float x2[] = {1, 2, 5, 6}, y2[] = {3, 4, 7, 8};
    expect_parse(text, &two, 2, 2, x2, 2, y2);
    /* Chosen columns, in the order given: Y = (col 3, col 0), X the rest in file order. */
    int cols[] = {3, 0};
    nn_csv_opts chosen = {.n_targets = 2, .target_cols = cols};
    const float xc[] = {2, 3, 6, 7}, yc[] = {4, 1, 8, 5};
    expect_parse(text, &chosen, 2, 2, xc, 2, yc);
    int first[] = {0}; /* MNIST-style CSV: the label first; n_targets 0 means 1 */
    nn_csv_opts label_first = {.target_cols = first};
    const float xf[] = {2, 3, 4, 6, 7, 8}, yf[] = {1, 5};
    expect_parse(text, &label_first, 2, 3, xf, 1, yf);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *text = "1,2,3\n";
    int dup[] = {1, 1}, far[] = {3}, negative[] = {-1};
    nn_csv_opts o = {.n_targets = 2, .target_cols = dup};
    expect_parse_error(text, &o, NN_ERR_INVALID_ARG, 0, 0);
    o = (nn_csv_opts){.target_cols = far};
    expect_parse_error(text, &o, NN_ERR_SHAPE, 0, 0);
    o = (nn_csv_opts){.target_cols = negative};
    expect_parse_error(text, &o, NN_ERR_INVALID_ARG, 0, 0);
    o = (nn_csv_opts){.n_targets = 3}; /* nothing left for X */
    expect_parse_error(text, &o, NN_ERR_SHAPE, 0, 0);
    o = (nn_csv_opts){.n_targets = -1};
    expect_parse_error(text, &o, NN_ERR_INVALID_ARG, 0, 0);
    const char bad_delimiters[] = {'.', '-', '+', 'e', 'E', '5', '\n', '\r'};
    for (size_t i = 0; i < sizeof bad_delimiters; i++) {
        o = (nn_csv_opts){.delimiter = bad_delimiters[i]};
        expect_parse_error(text, &o, NN_ERR_INVALID_ARG, 0, 0);
    }
    nn_mat X = {0};
    assert_int_equal(nn__csv_parse(text, 6, NULL, NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn__csv_parse(text, 6, NULL, &X, &X, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn__csv_parse(NULL, 6, NULL, &X, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_csv_load(NULL, NULL, &X, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_null(X.data);
}

/* ------------------------------------------------------------- structure */

static void test_lines(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 4};
    expect_parse("1,2\n3,4", NULL, 2, 2, x, 0, NULL);              /* no final newline */
    expect_parse("1,2\r\n3,4\r", NULL, 2, 2, x, 0, NULL);          /* CR at the very end */
    expect_parse("\n1,2\n \t\n\n3,4\n\n", NULL, 2, 2, x, 0, NULL); /* blank lines */
    nn_csv_opts header = {.header = true};
    expect_parse("\n\nx,y\n1,2\n3,4\n", &header, 2, 2, x, 0, NULL); /* header after blanks */
    expect_parse("\"quoted, \"\"names\"\"\";y\n1,2\n3,4\n", &header, 2, 2, x, 0, NULL);
    nn_csv_opts tab = {.delimiter = '\t'}, space = {.delimiter = ' '};
    expect_parse("1\t2\n3\t 4\n", &tab, 2, 2, x, 0, NULL);
    expect_parse("1 2\n3 4\n", &space, 2, 2, x, 0, NULL);
    const float one[] = {5};
    expect_parse("5", NULL, 1, 1, one, 0, NULL);
}

/* Lines and columns count from 1, in the file as it is: header and blank lines included. */
static void test_error_places(void **state)
{
    (void)state;
    nn_csv_opts header = {.header = true};
    expect_parse_error("1,2\n\n3,x\n", NULL, NN_ERR_FORMAT, 3, 2);
    expect_parse_error("a,b\n1,2\n3,4,\n", &header, NN_ERR_FORMAT, 3, 3); /* trailing comma */
    expect_parse_error("1,2\n3\n", NULL, NN_ERR_FORMAT, 2, 2);
    expect_parse_error("1,,2\n", NULL, NN_ERR_FORMAT, 1, 2);            /* an empty cell */
    expect_parse_error("1,2\r\n3,4\r\r\n", NULL, NN_ERR_FORMAT, 2, 2);   /* a stray CR */
    expect_parse_error("1;2\n", NULL, NN_ERR_FORMAT, 1, 1);              /* wrong delimiter */
    expect_parse_error("x,y\n1,2\n", NULL, NN_ERR_FORMAT, 1, 1);         /* header not declared */
    expect_parse_error("", NULL, NN_ERR_FORMAT, 0, 0);
    expect_parse_error("\n \n", NULL, NN_ERR_FORMAT, 0, 0);
    const char with_nul[] = "1,2\n3,\0\n";
    float sentinel = 0;
    nn_mat X = nn_mat_wrap(&sentinel, 1, 1);
    nn_csv_error err;
    assert_int_equal(nn__csv_parse(with_nul, sizeof with_nul - 1, NULL, &X, NULL, &err),
                     NN_ERR_FORMAT);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2);
    assert_true(X.data == &sentinel);
}

/* ---------------------------------------------------------------- numbers */

static float parse_one(const char *cell, nn_status *status)
{
    nn_mat X = {0};
    *status = nn__csv_parse(cell, strlen(cell), NULL, &X, NULL, NULL);
    float v = *status == NN_OK ? X.data[0] : NAN;
    nn_mat_free(&X);
    return v;
}

static void expect_number(const char *cell, float want)
{
    nn_status s;
    float got = parse_one(cell, &s);
    assert_int_equal(s, NN_OK);
    assert_memory_equal(&got, &want, sizeof got); /* bit for bit: signs of zero too */
}

static void expect_not_number(const char *cell)
{
    nn_status s;
    parse_one(cell, &s);
    assert_int_equal(s, NN_ERR_FORMAT);
}

static void test_number_syntax(void **state)
{
    (void)state;
    /* The compiler's own reading of the literal is the oracle. */
    expect_number("0.1", 0.1f);
    expect_number("-.5", -0.5f);
    expect_number("5.", 5.0f);
    expect_number("+7", 7.0f);
    expect_number("1E2", 100.0f);
    expect_number("2.5e-3", 2.5e-3f);
    expect_number("-0", -0.0f);
    expect_number("  3.25 \t", 3.25f);
    expect_number("000123.4500", 123.45f);
    expect_number("123456789012345678901234567890", 123456789012345678901234567890.0f);
    expect_number("0.000000000000000000000000000000000000011754943508", FLT_MIN);
    expect_number("3.40282346639e38", FLT_MAX); /* above FLT_MAX, but rounds to it */
    expect_number("-3.4028235e38", -FLT_MAX);
    expect_number("1e-50", 0.0f); /* below the smallest float: 0, as strtof gives */
    expect_number("1e-99999999999", 0.0f);
    const char *bad[] = {"", " ", ".", "-", "+", "e5", ".e5", "1e", "1e+", "1.2.3", "--1",
                         "0x10", "inf", "nan", "1 2", "1,5e", "3.5e38", "1e39", "1e99999999999",
                         "\xd9\xa1" /* ١, an Arabic-Indic one */};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_not_number(bad[i]);
}

/* Thousands of numbers of every magnitude, printed with 9 significant digits (enough to
 * name every float) and with fewer: each must read back as strtof reads it. */
static void test_numbers_match_strtof(void **state)
{
    (void)state;
    enum { N = 4000 };
    static char text[N * 40];
    size_t len = 0;
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    for (int i = 0; i < N; i++) {
        float mag = powf(10.0f, -40.0f + 78.0f * nn_rng_uniform(&rng));
        float v = (nn_rng_uniform(&rng) - 0.5f) * mag;
        int digits = 1 + (int)(nn_rng_next(&rng) % 9);
        len += (size_t)snprintf(text + len, sizeof text - len, "%.*g\n", digits, v);
    }
    nn_mat X = {0};
    assert_int_equal(nn__csv_parse(text, len, NULL, &X, NULL, NULL), NN_OK);
    assert_int_equal(X.rows, N);
    const char *line = text;
    for (int i = 0; i < N; i++) {
        char *end;
        float want = strtof(line, &end);
        if (memcmp(&X.data[i], &want, sizeof want) != 0)
            fail_msg("line %d \"%.*s\": read %.9g, strtof %.9g", i + 1, (int)(end - line), line,
                     X.data[i], want);
        line = end + 1;
    }
    nn_mat_free(&X);
}

/* With a locale whose decimal point is a comma, strtod would stop at "1.5"; ours does not. */
static void test_locale_independent(void **state)
{
    (void)state;
    const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const char *set = NULL;
    for (size_t i = 0; i < 4 && !set; i++)
        set = setlocale(LC_NUMERIC, locales[i]);
    if (!set)
        skip(); /* no such locale installed */
    expect_number("1.5", 1.5f);
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_header_crlf_bom),
        cmocka_unit_test(test_other_delimiter),
        cmocka_unit_test(test_bad_files),
    };
    const struct CMUnitTest columns[] = {
        cmocka_unit_test(test_target_columns),
        cmocka_unit_test(test_bad_options),
    };
    const struct CMUnitTest structure[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_error_places),
    };
    const struct CMUnitTest numbers[] = {
        cmocka_unit_test(test_number_syntax),
        cmocka_unit_test(test_numbers_match_strtof),
        cmocka_unit_test(test_locale_independent),
    };
    int failed = cmocka_run_group_tests_name("CSV files", files, NULL, NULL);
    failed += cmocka_run_group_tests_name("target columns", columns, NULL, NULL);
    failed += cmocka_run_group_tests_name("lines and fields", structure, NULL, NULL);
    failed += cmocka_run_group_tests_name("numbers", numbers, NULL, NULL);
    return failed;
}
