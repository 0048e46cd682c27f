/* Replacing a file atomically, for model files and ONNX export alike: write a temporary file
 * beside the target, flush it to the disk, then rename it over the target. A crash or a full
 * disk leaves the old file or the new one at the path, never a part of one. */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */
#include <unistd.h>
#define NN_FSYNC(f) (fsync(fileno(f)) == 0)
#else
#define NN_FSYNC(f) true
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

/* Temporary names "<path>.<k>.tmp", k < TEMP_TRIES, at most TEMP_SUFFIX_MAX bytes past path. */
enum { TEMP_TRIES = 16 };
#define TEMP_SUFFIX_MAX sizeof ".99.tmp"

/* Creates a new file beside path, named into tmp (tmp_size bytes), never reusing a name;
 * NULL if it cannot. */
static FILE *temp_open(const char *path, char *tmp, size_t tmp_size)
{
    for (int k = 0; k < TEMP_TRIES; k++) {
        int n = snprintf(tmp, tmp_size, "%s.%d.tmp", path, k);
        if (n < 0 || (size_t)n >= tmp_size)
            return NULL;
        /* "x": a name already taken (another writer's, a crash's leftover) is never reused,
         * and only that makes the next name worth a try; any other failure (no permission,
         * no space, no such directory) would fail for every name. */
        FILE *f = fopen(tmp, "wbx");
        if (f || errno != EEXIST)
            return f;
    }
    return NULL;
}

/* Closes f and, if everything was written, flushes it to the disk and renames it over path;
 * otherwise, or if any step fails, removes it. NN_OK when path now holds the new file; else
 * NN_ERR_IO, with the failing step and the system's reason in why. */
static nn_status temp_commit(FILE *f, const char *tmp, const char *path, bool written,
                             char *why)
{
    /* The data must be on the disk before the rename makes it the file at path. errno is
     * still what a failed write left. */
    const char *step = !written ? "writing" : fflush(f) != 0 || ferror(f) ? "flushing"
                     : !NN_FSYNC(f) ? "syncing" : NULL;
    int err = errno;
    if (fclose(f) != 0 && !step) {
        step = "closing";
        err = errno;
    }
    if (!step) {
        if (rename(tmp, path) == 0)
            return NN_OK;
        step = "renaming";
        err = errno;
    }
    remove(tmp);
    return nn__fail(why, NN_ERR_IO, "%s \"%s\" failed: %s (\"%s\" is as it was)", step, tmp,
                    err ? strerror(err) : "an I/O error", path);
}

nn_status nn__write_atomic(const char *path, bool (*write)(FILE *f, void *ctx), void *ctx,
                           char *why)
{
    char tmp[NN__PATH_MAX + TEMP_SUFFIX_MAX]; /* no allocation: writing never runs out of memory */
    if (!path || !*path)
        return nn__fail(why, NN_ERR_INVALID_ARG, "path is %s", path ? "empty" : "NULL");
    if (strlen(path) > NN__PATH_MAX)
        return nn__fail(why, NN_ERR_INVALID_ARG, "path is %zu bytes long; at most %d are "
                        "accepted", strlen(path), NN__PATH_MAX);
    errno = 0;
    FILE *f = temp_open(path, tmp, sizeof tmp);
    if (!f)
        return nn__fail(why, NN_ERR_IO, "cannot create a temporary file beside \"%s\": %s",
                        path, errno ? strerror(errno) : "16 names taken");
    errno = 0;
    bool written = write(f, ctx);
    return temp_commit(f, tmp, path, written, why);
}
