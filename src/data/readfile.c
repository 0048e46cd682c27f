/* Reading a data file whole, and gunzipping it when it is gzip-compressed, for the readers. */
#include <stdio.h>
#include <stdlib.h>

#include "data/data.h"

/* Reads the stream to its end into a growing block: works for pipes as well as files. */
static nn_status read_all(FILE *f, uint8_t **data, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return NN_ERR_NOMEM;
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            return NN_ERR_NOMEM;
        }
        buf = bigger;
        cap *= 2;
    }
    if (ferror(f)) {
        free(buf);
        return NN_ERR_IO;
    }
    *data = buf;
    *len = n;
    return NN_OK;
}

nn_status nn__read_file(const char *path, uint8_t **data, size_t *len)
{
    if (!path || !data || !len)
        return NN_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NN_ERR_IO;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    nn_status s = read_all(f, &raw, &raw_len);
    if (fclose(f) != 0 && s == NN_OK) {
        free(raw);
        s = NN_ERR_IO;
    }
    if (s != NN_OK)
        return s;
    if (nn__is_gzip(raw, raw_len)) {
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        s = nn__gunzip(raw, raw_len, &plain, &plain_len, NULL);
        free(raw);
        if (s != NN_OK)
            return s;
        raw = plain;
        raw_len = plain_len;
    }
    *data = raw;
    *len = raw_len;
    return NN_OK;
}
