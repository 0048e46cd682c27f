/* Helpers shared by the model and training tests: cmocka includes, a deterministic data
 * generator and an allocator that counts and can fail on demand. */
#ifndef NN_TEST_UTIL_H
#define NN_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn.h"

/* Fills m with uniform values in [lo, hi) drawn from a generator seeded with seed. */
static inline void fill_uniform(nn_mat *m, float lo, float hi, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t i = 0; i < (size_t)m->rows * m->cols; i++)
        m->data[i] = lo + (hi - lo) * nn_rng_uniform(&rng);
}

/* An allocator that counts live blocks and bytes, and fails the fail_at-th call that asks
 * for memory (1-based; 0 never fails), and with forever every later one too. */
typedef struct counting_alloc {
    long calls;      /* calls that asked for memory (nsize > 0) */
    long fail_at;
    bool forever;
    long live_blocks;
    long long live_bytes;
} counting_alloc;

static inline void *counting_alloc_fn(void *user, void *ptr, size_t osize, size_t nsize)
{
    counting_alloc *c = user;
    if (nsize == 0) {
        if (ptr) {
            c->live_blocks--;
            c->live_bytes -= (long long)osize;
        }
        free(ptr);
        return NULL;
    }
    if (++c->calls == c->fail_at || (c->forever && c->fail_at > 0 && c->calls > c->fail_at))
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p) {
        if (!ptr)
            c->live_blocks++;
        c->live_bytes += (long long)nsize - (long long)(ptr ? osize : 0);
    }
    return p;
}

#endif /* NN_TEST_UTIL_H */
