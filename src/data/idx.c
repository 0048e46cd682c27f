/* The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, element type, number of
 * dimensions), each dimension as a big-endian uint32, then every element, big-endian,
 * row-major. Shape letters: N rows (the first dimension), C columns (the product of the rest). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

enum { U8 = 0x08, I8 = 0x09, I16 = 0x0b, I32 = 0x0c, F32 = 0x0d, F64 = 0x0e };

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bytes per element of a type code, 0 for an unknown code. */
static size_t element_size(uint8_t type)
{
    switch (type) {
    case U8:
    case I8:
        return 1;
    case I16:
        return 2;
    case I32:
    case F32:
        return 4;
    case F64:
        return 8;
    default:
        return 0;
    }
}

/* The element at p. Signed values are decoded arithmetically: no implementation-defined
 * conversions of out-of-range unsigned values. */
static double element(uint8_t type, const uint8_t *p)
{
    uint32_t u;
    switch (type) {
    case U8:
        return p[0];
    case I8:
        return p[0] < 0x80 ? (double)p[0] : (double)p[0] - 256.0;
    case I16:
        u = (uint32_t)p[0] << 8 | p[1];
        return u < 0x8000 ? (double)u : (double)u - 65536.0;
    case I32:
        u = be32(p);
        return u < 0x80000000u ? (double)u : (double)u - 4294967296.0;
    case F32: {
        float f;
        u = be32(p);
        memcpy(&f, &u, sizeof f);
        return f;
    }
    default: { /* F64 */
        uint64_t bits = (uint64_t)be32(p) << 32 | be32(p + 4);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    }
}

nn_status nn__idx_parse(const uint8_t *data, size_t len, nn_mat *out, char *why,
                        nn_alloc_fn alloc, void *user)
{
    if (!data || !out)
        return nn__fail(why, NN_ERR_INVALID_ARG, "%s is NULL", data ? "out" : "data");
    if (len < 4 || data[0] != 0 || data[1] != 0)
        return nn__fail(why, NN_ERR_FORMAT, "not an IDX file (it starts with neither 00 00 "
                        "nor a gzip header)");
    uint8_t type = data[2];
    size_t size = element_size(type), ndims = data[3];
    if (size == 0)
        return nn__fail(why, NN_ERR_FORMAT, "element type 0x%02x is none of IDX's", type);
    if (ndims == 0 || (len - 4) / 4 < ndims)
        return nn__fail(why, NN_ERR_FORMAT, "%zu dimensions declared in a file of %zu bytes",
                        ndims, len);
    size_t header = 4 + 4 * ndims;
    /* Each factor stays below 2^32 and the product below 2^31 once checked: no overflow. */
    uint64_t rows = be32(data + 4), cols = 1;
    for (size_t d = 1; d < ndims && cols <= INT_MAX; d++)
        cols *= be32(data + 4 + 4 * d);
    if (rows == 0 || rows > INT_MAX || cols == 0 || cols > INT_MAX)
        return nn__fail(why, NN_ERR_FORMAT, "the dimensions give %llu rows of %llu values; "
                        "each must be 1 .. %d", (unsigned long long)rows,
                        (unsigned long long)cols, INT_MAX);
    /* The declared element count must be exactly the bytes that follow the header. */
    size_t body = len - header;
    if (body % size != 0 || body / size != rows * cols)
        return nn__fail(why, NN_ERR_FORMAT, "the header declares %llu x %llu elements of %zu "
                        "bytes, and %zu bytes follow it", (unsigned long long)rows,
                        (unsigned long long)cols, size, body);

    nn_mat m;
    nn_status s = nn_mat_alloc_with(&m, (int)rows, (int)cols, alloc, user);
    if (s != NN_OK)
        return nn__fail(why, s, "out of memory for (%llu, %llu) floats",
                        (unsigned long long)rows, (unsigned long long)cols);
    const uint8_t *p = data + header;
    size_t n = (size_t)(rows * cols);
    if (type == U8) { /* the MNIST case, kept a plain loop */
        for (size_t i = 0; i < n; i++)
            m.data[i] = p[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            double v = element(type, p + i * size);
            if (!(fabs(v) <= FLT_MAX)) { /* NaN, infinite, or beyond float */
                nn_mat_free_with(&m, alloc, user);
                return nn__fail(why, NN_ERR_FORMAT, "element %zu is %g, not a finite float", i,
                                v);
            }
            m.data[i] = (float)v;
        }
    }
    *out = m;
    return NN_OK;
}

nn_status nn_idx_load(const char *path, const nn_idx_opts *opts, nn_mat *out, nn_error *err)
{
    char why[NN_ERRMSG_SIZE] = "";
    nn_status s = NN_ERR_INVALID_ARG;
    if (!path || !out) {
        snprintf(why, sizeof why, "%s is NULL", path ? "out" : "path");
    } else {
        nn_alloc_fn alloc = opts && opts->alloc ? opts->alloc : nn__default_alloc;
        void *user = opts && opts->alloc ? opts->alloc_user : NULL;
        uint8_t *data = NULL;
        size_t len = 0, cap = 0;
        s = nn__read_file(path, alloc, user, &data, &len, &cap, why);
        if (s == NN_OK) {
            char parse_why[NN_ERRMSG_SIZE] = "";
            /* The matrix from opts' allocator, or calloc: nn_mat_free must be able to free it. */
            s = nn__idx_parse(data, len, out, parse_why, opts ? opts->alloc : NULL,
                              opts ? opts->alloc_user : NULL);
            nn__fail(why, s, "\"%s\": %s", path, parse_why); /* may be cut short */
            alloc(user, data, cap, 0);
        }
    }
    if (err) {
        err->status = s;
        err->message[0] = '\0';
        if (s != NN_OK)
            nn__fail(err->message, s, "nn_idx_load: %s", why);
    }
    return s;
}
