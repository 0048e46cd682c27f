/* The x86 kernels of the GEMM: the packed micro-kernel for AVX2 + FMA and for AVX-512F, both
 * made from one template (gemm_tile.h), the AVX2 packer they share, and the few-rows path
 * with AVX2 + FMA. Each function carries its ISA in a target attribute; gemm.c calls them
 * only on a CPU that has it (nn__gemm_available).
 *
 * Shape letters as in gemm_blocked.h; m a few rows of C (m <= FEW_ROWS), g columns or nv
 * vectors of columns of C computed together. */
#include "kernels/gemm_blocked.h"

#if NN_GEMM_X86
#include <immintrin.h>

/* The AVX-512 kernel's target. A test build (NN_GEMM_EMULATE_AVX512: tests/CMakeLists.txt)
 * compiles it for AVX2 instead, with the few AVX-512 intrinsics it uses emulated on pairs of
 * AVX2 vectors (tests/avx512_emulated.h), so that it runs, and is tested, on CPUs without
 * AVX-512 as well. */
#if defined(NN_GEMM_EMULATE_AVX512)
#include "avx512_emulated.h"
#define NN_GEMM_AVX512_TARGET "avx2,fma"
#else
#define NN_GEMM_AVX512_TARGET "avx512f,avx2,fma"
#endif

/* ------------------------------------------------------------- packing */

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

/* ------------------------------------------------------------- packed micro-kernels */

/* Two AVX2 vectors wide: a (6, 16) tile in twelve ymm accumulators. The AVX-512 kernel uses
 * the packer above too: every AVX-512 CPU has AVX2 and FMA, and nn__gemm_available checks
 * for them. */
#define GT_ISA avx2
#define GT_TARGET "avx2,fma"
#define GT_PACK_BLOCK pack_block_avx2
#define GT_VEC __m256
#define GT_VW 8
#define GT_SETZERO _mm256_setzero_ps
#define GT_SET1 _mm256_set1_ps
#define GT_BROADCAST _mm256_broadcast_ss
#define GT_LOAD _mm256_load_ps
#define GT_LOADU _mm256_loadu_ps
#define GT_STOREU _mm256_storeu_ps
#define GT_MUL _mm256_mul_ps
#define GT_FMADD _mm256_fmadd_ps
#include "kernels/gemm_tile.h"

/* The same design at 512 bits: a (6, 32) tile in twelve zmm accumulators. AVX-512 has no
 * broadcast from memory as an intrinsic of its own; set1 of the loaded value compiles to it. */
#define GT_ISA avx512
#define GT_TARGET NN_GEMM_AVX512_TARGET
#define GT_PACK_BLOCK pack_block_avx2
#define GT_VEC __m512
#define GT_VW 16
#define GT_SETZERO _mm512_setzero_ps
#define GT_SET1 _mm512_set1_ps
#define GT_BROADCAST(p) _mm512_set1_ps(*(p))
#define GT_LOAD _mm512_load_ps
#define GT_LOADU _mm512_loadu_ps
#define GT_STOREU _mm512_storeu_ps
#define GT_MUL _mm512_mul_ps
#define GT_FMADD _mm512_fmadd_ps
#include "kernels/gemm_tile.h"

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

/* The few-rows kernels for each row count m, each out of line: inlined into one function,
 * their accumulator arrays would all share its frame (over 80 KiB when compiled without
 * optimisation and with AddressSanitizer, more than a small thread stack holds). The columns
 * (g) or vectors of columns (nv) per block fall as m rises, so the accumulators stay within
 * 16 registers. */
#define NN_ROWS_OF(m, nv, g)                                                                   \
    __attribute__((target("avx2,fma"), noinline)) static void axpy_rows_##m(                   \
        int N, int K, const float *A, size_t ai, size_t ap, const float *B, size_t ldb,        \
        float *C, size_t ldc, float alpha, float beta)                                         \
    {                                                                                          \
        axpy_rows_avx2(m, nv, N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta);                   \
    }                                                                                          \
    __attribute__((target("avx2,fma"), noinline)) static void dot_rows_##m(                    \
        int N, int K, const float *x, size_t ldx, const float *B, size_t ldb, float *C,        \
        size_t ldc, float alpha, float beta)                                                   \
    {                                                                                          \
        dot_rows_avx2(m, g, N, K, x, ldx, B, ldb, C, ldc, alpha, beta);                        \
    }
NN_ROWS_OF(1, 6, 8)
NN_ROWS_OF(2, 4, 4)
NN_ROWS_OF(3, 3, 3)
NN_ROWS_OF(4, 2, 2)
#undef NN_ROWS_OF

/* The few-rows path with AVX2 + FMA, m <= FEW_ROWS. */
__attribute__((target("avx2,fma"))) void
nn__gemm_rows_avx2(bool ta, bool tb, int m, int N, int K, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc,
                   float *xbuf)
{
    if (!tb) {
        size_t ai = ta ? 1 : lda, ap = ta ? lda : 1;
        switch (m) {
        case 1: axpy_rows_1(N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        case 2: axpy_rows_2(N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        case 3: axpy_rows_3(N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        default: axpy_rows_4(N, K, A, ai, ap, B, ldb, C, ldc, alpha, beta); break;
        }
        return;
    }
    if (ta) { /* op(A)'s rows are columns of A: copy them to rows */
        if (K > ROWS_XK) {
            nn__gemm_rows_portable(ta, tb, m, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            return;
        }
        for (int p = 0; p < K; p++)
            for (int i = 0; i < m; i++)
                xbuf[i * K + p] = A[p * lda + i];
        A = xbuf, lda = (size_t)K;
    }
    switch (m) {
    case 1: dot_rows_1(N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    case 2: dot_rows_2(N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    case 3: dot_rows_3(N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    default: dot_rows_4(N, K, A, lda, B, ldb, C, ldc, alpha, beta); break;
    }
}
#endif /* NN_GEMM_X86 */
