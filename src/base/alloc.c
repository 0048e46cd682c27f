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

nn_alloc_fn nn__opts_alloc(const nn_model_opts *opts, void **user)
{
    bool own = opts && opts->alloc;
    *user = own ? opts->alloc_user : NULL;
    return own ? opts->alloc : nn__default_alloc;
}
