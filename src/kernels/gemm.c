/* The fast single-precision GEMM behind nn__gemm: packed, cache-blocked, with SIMD
 * micro-kernels chosen at run time (AVX-512F, AVX2+FMA, or portable C).
 *
 * Shape letters: M, N, K the product's dimensions (C is (M, N), op(A) is (M, K), op(B) is
 * (K, N)); MR, NR the tile of C a micro-kernel keeps in registers; mc, nc, kc the cache
 * blocks of M, N and K; mb, nb, kb one block's actual size (smaller at the far edge).
 *
 * Design (Goto / BLIS): K is cut into blocks of kc. For each K block, blocks of op(A) (mc, kc)
 * and of op(B) (kc, nc) are copied ("packed") into the caller's workspace in the exact order the
 * micro-kernel reads them: A as panels of MR rows stored (kc, MR), B as panels of NR columns
 * stored (kc, NR). Packing absorbs the four transpose cases, so one micro-kernel per ISA
 * serves them all at the same speed, and it zero-pads ragged edges, so the micro-kernel
 * always computes a whole MR×NR tile and only its store is cut to size.
 *
 * Packing treats op(A) and op(B) alike: a block is `lanes` (A's rows, B's columns) by K
 * steps, and either the lanes are contiguous in memory (A transposed, B not: a copy per step)
 * or the steps are (A as is, B transposed: an 8×8 transpose per 8 lanes × 8 steps). */
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

/* The SIMD kernels use GNU C's target attribute, which gcc and clang both have. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NN_GEMM_X86 1
#include <immintrin.h>
#else
#define NN_GEMM_X86 0
#endif

/* The AVX-512 kernel's target. A test build (NN_GEMM_EMULATE_AVX512: tests/CMakeLists.txt)
 * compiles it for AVX2 instead, with the few AVX-512 intrinsics it uses emulated on pairs of
 * AVX2 vectors (tests/avx512_emulated.h), so that it runs, and is tested, on CPUs without
 * AVX-512 as well. */
#if NN_GEMM_X86 && defined(NN_GEMM_EMULATE_AVX512)
#include "avx512_emulated.h"
#define NN_GEMM_AVX512_TARGET "avx2,fma"
#else
#define NN_GEMM_AVX512_TARGET "avx512f,avx2,fma"
#endif

/* MR is shared by every micro-kernel, so one A packer serves them all; the ISAs differ in NR
 * (one or two vector widths). 6 rows × 2 vectors = 12 accumulators: enough independent FMA
 * chains to cover the FMA latency on two pipes, and with the 2 B vectors and the broadcast A
 * value they fit the 16 vector registers of AVX2. */
enum { MR = 6, NR_MAX = 32 };

/* Forced inlining, for the blocked driver (instantiated inside each ISA's entry point, so its
 * kernel calls are direct) and for helpers whose constant arguments (the panel width) must
 * reach their loops. */
#if defined(__GNUC__)
#define NN_GEMM_INLINE static inline __attribute__((always_inline))
#else
#define NN_GEMM_INLINE static inline
#endif

/* Cache blocks (for K ≥ 256; a shorter K gets more rows and columns, see gemm_blocked). One
 * B panel, kc×NR (16 KiB at NR 16), stays in L1 while the A block, mc×kc (96 KiB), streams
 * past it from L2. The B block is NC_L2 columns (128 KiB) when op(A) is one block of rows:
 * every operand is then packed once whatever the blocks, and a B block that small is still
 * in L2 when the macro-kernel reads it. With several blocks of rows, op(A) is packed again
 * for every B block, so B blocks go up to NC_MAX columns (1 MiB, in L3): at 1024³ that packs
 * op(A) once instead of 8 times, 9% faster (medians of 7 interleaved runs on Zen 3, 32 KiB
 * L1d, 512 KiB L2, where mc 48 with nc 176 measured the same as these). */
enum { KC_MAX = 256, MC_MAX = 96, NC_L2 = 128, NC_MAX = 1024 };
_Static_assert(MC_MAX % MR == 0 && NC_L2 % NR_MAX == 0 && NC_MAX % NR_MAX == 0,
               "blocks must hold whole panels");
/* The packing buffers' sizes in floats, each a whole number of 64-byte lines; pack_block_avx2
 * writes up to 8 floats past a block. */
enum { PA_FLOATS = (MC_MAX * KC_MAX + 8 + 15) / 16 * 16, PB_FLOATS = KC_MAX * NC_MAX };

/* Computes the (MR, nr) tile pa·pb from panels pa (kc, MR) and pb (kc, nr), and stores its top
 * left (m, n) corner as C = alpha·tile + beta·C (beta == 0: C is not read). C is (m, n). */
typedef void gemm_kern(int kc, const float *pa, const float *pb, float *C, size_t ldc,
                       float alpha, float beta, int m, int n);
/* Packs a block of `width` lanes by kc steps of a matrix X into panels of w lanes, each stored
 * (kc, w), lanes past width zeroed; element (step p, lane l) is X[p·ps + l·ls]. A block of
 * op(A) is rows as lanes and w = MR; a block of op(B) is columns as lanes and w = NR. */
typedef void gemm_pack(const float *X, size_t ps, size_t ls, int width, int kc, float *dst,
                       int w);

/* One ISA's micro-kernel, its width NR and the packer that lays out its operands. */
typedef struct gemm_arch {
    int nr;
    gemm_kern *kern;
    gemm_pack *pack;
} gemm_arch;

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

/* Block size for a dimension n: the fewest blocks of at most max, made as equal as possible
 * and rounded up to a multiple of align, so no block is a thin remainder (K = 784 gives four
 * K blocks of 196, not three of 256 and one of 16). max must be a multiple of align. */
static int block_size(int n, int max, int align)
{
    int blocks = (n + max - 1) / max;
    int size = (n + blocks - 1) / blocks;
    return min_int((size + align - 1) / align * align, max);
}

/* ------------------------------------------------------------- packing */

/* Packs one panel (kc, W) of `lanes` ≤ W lanes, as gemm_pack: the general case, for ragged
 * edges and whatever the fast paths leave. The loop order follows X's contiguous dimension. */
static void pack_panel(const float *X, size_t ps, size_t ls, int lanes, int kc,
                       float *restrict dst, int W)
{
    if (lanes < W)
        memset(dst, 0, (size_t)kc * W * sizeof *dst);
    if (ps == 1) {
        for (int l = 0; l < lanes; l++)
            for (int p = 0; p < kc; p++)
                dst[p * W + l] = X[l * ls + p];
    } else {
        for (int p = 0; p < kc; p++)
            for (int l = 0; l < lanes; l++)
                dst[p * W + l] = X[p * ps + l * ls];
    }
}

/* gemm_pack for a compile-time W. When lanes are contiguous (ls == 1: op(A) stored transposed,
 * op(B) not) every step of a full panel is a copy of W floats; steps go outermost so X is read
 * row after row, not down columns, which at power-of-two strides thrashes the L1 sets. */
NN_GEMM_INLINE void pack_block(const float *X, size_t ps, size_t ls, int width, int kc,
                               float *restrict dst, const int W)
{
    int full = ls == 1 ? width / W * W : 0;
    for (int p = 0; p < kc && full > 0; p++)
        for (int l0 = 0; l0 < full; l0 += W)
            memcpy(dst + (size_t)l0 * kc + (size_t)p * W, X + p * ps + l0, W * sizeof *dst);
    for (int l0 = full; l0 < width; l0 += W)
        pack_panel(X + l0 * ls, ps, ls, min_int(W, width - l0), kc, dst + (size_t)l0 * kc, W);
}

/* ------------------------------------------------------------- blocked driver */

/* Stores the (m, n) corner of a tile T (MR, ldt): C = alpha·T + beta·C, not reading C if
 * beta == 0. The micro-kernels' path for ragged edges; full tiles use vector stores. */
static void store_tile(const float *T, int ldt, float *C, size_t ldc, int m, int n,
                       float alpha, float beta)
{
    for (int i = 0; i < m; i++, C += ldc, T += ldt) {
        if (beta == 0.0f)
            for (int j = 0; j < n; j++)
                C[j] = alpha * T[j];
        else
            for (int j = 0; j < n; j++)
                C[j] = alpha * T[j] + beta * C[j];
    }
}

/* Packs op(A)(i0:i0+mb, k0:k0+kc), rows as lanes. op(A)(i, p) is A[i·lda + p], or A[p·lda + i]
 * if ta. */
static void pack_a(const gemm_arch *arch, bool ta, const float *A, size_t lda, int i0, int k0,
                   int mb, int kc, float *pa)
{
    if (ta)
        arch->pack(A + (size_t)k0 * lda + i0, lda, 1, mb, kc, pa, MR);
    else
        arch->pack(A + (size_t)i0 * lda + k0, 1, lda, mb, kc, pa, MR);
}

/* Packs op(B)(k0:k0+kc, j0:j0+nb), columns as lanes. op(B)(p, j) is B[p·ldb + j], or
 * B[j·ldb + p] if tb. */
static void pack_b(const gemm_arch *arch, bool tb, const float *B, size_t ldb, int k0, int j0,
                   int kc, int nb, float *pb)
{
    if (tb)
        arch->pack(B + (size_t)j0 * ldb + k0, 1, ldb, nb, kc, pb, arch->nr);
    else
        arch->pack(B + (size_t)k0 * ldb + j0, ldb, 1, nb, kc, pb, arch->nr);
}

/* C(mb, nb) += the product of a packed A block (mb, kc) and packed B block (kc, nb), tile by
 * tile. Column panels outermost, so each B panel stays in L1 while A panels stream past. */
static void macro_kernel(const gemm_arch *arch, int mb, int nb, int kc, const float *pa,
                         const float *pb, float *C, size_t ldc, float alpha, float beta)
{
    for (int jr = 0; jr < nb; jr += arch->nr) {
        const float *b = pb + (size_t)jr * kc;
        int n = min_int(arch->nr, nb - jr);
        for (int ir = 0; ir < mb; ir += MR)
            arch->kern(kc, pa + (size_t)ir * kc, b, C + (size_t)ir * ldc + jr, ldc, alpha, beta,
                       min_int(MR, mb - ir), n);
    }
}

/* The loop nest around the macro-kernel for one ISA. pa (PA_FLOATS) and pb (PB_FLOATS) are
 * the packing buffers, 64-byte aligned. Per K block it packs A once per row block
 * and B once per column block in one of the two loop orders, whichever copies fewer floats:
 * with few rows (the MLP's batch of 64) all of op(A) is one block, so B-inner packs each
 * operand exactly once; with few columns, A-inner does. */
NN_GEMM_INLINE void gemm_blocked(const gemm_arch *arch, bool ta, bool tb, int M, int N, int K,
                                float alpha, const float *A, size_t lda, const float *B,
                                size_t ldb, float beta, float *C, size_t ldc, float *pa,
                                float *pb)
{
    int kc = block_size(K, KC_MAX, 1), nr = arch->nr;
    /* A short K leaves room in the buffers for more rows and columns: fewer, larger blocks, so
     * each operand is packed fewer times (the MLP's dW products have K = 64). */
    int mc = block_size(M, MC_MAX * KC_MAX / kc / MR * MR, MR);
    int nc_max = M <= mc ? NC_L2 : NC_MAX; /* see NC_L2 */
    int nc = block_size(N, nc_max * KC_MAX / kc / nr * nr, nr);
    double row_blocks = (M + mc - 1) / mc, col_blocks = (N + nc - 1) / nc;
    bool b_inner = M + row_blocks * N <= N + col_blocks * M;
    for (int k0 = 0; k0 < K; k0 += kc) {
        int kb = min_int(kc, K - k0);
        float bk = k0 == 0 ? beta : 1.0f; /* later K blocks add to what the first stored */
        if (b_inner) {
            for (int i0 = 0; i0 < M; i0 += mc) {
                int mb = min_int(mc, M - i0);
                pack_a(arch, ta, A, lda, i0, k0, mb, kb, pa);
                for (int j0 = 0; j0 < N; j0 += nc) {
                    int nb = min_int(nc, N - j0);
                    pack_b(arch, tb, B, ldb, k0, j0, kb, nb, pb);
                    macro_kernel(arch, mb, nb, kb, pa, pb, C + (size_t)i0 * ldc + j0, ldc, alpha,
                                 bk);
                }
            }
        } else {
            for (int j0 = 0; j0 < N; j0 += nc) {
                int nb = min_int(nc, N - j0);
                pack_b(arch, tb, B, ldb, k0, j0, kb, nb, pb);
                for (int i0 = 0; i0 < M; i0 += mc) {
                    int mb = min_int(mc, M - i0);
                    pack_a(arch, ta, A, lda, i0, k0, mb, kb, pa);
                    macro_kernel(arch, mb, nb, kb, pa, pb, C + (size_t)i0 * ldc + j0, ldc, alpha,
                                 bk);
                }
            }
        }
    }
}

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

/* T (MR, 8) = pa (kc, MR) · pb (kc, 8); out of line for the reason given at tile_avx2. */
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
 * each element once). Those take the unpacked paths below.
 *
 * Which path computes an element depends on the shape alone, and is unchanged when
 * nn__gemm_mt (pool.c) cuts C at multiples of 6 rows or of 32 columns, so a split product
 * has the same bits as the whole one:
 * - Products of fewer than SMALL_MACS multiply-adds use plain loops. nn__gemm_mt splits
 *   only products of at least 2 × 16384 multiply-adds, into parts of 16384 or more each on
 *   average; a part can be thinner than half that average only when every part is a single
 *   unit (6 rows or 32 columns), and then the product had at least 16384 multiply-adds per
 *   unit, so even a last unit of one column keeps M·K ≥ 16384 / 32 = 512 (row parts hold at
 *   least 6 rows). No part of a split product is ever below SMALL_MACS.
 * - A product of at most FEW_ROWS rows takes the few-rows path, whose results for a row do
 *   not depend on the other rows, nor for a column on the other columns. A product of more
 *   rows is cut into the packed path's 6-row panels; a ragged last panel takes the packed
 *   path too, or the few-rows path, depending on its row count alone (see nn__gemm).
 *   nn__gemm_mt cuts rows at multiples of 6 into parts of at least 6 rows, so each part
 *   has the whole product's panels, and its last part the same ragged panel.
 * The few-rows kernels: with op(B) transposed (B's rows contiguous along K, as W in a dense
 * layer's forward), dot products along K, one vector accumulator per element, several columns
 * at once so each vector of op(A) is loaded once per group; otherwise rows of op(B) times
 * broadcast elements of op(A): one multiply-add chain along K per element, as in the packed
 * kernel. */
enum { SMALL_MACS = 512, FEW_ROWS = 4, ROWS_CHUNK = 256 };

/* C = alpha·op(A)·op(B) + beta·C in plain loops: for products too small for anything else to
 * pay. i·ai + p·ap indexes op(A)(i, p), j·bj + p·bp op(B)(p, j). */
static void gemm_small(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                       size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    size_t ai = ta ? 1 : lda, ap = ta ? lda : 1, bj = tb ? ldb : 1, bp = tb ? 1 : ldb;
    for (int i = 0; i < M; i++, A += ai, C += ldc) {
        const float *b = B;
        for (int j = 0; j < N; j++, b += bj) {
            float s = 0.0f;
            for (int p = 0; p < K; p++)
                s += A[p * ap] * b[p * bp];
            C[j] = beta == 0.0f ? alpha * s : alpha * s + beta * C[j];
        }
    }
}

/* The few-rows path in portable C, for m <= FEW_ROWS rows. With op(B) transposed each element
 * is a dot product in 8 interleaved partial sums (which compilers turn into vectors); else
 * ROWS_CHUNK columns at a time are accumulated on the stack along rows of op(B). */
static void rows_portable(bool ta, bool tb, int m, int N, int K, float alpha, const float *A,
                          size_t lda, const float *B, size_t ldb, float beta, float *C,
                          size_t ldc)
{
    size_t ai = ta ? 1 : lda, ap = ta ? lda : 1;
    if (tb) {
        for (int i = 0; i < m; i++, C += ldc) {
            const float *a = A + i * ai;
            for (int j = 0; j < N; j++) {
                const float *b = B + (size_t)j * ldb;
                float s[8] = {0};
                int p = 0;
                for (; p + 8 <= K; p += 8)
                    for (int l = 0; l < 8; l++)
                        s[l] += a[(p + l) * ap] * b[p + l];
                for (int l = 0; p + l < K; l++)
                    s[l] += a[(p + l) * ap] * b[p + l];
                float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
                C[j] = beta == 0.0f ? alpha * t : alpha * t + beta * C[j];
            }
        }
        return;
    }
    float acc[FEW_ROWS][ROWS_CHUNK];
    for (int j0 = 0; j0 < N; j0 += ROWS_CHUNK) {
        int n = min_int(ROWS_CHUNK, N - j0);
        for (int i = 0; i < m; i++)
            memset(acc[i], 0, (size_t)n * sizeof acc[i][0]);
        for (int p = 0; p < K; p++) {
            const float *b = B + (size_t)p * ldb + j0;
            for (int i = 0; i < m; i++) {
                float a = A[i * ai + p * ap];
                for (int j = 0; j < n; j++)
                    acc[i][j] += a * b[j];
            }
        }
        for (int i = 0; i < m; i++) {
            float *c = C + i * ldc + j0;
            for (int j = 0; j < n; j++)
                c[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[j];
        }
    }
}

#if NN_GEMM_X86
/* ------------------------------------------------------------- AVX2 + FMA */

/* Two AVX2 vectors wide. The AVX-512 path reuses the packers below: every AVX-512 CPU has AVX2
 * and FMA, and nn__gemm_available checks for them. */
enum { NR_AVX2 = 16 };

/* Copies the transpose of the 8×8 block at src (rows ld apart) to dst (rows ldd apart): dst
 * row q is column q of src. Only the first `rows` rows of src are read; the rest count as
 * zero. Written out without arrays or loops so that at -O2 all values stay in registers. */
NN_GEMM_INLINE __attribute__((target("avx"))) void
transpose8(const float *src, size_t ld, int rows, float *dst, size_t ldd)
{
    __m256 z = _mm256_setzero_ps();
    __m256 r0 = _mm256_loadu_ps(src);
    __m256 r1 = rows > 1 ? _mm256_loadu_ps(src + ld) : z;
    __m256 r2 = rows > 2 ? _mm256_loadu_ps(src + 2 * ld) : z;
    __m256 r3 = rows > 3 ? _mm256_loadu_ps(src + 3 * ld) : z;
    __m256 r4 = rows > 4 ? _mm256_loadu_ps(src + 4 * ld) : z;
    __m256 r5 = rows > 5 ? _mm256_loadu_ps(src + 5 * ld) : z;
    __m256 r6 = rows > 6 ? _mm256_loadu_ps(src + 6 * ld) : z;
    __m256 r7 = rows > 7 ? _mm256_loadu_ps(src + 7 * ld) : z;
    /* interleave pairs of rows: t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5] */
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    /* 4-row columns within each 128-bit lane: u0 = column 0 of rows 0-3 | column 4 */
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    /* join rows 0-3 and 4-7 of each column across the lanes */
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* pack_block, plus a fast path for contiguous steps (ps == 1: op(A) stored as is, op(B)
 * transposed): 8×8 transposes turn 8 lanes by 8 steps into 8 panel rows, lanes past the edge
 * reading as zero. With W = MR = 6 each 8-float store spills 2 floats into the next panel
 * row, which the next store (or the next panel, or the tail) overwrites: dst needs 8 floats
 * of slack. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) void
pack_block_avx2(const float *X, size_t ps, size_t ls, int width, int kc, float *restrict dst,
                const int W)
{
    if (ps != 1 || ls == 1) {
        pack_block(X, ps, ls, width, kc, dst, W);
        return;
    }
    for (int l0 = 0; l0 < width; l0 += W) {
        float *d = dst + (size_t)l0 * kc;
        int lanes = min_int(W, width - l0), p = 0;
        for (; p + 8 <= kc; p += 8) {
            for (int g = 0; g < W; g += 8) {
                if (g < lanes)
                    transpose8(X + (l0 + g) * ls + p, ls, lanes - g, d + p * W + g, W);
                else /* lanes all past the edge (W is a multiple of 8 here) */
                    for (int q = 0; q < 8; q++)
                        _mm256_storeu_ps(d + (p + q) * W + g, _mm256_setzero_ps());
            }
        }
        pack_panel(X + l0 * ls + p, 1, ls, lanes, kc - p, d + p * W, W);
    }
}

__attribute__((target("avx2,fma"))) static void pack_avx2(const float *X, size_t ps, size_t ls,
                                                            int width, int kc, float *dst, int w)
{
    if (w == MR)
        pack_block_avx2(X, ps, ls, width, kc, dst, MR);
    else
        pack_block_avx2(X, ps, ls, width, kc, dst, NR_AVX2);
}

/* Stores one row of a tile: C[0:16] = alpha·(t0, t1) + beta·C[0:16], C not read if !read_c. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) void
store_row_avx2(float *C, __m256 t0, __m256 t1, __m256 va, __m256 vb, bool read_c)
{
    t0 = _mm256_mul_ps(va, t0), t1 = _mm256_mul_ps(va, t1);
    if (read_c) {
        t0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(C), t0);
        t1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(C + 8), t1);
    }
    _mm256_storeu_ps(C, t0), _mm256_storeu_ps(C + 8, t1);
}

/* C (MR, 16) = alpha·pa·pb + beta·C, ab = {alpha, beta}, for packed panels pa (kc, MR) and
 * pb (kc, 16): per K step, two B vectors times six broadcast A values into twelve
 * accumulators. alpha and beta come through memory and are read after the loop: held in
 * registers across it they pushed an accumulator onto the stack (gcc), halving the speed. */
__attribute__((target("avx2,fma"), noinline)) static void
tile_avx2(int kc, const float *restrict pa, const float *restrict pb, const float *ab,
          float *restrict C, size_t ldc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++, pa += MR, pb += NR_AVX2) {
        __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8), a;
#define NN_ROW(r)                                                                              \
    a = _mm256_broadcast_ss(pa + r);                                                           \
    c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                                                 \
    c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);
        NN_ROW(0) NN_ROW(1) NN_ROW(2) NN_ROW(3) NN_ROW(4) NN_ROW(5)
#undef NN_ROW
    }
    __m256 va = _mm256_set1_ps(ab[0]), vb = _mm256_set1_ps(ab[1]);
    bool read_c = ab[1] != 0.0f;
    store_row_avx2(C, c00, c01, va, vb, read_c);
    store_row_avx2(C + ldc, c10, c11, va, vb, read_c);
    store_row_avx2(C + 2 * ldc, c20, c21, va, vb, read_c);
    store_row_avx2(C + 3 * ldc, c30, c31, va, vb, read_c);
    store_row_avx2(C + 4 * ldc, c40, c41, va, vb, read_c);
    store_row_avx2(C + 5 * ldc, c50, c51, va, vb, read_c);
}

/* gemm_kern for avx2. The C tile is prefetched first: C is the one operand not packed, and
 * its rows (ldc apart) miss the caches on large products. A ragged tile is computed whole
 * into T, and only its (m, n) corner stored to C. */
__attribute__((target("avx2,fma"))) static void
kern_avx2(int kc, const float *restrict pa, const float *restrict pb, float *restrict C,
          size_t ldc, float alpha, float beta, int m, int n)
{
    for (int r = 0; r < m; r++) {
        _mm_prefetch((const char *)(C + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + r * ldc + n - 1), _MM_HINT_T0);
    }
    float ab[2] = {alpha, beta};
    if (m == MR && n == NR_AVX2) {
        tile_avx2(kc, pa, pb, ab, C, ldc);
        return;
    }
    float T[MR * NR_AVX2], one_zero[2] = {1.0f, 0.0f};
    tile_avx2(kc, pa, pb, one_zero, T, NR_AVX2);
    if (n < NR_AVX2) {
        store_tile(T, NR_AVX2, C, ldc, m, n, alpha, beta);
        return;
    }
    /* full rows, as at the edge of the MLP's batch of 64 = 10·6 + 4 rows */
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int r = 0; r < m; r++)
        store_row_avx2(C + r * ldc, _mm256_loadu_ps(T + r * NR_AVX2),
                       _mm256_loadu_ps(T + r * NR_AVX2 + 8), va, vb, beta != 0.0f);
}

static const gemm_arch arch_avx2 = {NR_AVX2, kern_avx2, pack_avx2};

__attribute__((target("avx2,fma"))) static void
gemm_avx2(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, size_t lda,
          const float *B, size_t ldb, float beta, float *C, size_t ldc, float *pa, float *pb)
{
    gemm_blocked(&arch_avx2, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}

/* ------------------------------------------------------------- AVX-512F */

/* The AVX2 design widened to 512-bit vectors: a (6, 32) tile in twelve zmm accumulators. */
enum { NR_AVX512 = 32 };

__attribute__((target(NN_GEMM_AVX512_TARGET))) static void
pack_avx512(const float *X, size_t ps, size_t ls, int width, int kc, float *dst, int w)
{
    if (w == MR)
        pack_block_avx2(X, ps, ls, width, kc, dst, MR);
    else
        pack_block_avx2(X, ps, ls, width, kc, dst, NR_AVX512);
}

/* Stores one row of a tile, as store_row_avx2. */
NN_GEMM_INLINE __attribute__((target(NN_GEMM_AVX512_TARGET))) void
store_row_avx512(float *C, __m512 t0, __m512 t1, __m512 va, __m512 vb, bool read_c)
{
    t0 = _mm512_mul_ps(va, t0), t1 = _mm512_mul_ps(va, t1);
    if (read_c) {
        t0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(C), t0);
        t1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(C + 16), t1);
    }
    _mm512_storeu_ps(C, t0), _mm512_storeu_ps(C + 16, t1);
}

/* C (MR, 32) = alpha·pa·pb + beta·C, ab = {alpha, beta}, as tile_avx2. */
__attribute__((target(NN_GEMM_AVX512_TARGET), noinline)) static void
tile_avx512(int kc, const float *restrict pa, const float *restrict pb, const float *ab,
            float *restrict C, size_t ldc)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++, pa += MR, pb += NR_AVX512) {
        __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16), a;
#define NN_ROW(r)                                                                              \
    a = _mm512_set1_ps(pa[r]);                                                                 \
    c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                                                 \
    c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);
        NN_ROW(0) NN_ROW(1) NN_ROW(2) NN_ROW(3) NN_ROW(4) NN_ROW(5)
#undef NN_ROW
    }
    __m512 va = _mm512_set1_ps(ab[0]), vb = _mm512_set1_ps(ab[1]);
    bool read_c = ab[1] != 0.0f;
    store_row_avx512(C, c00, c01, va, vb, read_c);
    store_row_avx512(C + ldc, c10, c11, va, vb, read_c);
    store_row_avx512(C + 2 * ldc, c20, c21, va, vb, read_c);
    store_row_avx512(C + 3 * ldc, c30, c31, va, vb, read_c);
    store_row_avx512(C + 4 * ldc, c40, c41, va, vb, read_c);
    store_row_avx512(C + 5 * ldc, c50, c51, va, vb, read_c);
}

/* gemm_kern for avx512. The C tile is prefetched first: C is the one operand not packed, and
 * its rows (ldc apart) miss the caches on large products. A ragged tile is computed whole
 * into T, and only its (m, n) corner stored to C. */
__attribute__((target(NN_GEMM_AVX512_TARGET))) static void
kern_avx512(int kc, const float *restrict pa, const float *restrict pb, float *restrict C,
            size_t ldc, float alpha, float beta, int m, int n)
{
    for (int r = 0; r < m; r++) {
        _mm_prefetch((const char *)(C + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + r * ldc + n - 1), _MM_HINT_T0);
    }
    float ab[2] = {alpha, beta};
    if (m == MR && n == NR_AVX512) {
        tile_avx512(kc, pa, pb, ab, C, ldc);
        return;
    }
    float T[MR * NR_AVX512], one_zero[2] = {1.0f, 0.0f};
    tile_avx512(kc, pa, pb, one_zero, T, NR_AVX512);
    if (n < NR_AVX512) {
        store_tile(T, NR_AVX512, C, ldc, m, n, alpha, beta);
        return;
    }
    /* full rows, as at the edge of the MLP's batch of 64 = 10·6 + 4 rows */
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < m; r++)
        store_row_avx512(C + r * ldc, _mm512_loadu_ps(T + r * NR_AVX512),
                         _mm512_loadu_ps(T + r * NR_AVX512 + 16), va, vb, beta != 0.0f);
}

static const gemm_arch arch_avx512 = {NR_AVX512, kern_avx512, pack_avx512};

__attribute__((target(NN_GEMM_AVX512_TARGET))) static void
gemm_avx512(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, size_t lda,
            const float *B, size_t ldb, float beta, float *C, size_t ldc, float *pa, float *pb)
{
    gemm_blocked(&arch_avx512, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}
/* ------------------------------------------------------------- AVX2 few rows */

/* The sum of v's lanes, always in this order. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) float hsum_avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lanes below n (0..8) set. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) __m256i mask_avx2(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* C (m, g) = alpha·x·wᵀ + beta·C for m rows of x and g rows of w, each contiguous along K
 * (ldx, ldw apart): m·g dot products, one accumulator each, so the m·g FMA chains hide the FMA
 * latency, while each vector of x is loaded once for g columns and each of w once for m rows.
 * tail masks the last K % 8 elements. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) void
dot_block_avx2(const int m, const int g, int K, const float *x, size_t ldx, const float *w,
               size_t ldw, float *C, size_t ldc, float alpha, float beta, __m256i tail)
{
    __m256 acc[FEW_ROWS][8], xv[FEW_ROWS];
#pragma GCC unroll 8
    for (int i = 0; i < m; i++)
#pragma GCC unroll 8
        for (int j = 0; j < g; j++)
            acc[i][j] = _mm256_setzero_ps();
    int p = 0;
    for (; p + 8 <= K; p += 8) {
#pragma GCC unroll 8
        for (int i = 0; i < m; i++)
            xv[i] = _mm256_loadu_ps(x + i * ldx + p);
#pragma GCC unroll 8
        for (int j = 0; j < g; j++) {
            __m256 wv = _mm256_loadu_ps(w + j * ldw + p);
#pragma GCC unroll 8
            for (int i = 0; i < m; i++)
                acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (p < K) {
#pragma GCC unroll 8
        for (int i = 0; i < m; i++)
            xv[i] = _mm256_maskload_ps(x + i * ldx + p, tail);
#pragma GCC unroll 8
        for (int j = 0; j < g; j++) {
            __m256 wv = _mm256_maskload_ps(w + j * ldw + p, tail);
#pragma GCC unroll 8
            for (int i = 0; i < m; i++)
                acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < m; i++)
#pragma GCC unroll 8
        for (int j = 0; j < g; j++) {
            __m128 t = _mm_mul_ss(_mm_set_ss(alpha), _mm_set_ss(hsum_avx2(acc[i][j])));
            if (beta != 0.0f)
                t = _mm_fmadd_ss(_mm_set_ss(beta), _mm_load_ss(C + i * ldc + j), t);
            _mm_store_ss(C + i * ldc + j, t);
        }
}

/* C (m, N) = alpha·x·Bᵀ + beta·C, B (N, K): groups of g columns, then single ones (which
 * compute each element exactly as a group does). */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) void
dot_rows_avx2(const int m, const int g, int N, int K, const float *x, size_t ldx,
              const float *B, size_t ldb, float *C, size_t ldc, float alpha, float beta)
{
    __m256i tail = mask_avx2(K % 8);
    int j = 0;
    for (; j + g <= N; j += g)
        dot_block_avx2(m, g, K, x, ldx, B + j * ldb, ldb, C + j, ldc, alpha, beta, tail);
    for (; j < N; j++)
        dot_block_avx2(m, 1, K, x, ldx, B + j * ldb, ldb, C + j, ldc, alpha, beta, tail);
}

/* C (m, 8·nv) = alpha·op(A)·B + beta·C for m rows of op(A) (element (i, p) at i·ai + p·ap) and
 * B (K, 8·nv) with rows ldb apart: per K step, nv vectors of B times a broadcast element of
 * each row, the multiply-add chain of the packed kernel. The last vector's lanes are cut to
 * `last` (a mask) when partial: those columns are neither read nor written. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) void
axpy_block_avx2(const int m, const int nv, int K, const float *A, size_t ai, size_t ap,
                const float *B, size_t ldb, float *C, size_t ldc, float alpha, float beta,
                bool partial, __m256i last)
{
    __m256 acc[FEW_ROWS][8], bv[8];
#pragma GCC unroll 8
    for (int i = 0; i < m; i++)
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++)
            acc[i][v] = _mm256_setzero_ps();
    for (int p = 0; p < K; p++, B += ldb) {
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++)
            bv[v] = partial && v == nv - 1 ? _mm256_maskload_ps(B + 8 * v, last)
                                           : _mm256_loadu_ps(B + 8 * v);
#pragma GCC unroll 8
        for (int i = 0; i < m; i++) {
            __m256 a = _mm256_broadcast_ss(A + i * ai + p * ap);
#pragma GCC unroll 8
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm256_fmadd_ps(a, bv[v], acc[i][v]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < m; i++)
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            float *c = C + i * ldc + 8 * v;
            bool cut = partial && v == nv - 1;
            __m256 t = _mm256_mul_ps(va, acc[i][v]);
            if (beta != 0.0f)
                t = _mm256_fmadd_ps(vb, cut ? _mm256_maskload_ps(c, last) : _mm256_loadu_ps(c), t);
            if (cut)
                _mm256_maskstore_ps(c, last, t);
            else
                _mm256_storeu_ps(c, t);
        }
}

/* C (m, N) = alpha·op(A)·B + beta·C, B (K, N): blocks of nv vectors, then single vectors, then
 * one partial vector. */
NN_GEMM_INLINE __attribute__((target("avx2,fma"))) void
axpy_rows_avx2(const int m, const int nv, int N, int K, const float *A, size_t ai, size_t ap,
               const float *B, size_t ldb, float *C, size_t ldc, float alpha, float beta)
{
    __m256i none = _mm256_setzero_si256();
    int j = 0;
    for (; j + 8 * nv <= N; j += 8 * nv)
        axpy_block_avx2(m, nv, K, A, ai, ap, B + j, ldb, C + j, ldc, alpha, beta, false, none);
    for (; j + 8 <= N; j += 8)
        axpy_block_avx2(m, 1, K, A, ai, ap, B + j, ldb, C + j, ldc, alpha, beta, false, none);
    if (j < N)
        axpy_block_avx2(m, 1, K, A, ai, ap, B + j, ldb, C + j, ldc, alpha, beta, true,
                        mask_avx2(N - j));
}

/* Longest K for which op(A)'s rows are copied (into the workspace) when A is transposed and
 * B is too. */
enum { ROWS_XK = PA_FLOATS / FEW_ROWS };

/* The few-rows path with AVX2 + FMA, m <= FEW_ROWS. The number of columns (or vectors of
 * columns) per block falls as m rises, so the accumulators stay within 16 registers. */
__attribute__((target("avx2,fma"))) static void
rows_avx2(bool ta, bool tb, int m, int N, int K, float alpha, const float *A, size_t lda,
          const float *B, size_t ldb, float beta, float *C, size_t ldc, float *xbuf)
{
    if (!tb) {
        size_t ai = ta ? 1 : lda, ap = ta ? lda : 1;
        switch (m) {
        case 1: axpy_rows_avx2(1, 6, N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        case 2: axpy_rows_avx2(2, 4, N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        case 3: axpy_rows_avx2(3, 3, N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        default: axpy_rows_avx2(4, 2, N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        }
        return;
    }
    if (ta) { /* op(A)'s rows are columns of A: copy them to rows */
        if (K > ROWS_XK) {
            rows_portable(ta, tb, m, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            return;
        }
        for (int p = 0; p < K; p++)
            for (int i = 0; i < m; i++)
                xbuf[i * K + p] = A[p * lda + i];
        A = xbuf, lda = (size_t)K;
    }
    switch (m) {
    case 1: dot_rows_avx2(1, 8, N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    case 2: dot_rows_avx2(2, 4, N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    case 3: dot_rows_avx2(3, 3, N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    default: dot_rows_avx2(4, 2, N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    }
}
#endif /* NN_GEMM_X86 */

/* ------------------------------------------------------------- dispatch */

bool nn__gemm_available(nn__gemm_kernel k)
{
    switch (k) {
    case NN__GEMM_AUTO:
    case NN__GEMM_REF:
    case NN__GEMM_PORTABLE:
        return true;
#if NN_GEMM_X86
    case NN__GEMM_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NN__GEMM_AVX512:
#ifdef NN_GEMM_EMULATE_AVX512
        return nn__gemm_available(NN__GEMM_AVX2);
#else
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
#endif
    default:
        return false;
    }
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
        gemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
        return;
    }
    if (k == NN__GEMM_AVX2) {
        gemm_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
        return;
    }
#endif
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}

/* The few-rows path for kernel k (resolved), m <= FEW_ROWS. */
static void gemm_rows(nn__gemm_kernel k, bool ta, bool tb, int m, int N, int K, float alpha,
                      const float *A, size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc, float *xbuf)
{
#if NN_GEMM_X86
    if (k == NN__GEMM_AVX512 || k == NN__GEMM_AVX2) {
        rows_avx2(ta, tb, m, N, K, alpha, A, lda, B, ldb, beta, C, ldc, xbuf);
        return;
    }
#endif
    (void)xbuf; /* the portable kernel reads op(A) in place */
    rows_portable(ta, tb, m, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

bool nn__gemm_one_block(int K)
{
    return K <= KC_MAX;
}

size_t nn__gemm_ws_floats(void)
{
    return PA_FLOATS + PB_FLOATS + 16; /* 16: room to align the start to 64 bytes */
}

bool nn__gemm_needs_ws(bool ta, bool tb, int M, int N, int K)
{
    if (M <= 0 || N <= 0 || K <= 0 || (long long)M * N * K < SMALL_MACS)
        return false;
    return M > FEW_ROWS || (ta && tb); /* packing, or the few-rows path's copy of op(A) */
}

/* A kernel this CPU cannot run falls back to AUTO: nn__gemm has no way to fail. The path is
 * chosen from the shape alone (see "small products, few rows"). */
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
    if ((long long)M * N * K < SMALL_MACS) {
        gemm_small(ta, tb, M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C, (size_t)ldc);
        return;
    }
    if (k == NN__GEMM_AUTO || !nn__gemm_available(k)) {
#if NN_GEMM_X86
        k = nn__gemm_available(NN__GEMM_AVX512) ? NN__GEMM_AVX512
            : nn__gemm_available(NN__GEMM_AVX2) ? NN__GEMM_AVX2
                                                : NN__GEMM_PORTABLE;
#else
        k = NN__GEMM_PORTABLE;
#endif
    }
    float *pa = ws ? (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63) : NULL;
    float *pb = pa ? pa + PA_FLOATS : NULL;
    /* A ragged last panel of r = M % MR rows: packed with the others and computed as a whole
     * panel if r > MR / 2 (2 idle rows at most); otherwise in the few-rows path, which reads
     * all of op(B) a second time, unpacked. Measured on the MLP (in-process A/B): whole
     * panels made a training step at batch 64 (10·6 + 4 rows) 1–3% faster and predictions
     * at batch 10 and 64 5–8% faster; at batch 8, 9 and 15 (r = 2, 3, 3) the few-rows path
     * was 4–8% faster. */
    int r = M % MR, few = M <= FEW_ROWS ? M : r > 0 && r <= MR / 2 ? r : 0, packed = M - few;
    if (packed > 0)
        gemm_packed(k, ta, tb, packed, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C,
                    (size_t)ldc, pa, pb);
    if (few > 0)
        gemm_rows(k, ta, tb, few, N, K, alpha, A + (ta ? (size_t)packed : (size_t)packed * lda),
                  (size_t)lda, B, (size_t)ldb, beta, C + (size_t)packed * ldc, (size_t)ldc, pa);
}
