/* The allocator a model, a pool or a loader uses when the caller gives none. */
#include <stdlib.h>

#include "base/base.h"

void *nn__default_alloc(void *user, void *ptr, size_t osize, size_t nsize)
{
    (void)user;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}
