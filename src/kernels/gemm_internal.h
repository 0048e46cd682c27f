/* What the GEMM's files (gemm.c, gemm_rows.c, gemm_x86.c, gemm_neon.c) and its threaded
 * split (pool.c) share: the tile, the constants the split relies on, and the cross-file
 * kernels. Private to src/kernels/.
 *
 * Shape letters: M, N, K the product's dimensions (C is (M, N), op(A) is (M, K), op(B) is
 * (K, N)); MR, NR the tile of C a micro-kernel keeps in registers; m a few rows of C. */
#ifndef NN_KERNELS_GEMM_INTERNAL_H
#define NN_KERNELS_GEMM_INTERNAL_H

#include "kernels/kernels.h"

/* The SIMD kernels use GNU C's target attribute, which gcc and clang both have. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NN_GEMM_X86 1
#else
#define NN_GEMM_X86 0
#endif
/* NEON is part of every aarch64 CPU (ARMv8-A), so its kernel is compiled for the build's
 * target and chosen at compile time, not at run time. */
#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__GNUC__)
#define NN_GEMM_NEON 1
#else
#define NN_GEMM_NEON 0
#endif

/* Forced inlining, for the blocked driver (instantiated inside each ISA's entry point, so its
 * kernel calls are direct) and for helpers whose constant arguments (the panel width) must
 * reach their loops. */
#if defined(__GNUC__)
#define NN_GEMM_INLINE static inline __attribute__((always_inline))
#else
#define NN_GEMM_INLINE static inline
#endif

/* ------------------------------------------------------------- the tile and the split */

/* MR is shared by every micro-kernel, so one A packer serves them all; the ISAs differ in NR
 * (one or two vector widths), each a divisor of NR_MAX. 6 rows × 2 vectors = 12 accumulators:
 * enough independent FMA chains to cover the FMA latency on two pipes, and with the 2 B
 * vectors and the broadcast A value they fit the 16 vector registers of AVX2. */
enum { NN__GEMM_MR = 6, NN__GEMM_NR_MAX = 32 };

/* How nn__gemm_mt (pool.c) cuts C: into units of ROW_UNIT rows (a remainder joins the last
 * unit) or of COL_UNIT columns (the last unit ragged). Cutting along tile edges leaves every
 * tile, ragged ones included, where the whole product has it, so each element is computed by
 * the same instructions: ROW_UNIT must be a multiple of MR, COL_UNIT of NR_MAX, and every NR
 * a divisor of NR_MAX. pool.c and the GEMM's files check this where they use them. */
enum { NN__SPLIT_ROW_UNIT = 6, NN__SPLIT_COL_UNIT = 32 };

/* Below this many multiply-adds per part nn__gemm_mt does not split a product (pool.c says
 * why); gemm.c relies on it to keep every part of a split product out of the plain loops. */
enum { NN__SPLIT_MIN_PART_MACS = 65536 };

/* Products of fewer than SMALL_MACS multiply-adds take plain loops; products of at most
 * FEW_ROWS rows the few-rows path (gemm.c, "small products, few rows", says why). */
enum { NN__GEMM_SMALL_MACS = 512, NN__GEMM_FEW_ROWS = 4 };

/* ------------------------------------------------------------- cross-file kernels */

/* C = alpha·op(A)·op(B) + beta·C in plain loops (gemm_rows.c), as nn__gemm with strides. */
void nn__gemm_small(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                    size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
/* The few-rows path in portable C, m <= FEW_ROWS (gemm_rows.c). */
void nn__gemm_rows_portable(bool ta, bool tb, int m, int N, int K, float alpha, const float *A,
                            size_t lda, const float *B, size_t ldb, float beta, float *C,
                            size_t ldc);

#if NN_GEMM_X86
/* The packed, blocked product with the AVX2 or the AVX-512 micro-kernel (gemm_x86.c), for a
 * CPU that has it. pa (PA_FLOATS) and pb (PB_FLOATS) are the packing buffers, 64-byte
 * aligned. */
void nn__gemm_avx2(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc,
                   float *pa, float *pb);
void nn__gemm_avx512(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc,
                     float *pa, float *pb);
/* The few-rows path with AVX2 + FMA, m <= FEW_ROWS (gemm_x86.c). xbuf (PA_FLOATS) holds a
 * copy of op(A)'s rows when both operands are transposed. */
void nn__gemm_rows_avx2(bool ta, bool tb, int m, int N, int K, float alpha, const float *A,
                        size_t lda, const float *B, size_t ldb, float beta, float *C,
                        size_t ldc, float *xbuf);
#endif

#if NN_GEMM_NEON
/* The packed, blocked product with the NEON micro-kernel (gemm_neon.c); pa and pb as for
 * nn__gemm_avx2. */
void nn__gemm_neon(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc,
                   float *pa, float *pb);
#endif

#endif /* NN_KERNELS_GEMM_INTERNAL_H */
