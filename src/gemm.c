/* The fast single-precision GEMM behind nn__gemm: packed, cache-blocked, with SIMD
 * micro-kernels chosen at run time (AVX-512F, AVX2+FMA, or portable C).
 *
 * Shape letters: M, N, K the product's dimensions (C is (M, N), op(A) is (M, K), op(B) is
 * (K, N)); MR, NR the tile of C a micro-kernel keeps in registers; mc, nc, kc the cache
 * blocks of M, N and K; mb, nb, kb one block's actual size (smaller at the far edge).
 *
 * Design (Goto / BLIS): K is cut into blocks of kc. For each K block, blocks of op(A) (mc, kc)
 * and of op(B) (kc, nc) are copied ("packed") into stack buffers in the exact order the
 * micro-kernel reads them: A as panels of MR rows stored (kc, MR), B as panels of NR columns
 * stored (kc, NR). Packing absorbs the four transpose cases, so one micro-kernel per ISA
 * serves them all at the same speed, and it zero-pads ragged edges, so the micro-kernel
 * always computes a whole MR×NR tile and only its store is cut to size.
 *
 * Packing treats op(A) and op(B) alike: a block is `lanes` (A's rows, B's columns) by K
 * steps, and either the lanes are contiguous in memory (A transposed, B not: a copy per step)
 * or the steps are (A as is, B transposed: an 8×8 transpose per 8 lanes × 8 steps). */
#include <string.h>

#include "nn_internal.h"

/* The SIMD kernels use GNU C's target attribute, which gcc and clang both have. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NN_GEMM_X86 1
#include <immintrin.h>
#else
#define NN_GEMM_X86 0
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
 * past it from L2, where the B block (128 KiB) waits. Both buffers live on the stack (224 KiB
 * in all), because nn__gemm must neither allocate nor fail. The sizes were tuned on Zen 3
 * (32 KiB L1d, 512 KiB L2); mc 48 with nc 176 measured the same. */
enum { KC_MAX = 256, MC_MAX = 96, NC_MAX = 128 };
_Static_assert(MC_MAX % MR == 0 && NC_MAX % NR_MAX == 0, "blocks must hold whole panels");
/* The packing buffers' sizes in floats; pack_block_avx2 writes up to 8 floats past a block. */
enum { PA_FLOATS = MC_MAX * KC_MAX + 8, PB_FLOATS = KC_MAX * NC_MAX };

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

/* The loop nest around the macro-kernel for one ISA. pa (MC_MAX·KC_MAX) and pb
 * (KC_MAX·NC_MAX) are the caller's packing buffers. Per K block it packs A once per row block
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
    int nc = block_size(N, NC_MAX * KC_MAX / kc / nr * nr, nr);
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
                          size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    _Alignas(64) float pa[PA_FLOATS];
    _Alignas(64) float pb[PB_FLOATS];
    gemm_blocked(&arch_portable, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
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
          const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    _Alignas(64) float pa[PA_FLOATS];
    _Alignas(64) float pb[PB_FLOATS];
    gemm_blocked(&arch_avx2, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}

/* ------------------------------------------------------------- AVX-512F */

/* The AVX2 design widened to 512-bit vectors: a (6, 32) tile in twelve zmm accumulators. */
enum { NR_AVX512 = 32 };

__attribute__((target("avx512f,avx2,fma"))) static void
pack_avx512(const float *X, size_t ps, size_t ls, int width, int kc, float *dst, int w)
{
    if (w == MR)
        pack_block_avx2(X, ps, ls, width, kc, dst, MR);
    else
        pack_block_avx2(X, ps, ls, width, kc, dst, NR_AVX512);
}

/* Stores one row of a tile, as store_row_avx2. */
NN_GEMM_INLINE __attribute__((target("avx512f,avx2,fma"))) void
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
__attribute__((target("avx512f,avx2,fma"), noinline)) static void
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
__attribute__((target("avx512f,avx2,fma"))) static void
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

__attribute__((target("avx512f,avx2,fma"))) static void
gemm_avx512(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, size_t lda,
            const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    _Alignas(64) float pa[PA_FLOATS];
    _Alignas(64) float pb[PB_FLOATS];
    gemm_blocked(&arch_avx512, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
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
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
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

/* A kernel this CPU cannot run falls back to AUTO: nn__gemm has no way to fail. */
void nn__gemm(nn__gemm_kernel k, bool ta, bool tb, int M, int N, int K, float alpha,
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
    if (!nn__gemm_available(k))
        k = NN__GEMM_AUTO;
#if NN_GEMM_X86
    if (k == NN__GEMM_AUTO)
        k = nn__gemm_available(NN__GEMM_AVX512) ? NN__GEMM_AVX512
            : nn__gemm_available(NN__GEMM_AVX2) ? NN__GEMM_AVX2
                                                : NN__GEMM_PORTABLE;
    if (k == NN__GEMM_AVX512) {
        gemm_avx512(ta, tb, M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C, (size_t)ldc);
        return;
    }
    if (k == NN__GEMM_AVX2) {
        gemm_avx2(ta, tb, M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C, (size_t)ldc);
        return;
    }
#endif
    gemm_portable(ta, tb, M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C, (size_t)ldc);
}
