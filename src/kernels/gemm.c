/* The fast single-precision GEMM behind nn__gemm: the dispatch between its paths, and the
 * packed path's portable C micro-kernel. The blocked driver and its packing are in
 * gemm_blocked.h, the x86 micro-kernels (AVX2+FMA, AVX-512F, chosen at run time) in
 * gemm_x86.c, the aarch64 one (NEON, chosen at compile time) in gemm_neon.c, the unpacked paths for small products and few rows in gemm_rows.c and
 * gemm_x86.c.
 *
 * Shape letters as in gemm_blocked.h. */
#include <stdint.h>
#include <string.h>

#include "kernels/gemm_blocked.h"

/* ------------------------------------------------------------- portable C */

enum { NR_PORTABLE = 8 };

#if defined(__GNUC__)
/* GNU C vectors of 4 floats, which gcc and clang map to SSE, NEON or whatever the target has
 * (or to scalars): 12 accumulators for a (6, 8) tile, as in the AVX2 kernel at half width. */
typedef float gemm_v4 __attribute__((vector_size(16)));

static gemm_v4 load_v4(const float *p)
{
    gemm_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* T (MR, 8) = pa (kc, MR) · pb (kc, 8); out of line for the reason given at the x86 tile
 * (gemm_tile.h). */
__attribute__((noinline)) static void tile_portable(int kc, const float *restrict pa,
                                                    const float *restrict pb, float *restrict T)
{
    gemm_v4 c00 = {0}, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    gemm_v4 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int p = 0; p < kc; p++, pa += MR, pb += NR_PORTABLE) {
        gemm_v4 b0 = load_v4(pb), b1 = load_v4(pb + 4);
#define NN_ROW(r) c##r##0 += pa[r] * b0, c##r##1 += pa[r] * b1;
        NN_ROW(0) NN_ROW(1) NN_ROW(2) NN_ROW(3) NN_ROW(4) NN_ROW(5)
#undef NN_ROW
    }
    gemm_v4 c[MR * 2] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    memcpy(T, c, sizeof c);
}

static void kern_portable(int kc, const float *restrict pa, const float *restrict pb,
                          float *restrict C, size_t ldc, float alpha, float beta, int m, int n)
{
    float T[MR * NR_PORTABLE];
    tile_portable(kc, pa, pb, T);
    store_tile(T, NR_PORTABLE, C, ldc, m, n, alpha, beta);
}
#else
static void kern_portable(int kc, const float *restrict pa, const float *restrict pb,
                          float *restrict C, size_t ldc, float alpha, float beta, int m, int n)
{
    float T[MR * NR_PORTABLE] = {0};
    for (int p = 0; p < kc; p++, pa += MR, pb += NR_PORTABLE)
        for (int r = 0; r < MR; r++)
            for (int c = 0; c < NR_PORTABLE; c++)
                T[r * NR_PORTABLE + c] += pa[r] * pb[c];
    store_tile(T, NR_PORTABLE, C, ldc, m, n, alpha, beta);
}
#endif

static void pack_portable(const float *X, size_t ps, size_t ls, int width, int kc, float *dst,
                          int w)
{
    if (w == MR)
        pack_block(X, ps, ls, width, kc, dst, MR);
    else
        pack_block(X, ps, ls, width, kc, dst, NR_PORTABLE);
}

static const gemm_arch arch_portable = {NR_PORTABLE, kern_portable, pack_portable};

static void gemm_portable(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                          size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc,
                          float *pa, float *pb)
{
    gemm_blocked(&arch_portable, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}

/* ------------------------------------------------------------- small products, few rows */

/* Packing costs a fixed ~100 ns and computes whole 6-row tiles, which dominates two kinds of
 * product: tiny ones (a 2-4-1 network trained one sample at a time: 1×4×2, 4×2×1, ...) and
 * ones with a few rows (batch-1 inference: 1×256×784, where packing copies all of W to use
 * each element once). Those take the unpacked paths (gemm_rows.c, gemm_x86.c).
 *
 * Which path computes an element depends on the shape alone, and is unchanged when
 * nn__gemm_mt (pool.c) cuts C at multiples of ROW_UNIT rows or of COL_UNIT columns, so a
 * split product has the same bits as the whole one:
 * - Products of fewer than SMALL_MACS multiply-adds use plain loops. nn__gemm_mt splits
 *   only products of at least 2 × MIN_PART_MACS multiply-adds, into parts of MIN_PART_MACS
 *   or more each on average; a part can be thinner than half that average only when every
 *   part is a single unit (ROW_UNIT rows or COL_UNIT columns), and then the product had at
 *   least MIN_PART_MACS multiply-adds per unit, so even a last unit of one column keeps
 *   M·K ≥ MIN_PART_MACS / COL_UNIT (row parts hold at least ROW_UNIT rows). The first
 *   assertion below makes that at least SMALL_MACS: no part of a split product is ever
 *   below it.
 * - A product of at most FEW_ROWS rows takes the few-rows path, whose results for a row do
 *   not depend on the other rows, nor for a column on the other columns. A product of more
 *   rows is cut into the packed path's MR-row panels; a ragged last panel takes the packed
 *   path too, or the few-rows path, depending on its row count alone (see nn__gemm).
 *   nn__gemm_mt cuts rows at multiples of ROW_UNIT, a multiple of MR, into parts of at
 *   least ROW_UNIT > FEW_ROWS rows, so each part has the whole product's panels, and its
 *   last part the same ragged panel.
 * The few-rows kernels: with op(B) transposed (B's rows contiguous along K, as W in a dense
 * layer's forward), dot products along K, one vector accumulator per element, several columns
 * at once so each vector of op(A) is loaded once per group; otherwise rows of op(B) times
 * broadcast elements of op(A): one multiply-add chain along K per element, as in the packed
 * kernel. */
_Static_assert((int)(NN__SPLIT_MIN_PART_MACS / NN__SPLIT_COL_UNIT) >= (int)SMALL_MACS,
               "a part of a split product must not fall into the plain loops");
_Static_assert(NN__SPLIT_ROW_UNIT % MR == 0 && (int)NN__SPLIT_ROW_UNIT > (int)FEW_ROWS,
               "row parts must hold whole panels and never take the few-rows path");
_Static_assert(NN__SPLIT_COL_UNIT % NR_MAX == 0 && (int)NR_MAX % (int)NR_PORTABLE == 0,
               "column parts must hold whole tiles of every kernel");

/* ------------------------------------------------------------- dispatch */

bool nn__gemm_fixed(nn__gemm_kernel k)
{
    return k >= NN__GEMM_FIXED_PORTABLE && k <= NN__GEMM_FIXED_NEON;
}

nn__gemm_kernel nn__gemm_fixed_of(nn__gemm_kernel k)
{
    switch (k) {
    case NN__GEMM_AVX2:
        return NN__GEMM_FIXED_AVX2;
    case NN__GEMM_AVX512:
        return NN__GEMM_FIXED_AVX512;
    case NN__GEMM_NEON:
        return NN__GEMM_FIXED_NEON;
    case NN__GEMM_PORTABLE:
        return NN__GEMM_FIXED_PORTABLE;
    default:
        return k;
    }
}

nn__gemm_kernel nn__gemm_resolve(nn__gemm_kernel k)
{
    if (k != NN__GEMM_AUTO)
        return k;
    return nn__gemm_available(NN__GEMM_AVX512) ? NN__GEMM_AVX512
           : nn__gemm_available(NN__GEMM_AVX2) ? NN__GEMM_AVX2
           : nn__gemm_available(NN__GEMM_NEON) ? NN__GEMM_NEON
                                               : NN__GEMM_PORTABLE;
}

#if NN_GEMM_X86
/* Whether the CPU has AVX-512F; the test build that plays a CPU without it
 * (tests/CMakeLists.txt) says no. */
static bool cpu_avx512f(void)
{
#ifdef NN_GEMM_HIDE_AVX512
    return false;
#else
    return __builtin_cpu_supports("avx512f");
#endif
}
#endif

bool nn__gemm_available(nn__gemm_kernel k)
{
    switch (k) {
    case NN__GEMM_FIXED_PORTABLE:
    case NN__GEMM_FIXED_AVX2:
    case NN__GEMM_FIXED_AVX512:
    case NN__GEMM_FIXED_NEON: /* the ISA of the fast kernel of the same name */
        return nn__gemm_available(
            (nn__gemm_kernel)(k - NN__GEMM_FIXED_PORTABLE + NN__GEMM_PORTABLE));
    case NN__GEMM_AUTO:
    case NN__GEMM_REF:
    case NN__GEMM_PORTABLE:
        return true;
    case NN__GEMM_NEON:
        return NN_GEMM_NEON;
#if NN_GEMM_X86
    case NN__GEMM_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NN__GEMM_AVX512:
#ifdef NN_GEMM_EMULATE_AVX512
        return nn__gemm_available(NN__GEMM_AVX2);
#else
        return cpu_avx512f() && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
#endif
    default:
        return false;
    }
}

const char *nn__gemm_missing(nn__gemm_kernel k)
{
    if (nn__gemm_available(k))
        return "";
    if (k == NN__GEMM_NEON || k == NN__GEMM_FIXED_NEON)
        return "this build is not for aarch64, whose NEON instructions it needs";
#if NN_GEMM_X86
    bool avx2 = __builtin_cpu_supports("avx2"), fma = __builtin_cpu_supports("fma");
    if ((k == NN__GEMM_AVX512 || k == NN__GEMM_FIXED_AVX512) && !cpu_avx512f())
        return "this CPU has no AVX-512F";
    return !avx2 && !fma ? "this CPU has no AVX2 and no FMA"
           : !avx2       ? "this CPU has no AVX2"
                         : "this CPU has no FMA";
#else
    return "this build is not for x86-64, whose AVX2, FMA and AVX-512F instructions it needs";
#endif
}

/* C = beta·C, for K == 0 (nothing to multiply); beta == 0 does not read C. */
static void scale_c(int M, int N, float beta, float *C, size_t ldc)
{
    for (int i = 0; i < M; i++, C += ldc)
        for (int j = 0; j < N; j++)
            C[j] = beta == 0.0f ? 0.0f : beta * C[j];
}

/* The blocked path for kernel k (resolved: not AUTO, not REF). */
static void gemm_packed(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K, float alpha,
                        const float *A, size_t lda, const float *B, size_t ldb, float beta,
                        float *C, size_t ldc, float *pa, float *pb)
{
#if NN_GEMM_X86
    if (k == NN__GEMM_AVX512) {
        nn__gemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
        return;
    }
    if (k == NN__GEMM_AVX2) {
        nn__gemm_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
        return;
    }
#endif
#if NN_GEMM_NEON
    if (k == NN__GEMM_NEON) {
        nn__gemm_neon(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
        return;
    }
#endif
    (void)k; /* unused where the build has no SIMD kernel (s390x, ...) */
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}

/* The few-rows path for kernel k (resolved), m <= FEW_ROWS. */
static void gemm_rows(nn__gemm_kernel k, bool ta, bool tb, int m, int N, int K, float alpha,
                      const float *A, size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc, float *xbuf)
{
#if NN_GEMM_X86
    if (k == NN__GEMM_AVX512 || k == NN__GEMM_AVX2) {
        nn__gemm_rows_avx2(ta, tb, m, N, K, alpha, A, lda, B, ldb, beta, C, ldc, xbuf);
        return;
    }
#endif
    /* every other kernel (NEON too) takes the portable few-rows path, which reads op(A) in
     * place: k and xbuf are unused there */
    (void)k, (void)xbuf;
    nn__gemm_rows_portable(ta, tb, m, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

bool nn__gemm_one_block(nn__gemm_kernel k, int K)
{
    return nn__gemm_fixed(k) || K <= KC_MAX; /* the fixed order adds alpha·sum to C once */
}

size_t nn__gemm_ws_floats(void)
{
    return PA_FLOATS + PB_FLOATS + 16; /* 16: room to align the start to 64 bytes */
}

bool nn__gemm_needs_ws(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return false;
    if (nn__gemm_fixed(k))
        return nn__gemm_fixed_needs_ws(ta, tb, K);
    if ((long long)M * N * K < SMALL_MACS)
        return false;
    return M > FEW_ROWS || (ta && tb); /* packing, or the few-rows path's copy of op(A) */
}

/* A kernel this CPU cannot run falls back to AUTO (a FIXED one to the fixed order in portable
 * C): nn__gemm has no way to fail. The path is chosen from the shape alone (see "small
 * products, few rows"); the fixed order has one path for every shape. */
void nn__gemm(nn__gemm_kernel k, float *ws, bool ta, bool tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (k == NN__GEMM_REF) {
        nn__gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (K <= 0) {
        scale_c(M, N, beta, C, (size_t)ldc);
        return;
    }
    float *pa = ws ? (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63) : NULL;
    if (nn__gemm_fixed(k)) {
        nn__gemm_fixed_order(nn__gemm_available(k) ? k : NN__GEMM_FIXED_PORTABLE, pa, ta, tb,
                             M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C,
                             (size_t)ldc);
        return;
    }
    if ((long long)M * N * K < SMALL_MACS) {
        nn__gemm_small(ta, tb, M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C,
                       (size_t)ldc);
        return;
    }
    k = nn__gemm_resolve(nn__gemm_available(k) ? k : NN__GEMM_AUTO);
    float *pb = pa ? pa + PA_FLOATS : NULL;
    /* A ragged last panel of r = M % MR rows: packed with the others and computed as a whole
     * panel if r > MR / 2 (2 idle rows at most), which is faster than the few-rows path;
     * otherwise in the few-rows path, which reads all of op(B) a second time, unpacked, and is
     * faster for so few rows (see docs/PERFORMANCE.md). */
    int r = M % MR, few = M <= FEW_ROWS ? M : r > 0 && r <= MR / 2 ? r : 0, packed = M - few;
    if (packed > 0)
        gemm_packed(k, ta, tb, packed, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C,
                    (size_t)ldc, pa, pb);
    if (few > 0)
        gemm_rows(k, ta, tb, few, N, K, alpha, A + (ta ? (size_t)packed : (size_t)packed * lda),
                  (size_t)lda, B, (size_t)ldb, beta, C + (size_t)packed * ldc, (size_t)ldc, pa);
}
