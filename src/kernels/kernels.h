/* The kernels (src/kernels/): the matrix products and the threads that split them. They
 * know nothing of networks. Never installed.
 * Shape letters: M, N, K the dimensions of a matrix product; B batch rows. */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H

#include "base/base.h"

/* ------------------------------------------------------------- GEMM */

/* The matrix-multiply kernels. NN__GEMM_AUTO picks the fastest the CPU supports; the others
 * force one path (tests compare each with NN__GEMM_REF). The FIXED kernels sum every product
 * in one fixed order (gemm_fixed.c), the same bits whatever their vector width: each is that
 * one order compiled for one ISA. */
typedef enum nn__gemm_kernel {
    NN__GEMM_AUTO = 0,
    NN__GEMM_REF,            /* plain loops: the oracle */
    NN__GEMM_PORTABLE,       /* blocked C, any CPU */
    NN__GEMM_AVX2,           /* AVX2 + FMA */
    NN__GEMM_AVX512,         /* AVX-512F */
    NN__GEMM_NEON,           /* aarch64's NEON, with its fused multiply-add */
    NN__GEMM_FIXED_PORTABLE, /* the fixed order in GNU C vectors of the build's target */
    NN__GEMM_FIXED_AVX2,     /* ... compiled for AVX2 */
    NN__GEMM_FIXED_AVX512,   /* ... compiled for AVX-512F */
    NN__GEMM_FIXED_NEON,     /* ... in NEON: the build's target on aarch64, so the portable
                                code, under the name of the fast kernel it stands beside */
    NN__GEMM_COUNT
} nn__gemm_kernel;

/* True if this build and this CPU can run kernel k (AUTO and REF always can). */
bool nn__gemm_available(nn__gemm_kernel k);
/* Why this build or CPU cannot run kernel k, as the end of a sentence ("this CPU has no
 * AVX-512F"); "" if it can. */
const char *nn__gemm_missing(nn__gemm_kernel k);
/* AUTO resolved to the fastest kernel this CPU runs (PORTABLE, AVX2, AVX512 or NEON); another
 * k as it is. */
nn__gemm_kernel nn__gemm_resolve(nn__gemm_kernel k);
/* Whether k is one of the FIXED kernels. */
bool nn__gemm_fixed(nn__gemm_kernel k);
/* The fixed-order kernel of the same ISA as k (PORTABLE, AVX2, AVX512 or NEON), or k itself
 * if it is one already. */
nn__gemm_kernel nn__gemm_fixed_of(nn__gemm_kernel k);

/* C = alpha·op(A)·op(B) + beta·C, row-major with row strides lda, ldb, ldc.
 * op(A) is (M, K): A is stored (M, K) if !ta, (K, M) if ta. op(B) is (K, N): B stored (K, N)
 * if !tb, (N, K) if tb. C is (M, N). beta == 0 means C is not read. M, N, K >= 0; with K == 0
 * C = beta·C. ws is the workspace the operands are packed into: nn__gemm_ws_floats() floats
 * of any alignment, owned by the calling thread for the call; it may be NULL when
 * nn__gemm_needs_ws says the product does not use it. Allocates nothing; never fails for
 * valid arguments. */
void nn__gemm(nn__gemm_kernel k, float *ws, bool ta, bool tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Whether nn__gemm sums K terms in one block, so that C takes alpha·(the whole sum) + beta·C
 * once: C = W, alpha = -lr, beta = 1 then rounds as W -= lr·(the sum) does. A longer K is
 * cut into blocks, and each block's alpha·sum is added to C in turn. */
bool nn__gemm_one_block(nn__gemm_kernel k, int K);
/* The size of nn__gemm's workspace (about 1.1 MiB: the packing buffers, with room to align
 * them; a product touches only the part its blocks need). */
size_t nn__gemm_ws_floats(void);
/* Whether nn__gemm reads and writes its workspace for this product. True for any block of
 * rows or columns of a product (as nn__gemm_mt cuts it) only if true for the whole. */
bool nn__gemm_needs_ws(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K);

/* The fixed-order product (gemm_fixed.c) for k, one of the FIXED kernels available here;
 * the arguments as nn__gemm's, K > 0. */
void nn__gemm_fixed_order(nn__gemm_kernel k, float *ws, bool ta, bool tb, int M, int N, int K,
                          float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                          float beta, float *C, size_t ldc);
/* Whether nn__gemm_fixed_order uses its workspace for this product. */
bool nn__gemm_fixed_needs_ws(bool ta, bool tb, int K);

/* The reference kernel behind NN__GEMM_REF. */
void nn__gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);

/* ----------------------------------------------------------- threads */

/* A model's threads (pool.c): the caller plus threads - 1 workers, started at create and
 * joined at destroy. NULL stands for one thread: everything then runs on the caller. */
typedef struct nn__pool nn__pool;
#define NN__MAX_THREADS 256 /* nn_model_opts.threads above this is NN_ERR_INVALID_ARG */
/* One part of a job: run as fn(ctx, part, parts, thread) for part = 0 .. parts - 1, where
 * thread (0 the caller, 1 .. threads - 1 the workers) says which thread runs it, so that a
 * part may use memory of that thread's own. */
typedef void nn__pool_fn(void *ctx, int part, int parts, int thread);

/* threads <= 1: *out = NULL, nothing started. Otherwise the pool's memory comes from alloc;
 * NN_ERR_NOMEM (nothing left behind) if it, a thread or a mutex cannot be had. */
nn_status nn__pool_create(nn_alloc_fn alloc, void *user, int threads, nn__pool **out);
/* Joins the workers and frees the pool; NULL is fine. */
void nn__pool_destroy(nn__pool *pool);
/* The pool's threads, the caller's included (1 for NULL). */
int nn__pool_threads(const nn__pool *pool);
/* Runs the parts of a job at once (at most one per thread; part 0 on the caller) and returns
 * when all are done. One caller at a time. */
void nn__pool_run(nn__pool *pool, int parts, nn__pool_fn *fn, void *ctx);
/* A loop over n independent items: fn(ctx, lo, hi) runs items lo .. hi - 1. The items are
 * cut into at most one part per thread, of whole `unit`s (the last part takes the ragged
 * end), and into fewer parts where a part would get under min_part items. With pool NULL, or
 * one part, fn(ctx, 0, n) runs on the caller. Each item is computed by the same code whatever
 * the cut, so the results are bit-identical to one thread's as long as fn's items are
 * independent: no sum across them.
 * A hand-off costs a fraction of a µs with the workers spinning, and the other core must then
 * fetch the data: a part is worth it from about NN__MIN_PART_FLOATS floats of a plain
 * element-wise pass (docs/PERFORMANCE.md). */
typedef void nn__range_fn(void *ctx, size_t lo, size_t hi);
#define NN__MIN_PART_FLOATS 8192
void nn__pool_for_split(nn__pool *pool, size_t n, size_t unit, size_t min_part,
                        nn__range_fn *fn, void *ctx);
/* Inline, so that a loop too small to split (every loop of a batch-1 step) is a direct call
 * of fn, which the compiler can inline in turn. */
static inline void nn__pool_for(nn__pool *pool, size_t n, size_t unit, size_t min_part,
                                nn__range_fn *fn, void *ctx)
{
    if (pool && n / 2 >= min_part) /* room for two parts */
        nn__pool_for_split(pool, n, unit, min_part, fn, ctx);
    else if (n > 0)
        fn(ctx, 0, n);
}
/* The min_part of nn__pool_for for items of `floats` floats each (rows, for example). */
static inline size_t nn__min_items(size_t floats)
{
    return floats >= NN__MIN_PART_FLOATS ? 1 : (NN__MIN_PART_FLOATS + floats - 1) / floats;
}
/* nn__gemm, with C cut into blocks of rows or of columns (never along K) computed by the
 * pool's threads: the result is bit-identical to nn__gemm's. Small products, and pool NULL,
 * run on the caller alone. ws holds one nn__gemm workspace per thread of the pool, one after
 * the other (thread t's at ws + t·nn__gemm_ws_floats()), or is NULL if the product does not
 * need one. */
void nn__gemm_mt(nn__pool *pool, float *ws, nn__gemm_kernel k, bool ta, bool tb, int M, int N,
                 int K, float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);


#endif /* NN_KERNELS_H */
