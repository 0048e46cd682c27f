/* The bottom layer (src/base/): status messages, the random generator, the matrix helpers
 * every other layer checks its arguments with, and the default allocator. Never installed.
 * Cross-file internal symbols carry the nn__ prefix; everything else is static. */
#ifndef NN_BASE_H
#define NN_BASE_H

#include "nn.h"

#if defined(__GNUC__) || defined(__clang__)
#define NN__PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define NN__PRINTF(fmt, first)
#endif

/* Writes a failure's detail, printf-style, into msg (NN_ERRMSG_SIZE bytes; NULL when no one
 * wants it) and returns status, so that a check reads
 *     return nn__fail(m->errmsg, NN_ERR_SHAPE, "nn_predict: X has %d columns; ...", ...);
 * Messages start with the public function's name and give the values that were wrong. */
nn_status nn__fail(char *msg, nn_status status, const char *fmt, ...) NN__PRINTF(3, 4);
/* Fills *err (may be NULL) with status and, unless it is NN_OK, message. */
void nn__error_set(nn_error *err, nn_status status, const char *message);

bool nn__mat_ok(const nn_mat *m); /* non-NULL, rows > 0, cols > 0, data non-NULL */
size_t nn__mat_size(const nn_mat *m);
bool nn__mat_overlap(const nn_mat *a, const nn_mat *b); /* their storage shares a byte */
/* Whether x[0..n) holds an infinity or a NaN; nn__find_nonfinite also says where the first
 * is, in *at. */
bool nn__any_nonfinite(const float *x, size_t n);
bool nn__find_nonfinite(const float *x, size_t n, size_t *at);
int nn__argmax(const float *x, int n); /* first index of the largest of x[0..n) */
/* The class index y holds, or -1 if it is not an integer in 0 .. K-1 (NaN included). */
int nn__class_index(float y, int K);

/* Fisher–Yates with the seeded generator, from the last item down: item i is exchanged with
 * item j, j drawn uniformly from 0 .. i as (next · (i + 1)) >> 32, so every permutation is
 * equally likely and one seed gives one order on every platform. nn__shuffle_swaps leaves
 * the exchange to swap(ctx, i, j) (rows of two matrices at once, say); nn__shuffle permutes
 * order[0..n). */
void nn__shuffle_swaps(int n, nn_rng *rng, void (*swap)(void *ctx, int i, int j), void *ctx);
void nn__shuffle(int *order, int n, nn_rng *rng);

/* The allocator used when the caller gives none: the C library's realloc and free. */
void *nn__default_alloc(void *user, void *ptr, size_t osize, size_t nsize);
/* The allocator opts asks for (opts may be NULL), and in *user the pointer it is passed:
 * opts->alloc and opts->alloc_user, or nn__default_alloc and NULL. */
nn_alloc_fn nn__opts_alloc(const nn_model_opts *opts, void **user);

#endif /* NN_BASE_H */
