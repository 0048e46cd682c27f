/* Reading a file whole: the one reader of the data loaders (gunzipping what is gzip) and of
 * the model file loader (with the model's allocator). */
#define _POSIX_C_SOURCE 200809L /* fstat, fileno */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"

/* Reads the stream to its end into a block from alloc that grows by doubling: pipes and the
 * like as well as files. A regular file's size and one byte is the first capacity, so that
 * its end is seen without growing. */
static nn_status read_stream(FILE *f, const struct stat *st, nn_alloc_fn alloc, void *user,
                             uint8_t **data, size_t *len, size_t *cap_out)
{
    size_t cap = st ? (size_t)st->st_size + 1 : (size_t)1 << 16, n = 0;
    uint8_t *buf = alloc(user, NULL, 0, cap);
    if (!buf)
        return NN_ERR_NOMEM;
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = cap <= SIZE_MAX / 2 ? alloc(user, buf, cap, cap * 2) : NULL;
        if (!bigger) {
            alloc(user, buf, cap, 0);
            return NN_ERR_NOMEM;
        }
        buf = bigger;
        cap *= 2;
    }
    if (ferror(f)) { /* a directory opens, and fails here */
        alloc(user, buf, cap, 0);
        return NN_ERR_IO;
    }
    *data = buf;
    *len = n;
    *cap_out = cap;
    return NN_OK;
}

/* Reads exactly the st->st_size bytes of a regular file into a block of that size (1 byte
 * for an empty file), so that no more is allocated than the file holds: NN_ERR_IO if fewer
 * bytes are there. */
static nn_status read_sized(FILE *f, const struct stat *st, nn_alloc_fn alloc, void *user,
                            uint8_t **data, size_t *len, size_t *cap_out)
{
    size_t n = (size_t)st->st_size, cap = n ? n : 1;
    uint8_t *buf = alloc(user, NULL, 0, cap);
    if (!buf)
        return NN_ERR_NOMEM;
    if (fread(buf, 1, n, f) != n) {
        alloc(user, buf, cap, 0);
        return NN_ERR_IO;
    }
    *data = buf;
    *len = n;
    *cap_out = cap;
    return NN_OK;
}

nn_status nn__read_whole(const char *path, bool regular_only, nn_alloc_fn alloc, void *user,
                         uint8_t **data, size_t *len, size_t *cap, char *why)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nn__fail(why, NN_ERR_IO, "cannot open \"%s\": %s", path, strerror(errno));
    /* Only a regular file has a size to trust (a directory opens, and "seeks" anywhere). */
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
                   (uintmax_t)st.st_size < SIZE_MAX;
    nn_status s;
    errno = 0;
    if (regular_only)
        s = regular ? read_sized(f, &st, alloc, user, data, len, cap) : NN_ERR_IO;
    else
        s = read_stream(f, regular ? &st : NULL, alloc, user, data, len, cap);
    int read_errno = errno;
    /* A close that fails may mean a read failed unseen (NFS reports errors late): the
     * bytes are not trusted then. */
    if (fclose(f) != 0 && s == NN_OK) {
        read_errno = errno;
        alloc(user, *data, *cap, 0);
        s = NN_ERR_IO;
    }
    if (s == NN_ERR_NOMEM)
        return nn__fail(why, s, "the allocator refused the memory to read \"%s\"", path);
    if (s == NN_ERR_IO && regular_only && !regular)
        return nn__fail(why, s, "\"%s\" is not a regular file", path);
    if (s == NN_ERR_IO)
        return nn__fail(why, s, "cannot read \"%s\": %s", path,
                        read_errno ? strerror(read_errno) : "it ended early, or is a directory");
    return s;
}

nn_status nn__read_file(const char *path, nn_alloc_fn alloc, void *user, uint8_t **data,
                        size_t *len, size_t *cap, char *why)
{
    if (!path || !data || !len || !cap)
        return nn__fail(why, NN_ERR_INVALID_ARG, "path is NULL");
    if (!alloc)
        alloc = nn__default_alloc, user = NULL;
    uint8_t *raw = NULL;
    size_t raw_len = 0, raw_cap = 0;
    nn_status s = nn__read_whole(path, false, alloc, user, &raw, &raw_len, &raw_cap, why);
    if (s != NN_OK)
        return s;
    if (nn__is_gzip(raw, raw_len)) {
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        const char *reason = NULL;
        s = nn__gunzip(raw, raw_len, &plain, &plain_len, &reason, alloc, user);
        alloc(user, raw, raw_cap, 0);
        if (s == NN_ERR_NOMEM)
            return nn__fail(why, s, "the allocator refused the memory to decompress \"%s\"",
                            path);
        if (s != NN_OK)
            return nn__fail(why, s, "\"%s\" is a gzip file that does not decompress: %s", path,
                            reason ? reason : nn_status_message(s));
        raw = plain;
        raw_len = plain_len;
        raw_cap = plain_len ? plain_len : 1;
    }
    *data = raw;
    *len = raw_len;
    *cap = raw_cap;
    return NN_OK;
}
