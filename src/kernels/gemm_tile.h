/* The packed SIMD micro-kernel, one source for every vector ISA with a fused multiply-add:
 * gemm_x86.c includes this file for AVX2 and for AVX-512F, gemm_neon.c for NEON, each after
 * defining
 *   GT_ISA          the suffix of the names made here (avx2: tile_avx2, kern_avx2, ...)
 *   GT_TARGET       the target attribute's string, or nothing where the build's target has
 *                   the ISA already (NEON on aarch64)
 *   GT_PACK_BLOCK   the packer, with pack_block's arguments (pack_block, or a faster one)
 *   GT_VEC          the vector type; GT_VW its floats; GT_NR = 2·GT_VW the tile's columns
 *   GT_SETZERO(), GT_SET1(x), GT_BROADCAST(p) (*p in every lane), GT_LOAD(p) (aligned),
 *   GT_LOADU(p), GT_STOREU(p, v), GT_MUL(a, b), GT_FMADD(a, b, c) (a·b + c, rounded once)
 * and it undefines them all at its end. It makes pack_ISA, store_row_ISA, tile_ISA, kern_ISA,
 * arch_ISA and nn__gemm_ISA (gemm_internal.h). Needs gemm_blocked.h.
 *
 * Shape letters as in gemm_blocked.h: a tile is (MR, NR), kc its K steps. */

#define GT_CAT2(a, b) a##_##b
#define GT_CAT(a, b) GT_CAT2(a, b)
#define GT(name) GT_CAT(name, GT_ISA)
#define GT_NR (2 * GT_VW)
#ifdef GT_TARGET
#define GT_ATTR __attribute__((target(GT_TARGET)))
#else
#define GT_ATTR
#endif

_Static_assert(NR_MAX % GT_NR == 0, "nn__gemm_mt cuts columns at multiples of every NR");

GT_ATTR static void GT(pack)(const float *X, size_t ps, size_t ls, int width, int kc,
                             float *dst, int w)
{
    if (w == MR)
        GT_PACK_BLOCK(X, ps, ls, width, kc, dst, MR);
    else
        GT_PACK_BLOCK(X, ps, ls, width, kc, dst, GT_NR);
}

/* Stores one row of a tile: C[0:NR] = alpha·(t0, t1) + beta·C[0:NR], C not read if !read_c. */
NN_GEMM_INLINE GT_ATTR void
GT(store_row)(float *C, GT_VEC t0, GT_VEC t1, GT_VEC va, GT_VEC vb, bool read_c)
{
    t0 = GT_MUL(va, t0), t1 = GT_MUL(va, t1);
    if (read_c) {
        t0 = GT_FMADD(vb, GT_LOADU(C), t0);
        t1 = GT_FMADD(vb, GT_LOADU(C + GT_VW), t1);
    }
    GT_STOREU(C, t0), GT_STOREU(C + GT_VW, t1);
}

/* C (MR, NR) = alpha·pa·pb + beta·C, ab = {alpha, beta}, for packed panels pa (kc, MR) and
 * pb (kc, NR): per K step, two B vectors times six broadcast A values into twelve
 * accumulators. alpha and beta come through memory and are read after the loop: held in
 * registers across it they push an accumulator onto the stack (gcc), halving the speed. */
GT_ATTR __attribute__((noinline)) static void
GT(tile)(int kc, const float *restrict pa, const float *restrict pb, const float *ab,
         float *restrict C, size_t ldc)
{
    GT_VEC c00 = GT_SETZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    GT_VEC c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++, pa += MR, pb += GT_NR) {
        GT_VEC b0 = GT_LOAD(pb), b1 = GT_LOAD(pb + GT_VW), a;
#define NN_ROW(r)                                                                              \
    a = GT_BROADCAST(pa + r);                                                                  \
    c##r##0 = GT_FMADD(a, b0, c##r##0);                                                        \
    c##r##1 = GT_FMADD(a, b1, c##r##1);
        NN_ROW(0) NN_ROW(1) NN_ROW(2) NN_ROW(3) NN_ROW(4) NN_ROW(5)
#undef NN_ROW
    }
    GT_VEC va = GT_SET1(ab[0]), vb = GT_SET1(ab[1]);
    bool read_c = ab[1] != 0.0f;
    GT(store_row)(C, c00, c01, va, vb, read_c);
    GT(store_row)(C + ldc, c10, c11, va, vb, read_c);
    GT(store_row)(C + 2 * ldc, c20, c21, va, vb, read_c);
    GT(store_row)(C + 3 * ldc, c30, c31, va, vb, read_c);
    GT(store_row)(C + 4 * ldc, c40, c41, va, vb, read_c);
    GT(store_row)(C + 5 * ldc, c50, c51, va, vb, read_c);
}

/* gemm_kern. The C tile is prefetched first: C is the one operand not packed, and its rows
 * (ldc apart) miss the caches on large products. A ragged tile is computed whole into T, and
 * only its (m, n) corner stored to C. */
GT_ATTR static void
GT(kern)(int kc, const float *restrict pa, const float *restrict pb, float *restrict C,
         size_t ldc, float alpha, float beta, int m, int n)
{
    for (int r = 0; r < m; r++) {
        __builtin_prefetch(C + r * ldc, 0, 3); /* into every cache level: x86's prefetcht0 */
        __builtin_prefetch(C + r * ldc + n - 1, 0, 3);
    }
    float ab[2] = {alpha, beta};
    if (m == MR && n == GT_NR) {
        GT(tile)(kc, pa, pb, ab, C, ldc);
        return;
    }
    float T[MR * GT_NR], one_zero[2] = {1.0f, 0.0f};
    GT(tile)(kc, pa, pb, one_zero, T, GT_NR);
    if (n < GT_NR) {
        store_tile(T, GT_NR, C, ldc, m, n, alpha, beta);
        return;
    }
    /* full rows, as at the edge of the MLP's batch of 64 = 10·6 + 4 rows */
    GT_VEC va = GT_SET1(alpha), vb = GT_SET1(beta);
    for (int r = 0; r < m; r++)
        GT(store_row)(C + r * ldc, GT_LOADU(T + r * GT_NR), GT_LOADU(T + r * GT_NR + GT_VW), va,
                      vb, beta != 0.0f);
}

static const gemm_arch GT(arch) = {GT_NR, GT(kern), GT(pack)};

GT_ATTR void
GT(nn__gemm)(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, size_t lda,
             const float *B, size_t ldb, float beta, float *C, size_t ldc, float *pa, float *pb)
{
    gemm_blocked(&GT(arch), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa, pb);
}

#undef GT_CAT2
#undef GT_CAT
#undef GT
#undef GT_NR
#undef GT_ATTR
#undef GT_ISA
#undef GT_TARGET
#undef GT_PACK_BLOCK
#undef GT_VEC
#undef GT_VW
#undef GT_SETZERO
#undef GT_SET1
#undef GT_BROADCAST
#undef GT_LOAD
#undef GT_LOADU
#undef GT_STOREU
#undef GT_MUL
#undef GT_FMADD
