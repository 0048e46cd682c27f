/* The fixed order's tile and blocked driver at one vector width, included by gemm_fixed.c
 * once per width with FIXED_W (floats per vector: 4, 8 or 16; 1, plain floats, for compilers
 * without GNU C vectors) and FIXED_NAME(x) (a name of this width's) defined.
 * The 16 lanes of each element's partial sums are LANES / FIXED_W vectors of FIXED_W lanes;
 * lane l is the same partial sum, adding the same products in the same order, at every width,
 * so every width gives the same bits. Each vector of lanes is computed in a pass of its own
 * over the run along K, with the tile's TR × TC accumulators of that vector in registers.
 * Shape letters as in gemm_fixed.c. */
#if !defined(FIXED_W) || !defined(FIXED_NAME)
#error "define FIXED_W and FIXED_NAME before including gemm_fixed_tile.h"
#endif

#if FIXED_W == 1
typedef float FIXED_NAME(v);
#else
typedef float FIXED_NAME(v) __attribute__((vector_size(FIXED_W * sizeof(float))));
#endif
_Static_assert(LANES % FIXED_W == 0, "the 16 lanes must be whole vectors");

/* *v = FIXED_W floats of a run from x, of which only the first n (n > 0) exist; the others
 * are +0, whose products leave a lane as it is (a partial sum from +0 is never -0). */
NN_GEMM_INLINE void FIXED_NAME(load_part)(FIXED_NAME(v) *v, const float *x, int n)
{
    memset(v, 0, sizeof *v);
    memcpy(v, x, (size_t)(n < FIXED_W ? n : FIXED_W) * sizeof(float));
}

/* Adds kb steps of rows a0, a1 of op(A) times columns b0, b1 of op(B) (runs along K) to the
 * tile's partial sums S (TR, TC, LANES). */
NN_GEMM_INLINE void FIXED_NAME(tile)(int kb, const float *a0, const float *a1, const float *b0,
                                     const float *b1, float *S)
{
    typedef FIXED_NAME(v) vec;
    int whole = kb / LANES * LANES;
    for (int o = 0; o < LANES; o += FIXED_W) { /* lanes o .. o + FIXED_W - 1 */
        vec s00, s01, s10, s11, x0, x1, y0, y1;
        memcpy(&s00, S + o, sizeof s00);
        memcpy(&s01, S + LANES + o, sizeof s01);
        memcpy(&s10, S + 2 * LANES + o, sizeof s10);
        memcpy(&s11, S + 3 * LANES + o, sizeof s11);
        for (int p = o; p < whole; p += LANES) {
            memcpy(&x0, a0 + p, sizeof x0);
            memcpy(&x1, a1 + p, sizeof x1);
            memcpy(&y0, b0 + p, sizeof y0);
            memcpy(&y1, b1 + p, sizeof y1);
            s00 += x0 * y0, s01 += x0 * y1, s10 += x1 * y0, s11 += x1 * y1;
        }
        int left = kb - whole - o; /* steps of the last, short run in these lanes */
        if (left > 0) {
            FIXED_NAME(load_part)(&x0, a0 + whole + o, left);
            FIXED_NAME(load_part)(&x1, a1 + whole + o, left);
            FIXED_NAME(load_part)(&y0, b0 + whole + o, left);
            FIXED_NAME(load_part)(&y1, b1 + whole + o, left);
            s00 += x0 * y0, s01 += x0 * y1, s10 += x1 * y0, s11 += x1 * y1;
        }
        memcpy(S + o, &s00, sizeof s00);
        memcpy(S + LANES + o, &s01, sizeof s01);
        memcpy(S + 2 * LANES + o, &s10, sizeof s10);
        memcpy(S + 3 * LANES + o, &s11, sizeof s11);
    }
}

/* The product, blocked: for each (MB, NB) block of C, K in blocks of KB steps; operands that
 * do not run along K are copied into runs first. Forced inline into the entry point of the
 * ISA this width is for (gemm_fixed.c), whose target attribute it is then compiled for. */
NN_GEMM_INLINE void FIXED_NAME(gemm)(float *ws, bool ta, bool tb, int M, int N, int K,
                                     float alpha, const float *A, size_t lda, const float *B,
                                     size_t ldb, float beta, float *C, size_t ldc)
{
    /* ws is NULL when nn__gemm_fixed_needs_ws says the product does not use it. */
    float *pa = ws ? ws + WS_A : NULL, *pb = ws ? ws + WS_B : NULL;
    float *sums = ws ? ws + WS_SUMS : NULL;
    bool k_blocks = K > KB; /* the partial sums outlive a K block: keep them in ws */
    for (int j0 = 0; j0 < N; j0 += NB) {
        int nb = min_int(NB, N - j0);
        for (int i0 = 0; i0 < M; i0 += MB) {
            int mb = min_int(MB, M - i0);
            for (int k0 = 0; k0 < K; k0 += KB) {
                int kb = min_int(KB, K - k0);
                /* Row i of op(A)'s block at a + i·as, column j of op(B)'s at b + j·bs. */
                const float *a = A + (size_t)i0 * lda + k0, *b = B + (size_t)j0 * ldb + k0;
                size_t as = lda, bs = ldb;
                if (ta) {
                    pack_runs(A + (size_t)k0 * lda + i0, lda, mb, kb, pa);
                    a = pa, as = KB;
                }
                if (!tb) {
                    pack_runs(B + (size_t)k0 * ldb + j0, ldb, nb, kb, pb);
                    b = pb, bs = KB;
                }
                for (int jt = 0; jt < nb; jt += TC) {
                    /* A ragged tile repeats its last row or column and stores fewer. */
                    const float *b0 = b + jt * bs, *b1 = jt + 1 < nb ? b0 + bs : b0;
                    for (int it = 0; it < mb; it += TR) {
                        const float *a0 = a + it * as, *a1 = it + 1 < mb ? a0 + as : a0;
                        float tile[TILE_SUMS];
                        float *S = k_blocks ? sums + ((size_t)(it / TR) * (NB / TC) + jt / TC) *
                                                         TILE_SUMS
                                            : tile;
                        if (k0 == 0)
                            memset(S, 0, sizeof tile);
                        FIXED_NAME(tile)(kb, a0, a1, b0, b1, S);
                        if (k0 + kb == K)
                            store_tile_sums(S, C + (size_t)(i0 + it) * ldc + j0 + jt, ldc,
                                            min_int(TR, mb - it), min_int(TC, nb - jt), alpha,
                                            beta);
                    }
                }
            }
        }
    }
}

#undef FIXED_W
#undef FIXED_NAME
