/* The blocked driver of the packed GEMM, as static inline functions: gemm.c instantiates it
 * for the portable kernel, gemm_x86.c and gemm_neon.c inside each SIMD ISA's entry point
 * (gemm_blocked is forced inline there, so that its calls of the micro-kernel and the packer
 * are direct and compiled for that ISA). Private to src/kernels/.
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
#ifndef NN_KERNELS_GEMM_BLOCKED_H
#define NN_KERNELS_GEMM_BLOCKED_H

#include <string.h>

#include "kernels/gemm_internal.h"

enum {
    MR = NN__GEMM_MR,
    NR_MAX = NN__GEMM_NR_MAX,
    SMALL_MACS = NN__GEMM_SMALL_MACS,
    FEW_ROWS = NN__GEMM_FEW_ROWS
};

/* Cache blocks (for K ≥ 256; a shorter K gets more rows and columns, see gemm_blocked). One
 * B panel, kc×NR (16 KiB at NR 16), stays in L1 while the A block, mc×kc (96 KiB), streams
 * past it from L2. The B block is NC_L2 columns (128 KiB) when op(A) is one block of rows:
 * every operand is then packed once whatever the blocks, and a B block that small is still
 * in L2 when the macro-kernel reads it. With several blocks of rows, op(A) is packed again
 * for every B block, so B blocks go up to NC_MAX columns (1 MiB, in L3): op(A) is then packed
 * once per 1024 columns rather than once per 128, which is faster on large products (see
 * docs/PERFORMANCE.md). */
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

static inline int min_int(int a, int b)
{
    return a < b ? a : b;
}

/* Block size for a dimension n: the fewest blocks of at most max, made as equal as possible
 * and rounded up to a multiple of align, so no block is a thin remainder (K = 784 gives four
 * K blocks of 196, not three of 256 and one of 16). max must be a multiple of align. */
static inline int block_size(int n, int max, int align)
{
    int blocks = (n + max - 1) / max;
    int size = (n + blocks - 1) / blocks;
    return min_int((size + align - 1) / align * align, max);
}

/* ------------------------------------------------------------- packing */

/* Packs one panel (kc, W) of `lanes` ≤ W lanes, as gemm_pack: the general case, for ragged
 * edges and whatever the fast paths leave. The loop order follows X's contiguous dimension. */
static inline void pack_panel(const float *X, size_t ps, size_t ls, int lanes, int kc,
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
static inline void store_tile(const float *T, int ldt, float *C, size_t ldc, int m, int n,
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
static inline void pack_a(const gemm_arch *arch, bool ta, const float *A, size_t lda, int i0,
                          int k0, int mb, int kc, float *pa)
{
    if (ta)
        arch->pack(A + (size_t)k0 * lda + i0, lda, 1, mb, kc, pa, MR);
    else
        arch->pack(A + (size_t)i0 * lda + k0, 1, lda, mb, kc, pa, MR);
}

/* Packs op(B)(k0:k0+kc, j0:j0+nb), columns as lanes. op(B)(p, j) is B[p·ldb + j], or
 * B[j·ldb + p] if tb. */
static inline void pack_b(const gemm_arch *arch, bool tb, const float *B, size_t ldb, int k0,
                          int j0, int kc, int nb, float *pb)
{
    if (tb)
        arch->pack(B + (size_t)j0 * ldb + k0, 1, ldb, nb, kc, pb, arch->nr);
    else
        arch->pack(B + (size_t)k0 * ldb + j0, ldb, 1, nb, kc, pb, arch->nr);
}

/* C(mb, nb) += the product of a packed A block (mb, kc) and packed B block (kc, nb), tile by
 * tile. Column panels outermost, so each B panel stays in L1 while A panels stream past. */
static inline void macro_kernel(const gemm_arch *arch, int mb, int nb, int kc,
                                const float *pa, const float *pb, float *C, size_t ldc,
                                float alpha, float beta)
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
 * the packing buffers, 64-byte aligned. Per K block it walks the blocks of C in one of two
 * orders, row blocks outermost (B inner) or column blocks outermost (A inner), whichever
 * copies fewer floats: with few rows (the MLP's batch of 64) all of op(A) is one block, so
 * B-inner packs each operand exactly once; with few columns, A-inner does. */
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
        /* The outer loop walks the blocks of one operand, packing each once; the inner loop
         * walks the other's, packing each again for every outer block. */
        int outer = b_inner ? M : N, outer_step = b_inner ? mc : nc;
        int inner = b_inner ? N : M, inner_step = b_inner ? nc : mc;
        for (int o0 = 0; o0 < outer; o0 += outer_step) {
            for (int n0 = 0; n0 < inner; n0 += inner_step) {
                int i0 = b_inner ? o0 : n0, j0 = b_inner ? n0 : o0;
                int mb = min_int(mc, M - i0), nb = min_int(nc, N - j0);
                if (!b_inner || n0 == 0)
                    pack_a(arch, ta, A, lda, i0, k0, mb, kb, pa);
                if (b_inner || n0 == 0)
                    pack_b(arch, tb, B, ldb, k0, j0, kb, nb, pb);
                macro_kernel(arch, mb, nb, kb, pa, pb, C + (size_t)i0 * ldc + j0, ldc, alpha, bk);
            }
        }
    }
}

#endif /* NN_KERNELS_GEMM_BLOCKED_H */
