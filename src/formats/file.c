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
#include <stdio.h>

#include "formats/formats.h"

enum { TEMP_TRIES = 16 }; /* names "<path>.<k>.tmp", k < TEMP_TRIES (NN__TEMP_SUFFIX_MAX) */

FILE *nn__temp_open(const char *path, char *tmp, size_t tmp_size)
{
    for (int k = 0; k < TEMP_TRIES; k++) {
        int n = snprintf(tmp, tmp_size, "%s.%d.tmp", path, k);
        if (n < 0 || (size_t)n >= tmp_size)
            return NULL;
        /* "x": a name already taken (another writer's, a crash's leftover) is never reused. */
        FILE *f = fopen(tmp, "wbx");
        if (f)
            return f;
    }
    return NULL;
}

bool nn__temp_commit(FILE *f, const char *tmp, const char *path, bool written)
{
    /* The data must be on the disk before the rename makes it the file at path. */
    bool ok = written && fflush(f) == 0 && !ferror(f) && NN_FSYNC(f);
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0)
        return true;
    remove(tmp);
    return false;
}
