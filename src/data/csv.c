/* Numeric CSV files. The text is walked twice: the first pass checks every cell and counts
 * the rows and columns, so that the matrices are allocated once and exactly; the second pass,
 * which cannot fail, converts the cells into them. A file is loaded whole or not at all.
 * Shape letters: N data rows, C columns of the file, T target columns. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

/* Digits kept in the mantissa: 10^18 · 10 + 9 still fits 64 bits, and 19 significant digits
 * are more than a double (about 16) carries anyway. */
#define KEEP_BELOW UINT64_C(1000000000000000000)

/* The least value that rounds past FLT_MAX to infinity: 2^128 - 2^103, halfway to 2^128. */
#define FLOAT_OVERFLOW 0x1.ffffffp127

/* 10^n for the powers a double holds exactly. */
static const double EXACT_POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* mantissa · 10^exponent in double: exact operands, so one rounding, when both are small. */
static double scale10(uint64_t mantissa, int64_t exponent)
{
    double v = (double)mantissa;
    if (mantissa == 0 || exponent == 0)
        return v;
    if (exponent > 0 && exponent <= 22)
        return v * EXACT_POW10[exponent];
    if (exponent < 0 && exponent >= -22)
        return v / EXACT_POW10[-exponent];
    if (exponent > 400 || exponent < -400) /* far outside float range either way */
        return exponent > 0 ? HUGE_VAL : 0.0;
    return v * pow(10.0, (double)exponent);
}

/* Parses the decimal number that fills [p, end), spaces and tabs around it allowed:
 * [+-] digits [. [digits]] | [+-] . digits, then [e|E [+-] digits]. The C locale plays no
 * part (strtod would read "1,5" in some locales and stop at "1.5" in others). False if the
 * text is anything else or its value is beyond float range. */
static bool parse_number(const char *p, const char *end, float *value)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    bool negative = false, point = false;
    if (p < end && (*p == '+' || *p == '-'))
        negative = *p++ == '-';
    uint64_t mantissa = 0;
    int64_t exponent = 0, digits = 0;
    for (; p < end; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (!is_digit(*p))
            break;
        digits++;
        if (mantissa < KEEP_BELOW) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            exponent -= point;
        } else {
            exponent += !point; /* a digit we drop still scales the value if before the point */
        }
    }
    if (digits == 0)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool negative_exp = false;
        if (++p < end && (*p == '+' || *p == '-'))
            negative_exp = *p++ == '-';
        if (p == end || !is_digit(*p))
            return false;
        int64_t e = 0;
        for (; p < end && is_digit(*p); p++)
            if (e < 100000) /* saturate: any larger exponent means 0 or overflow */
                e = e * 10 + (*p - '0');
        exponent += negative_exp ? -e : e;
    }
    if (p != end)
        return false;
    /* Rounded to float, values up to halfway between FLT_MAX and 2^128 are FLT_MAX. */
    double v = scale10(mantissa, exponent);
    if (!(v < FLOAT_OVERFLOW))
        return false;
    float f = v > FLT_MAX ? FLT_MAX : (float)v;
    *value = negative ? -f : f;
    return true;
}

/* One walk over the text. The first pass (dest NULL) counts and checks; the second stores. */
typedef struct csv_pass {
    const char *text;
    size_t len;
    char delimiter;
    bool header;
    int rows, cols;    /* found by the first pass; cols from the first data line */
    const int *dest;   /* (C): column c goes to X column dest[c] if >= 0, else to Y column
                          -1-dest[c] */
    float *X, *Y;      /* (N, C - T), (N, T) */
    int xcols, ycols;
    nn_csv_error err;
} csv_pass;

/* NN_ERR_FORMAT at (line, column): why, and the field's text [field, stop) if there is one. */
static nn_status bad_cell(csv_pass *c, int line, int column, const char *why,
                          const char *field, const char *stop)
{
    c->err.line = line;
    c->err.column = column;
    int shown = field && stop - field < 40 ? (int)(stop - field) : 40;
    if (field)
        nn__fail(c->err.message, NN_ERR_FORMAT, "line %d, field %d (\"%.*s\"): %s", line,
                 column, shown, field, why);
    else if (line > 0)
        nn__fail(c->err.message, NN_ERR_FORMAT, "line %d: %s", line, why);
    else
        nn__fail(c->err.message, NN_ERR_FORMAT, "%s", why);
    return NN_ERR_FORMAT;
}

static bool blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p == end;
}

/* The cells of one data line [p, eol), checked and, in the second pass, stored in row. */
static nn_status walk_line(csv_pass *c, const char *p, const char *eol, int line, int row)
{
    int col = 0;
    for (const char *field = p;; col++) {
        const char *stop = memchr(field, c->delimiter, (size_t)(eol - field));
        if (!stop)
            stop = eol;
        float v;
        if ((c->cols && col >= c->cols) || col == INT_MAX)
            return bad_cell(c, line, col + 1, "more fields than the first data line has",
                            field, stop);
        if (!parse_number(field, stop, &v))
            return bad_cell(c, line, col + 1, "not a finite decimal number", field, stop);
        if (c->dest) {
            int d = c->dest[col];
            if (d >= 0)
                c->X[(size_t)row * c->xcols + d] = v;
            else
                c->Y[(size_t)row * c->ycols + (-1 - d)] = v;
        }
        if (stop == eol)
            break;
        field = stop + 1;
    }
    int fields = col + 1;
    if (c->cols == 0)
        c->cols = fields;
    else if (fields < c->cols)
        return bad_cell(c, line, fields + 1, "fewer fields than the first data line has",
                        NULL, NULL); /* the first missing field */
    return NN_OK;
}

static nn_status walk(csv_pass *c)
{
    const char *p = c->text, *end = c->text + c->len;
    if (c->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, as spreadsheets write */
    bool header = c->header;
    int line = 0, row = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *next;
        next = eol ? eol + 1 : end;
        if (!eol)
            eol = end;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (line == INT_MAX || row == INT_MAX)
            return bad_cell(c, line, 0, "more lines than an int counts", NULL, NULL);
        line++;
        if (!blank(p, eol)) {
            if (header) {
                header = false;
            } else {
                nn_status s = walk_line(c, p, eol, line, row);
                if (s != NN_OK)
                    return s;
                row++;
            }
        }
        p = next;
    }
    c->rows = row;
    if (row == 0)
        return bad_cell(c, 0, 0, "no data rows", NULL, NULL);
    return NN_OK;
}

/* A delimiter must not be able to appear inside a number or end a line. */
static bool delimiter_ok(char d)
{
    return d != '\n' && d != '\r' && !is_digit(d) && !strchr("+-.eE", d);
}

/* The parse, with failures that have no one place described in msg. */
static nn_status parse(const char *text, size_t len, const nn_csv_opts *opts, nn_mat *X,
                       nn_mat *Y, nn_csv_error *err)
{
    char *msg = err->message;
    nn_csv_opts o = opts ? *opts : (nn_csv_opts){0};
    csv_pass c = {.text = text, .len = len, .delimiter = o.delimiter ? o.delimiter : ',',
                  .header = o.header};
    int T = Y ? (o.n_targets ? o.n_targets : 1) : 0;
    if (!X || X == Y)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "X is %s", X ? "also Y" : "NULL");
    if (!text && len)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "text is NULL");
    if (o.n_targets < 0)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "opts.n_targets is %d; it must be >= 0",
                        o.n_targets);
    if (!delimiter_ok(c.delimiter))
        return nn__fail(msg, NN_ERR_INVALID_ARG, "opts.delimiter is byte %d, which a number "
                        "or a line end contains", (int)(unsigned char)c.delimiter);
    for (int i = 0; Y && o.target_cols && i < T; i++)
        if (o.target_cols[i] < 0)
            return nn__fail(msg, NN_ERR_INVALID_ARG, "opts.target_cols[%d] is %d; a column "
                            "index is >= 0", i, o.target_cols[i]);
    if (!text)
        return nn__fail(msg, NN_ERR_FORMAT, "no data rows");

    nn_status s = walk(&c);
    if (s != NN_OK) {
        *err = c.err;
        return s;
    }
    int C = c.cols;
    if (T >= C)
        return nn__fail(msg, NN_ERR_SHAPE, "%d target columns asked for, and the file has %d "
                        "columns: none would be left for X", T, C);
    nn_alloc_fn alloc = o.alloc ? o.alloc : nn__default_alloc;
    void *user = o.alloc ? o.alloc_user : NULL;
    int *dest = alloc(user, NULL, 0, (size_t)C * sizeof *dest);
    if (!dest)
        return nn__fail(msg, NN_ERR_NOMEM, "out of memory for the map of %d columns", C);
    memset(dest, 0, (size_t)C * sizeof *dest);
    for (int i = 0; i < T && s == NN_OK; i++) {
        int col = o.target_cols ? o.target_cols[i] : C - T + i;
        if (col >= C)
            s = nn__fail(msg, NN_ERR_SHAPE, "opts.target_cols[%d] is %d; the file has columns "
                         "0 .. %d", i, col, C - 1);
        else if (dest[col] < 0)
            s = nn__fail(msg, NN_ERR_INVALID_ARG, "opts.target_cols[%d] is %d, a column "
                         "already given", i, col);
        else
            dest[col] = -1 - i;
    }
    for (int col = 0, x = 0; col < C; col++)
        if (dest[col] >= 0)
            dest[col] = x++;

    nn_mat Xm = {0}, Ym = {0};
    if (s == NN_OK)
        s = nn_mat_alloc_with(&Xm, c.rows, C - T, o.alloc, o.alloc_user);
    if (s == NN_OK && Y)
        s = nn_mat_alloc_with(&Ym, c.rows, T, o.alloc, o.alloc_user);
    if (s == NN_OK) {
        c.dest = dest;
        c.X = Xm.data;
        c.Y = Ym.data;
        c.xcols = C - T;
        c.ycols = T;
        walk(&c); /* the text passed the first walk: this one only stores */
        *X = Xm;
        if (Y)
            *Y = Ym;
    } else {
        if (s == NN_ERR_NOMEM)
            nn__fail(msg, s, "out of memory for (%d, %d) values", c.rows, C);
        nn_mat_free_with(&Xm, o.alloc, o.alloc_user);
        nn_mat_free_with(&Ym, o.alloc, o.alloc_user);
    }
    alloc(user, dest, (size_t)C * sizeof *dest, 0);
    return s;
}

nn_status nn__csv_parse(const char *text, size_t len, const nn_csv_opts *opts, nn_mat *X,
                        nn_mat *Y, nn_csv_error *err)
{
    nn_csv_error local;
    if (!err)
        err = &local;
    *err = (nn_csv_error){0};
    return parse(text, len, opts, X, Y, err);
}

nn_status nn_csv_load(const char *path, const nn_csv_opts *opts, nn_mat *X, nn_mat *Y,
                      nn_csv_error *err)
{
    nn_csv_error local;
    if (!err)
        err = &local;
    *err = (nn_csv_error){0};
    if (!path || !X || X == Y)
        return nn__fail(err->message, NN_ERR_INVALID_ARG, "nn_csv_load: %s is %s",
                        !path ? "path" : "X", !path ? "NULL" : X ? "also Y" : "NULL");
    nn_alloc_fn alloc = opts ? opts->alloc : NULL;
    void *user = opts ? opts->alloc_user : NULL;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    char why[NN_ERRMSG_SIZE] = "";
    nn_status s = nn__read_file(path, alloc, user, &data, &len, &cap, why);
    if (s != NN_OK) {
        nn__fail(err->message, s, "nn_csv_load: %s", why); /* may be cut short */
        return s;
    }
    s = parse((const char *)data, len, opts, X, Y, err);
    (alloc ? alloc : nn__default_alloc)(alloc ? user : NULL, data, cap, 0);
    memcpy(why, err->message, sizeof why);
    if (s != NN_OK)
        nn__fail(err->message, s, "nn_csv_load: \"%s\": %s", path, why);
    return s;
}
