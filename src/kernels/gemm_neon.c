/* The aarch64 kernel of the GEMM: the packed micro-kernel of gemm_tile.h in NEON, a (6, 8)
 * tile in twelve 4-float accumulators, each step one fused multiply-add (vfmaq_f32) per
 * accumulator. The portable kernel computes the same tile in GNU C vectors, which gcc also
 * maps to NEON, but as a multiply and an add rounded apart (ISO C does not contract them):
 * twice the arithmetic instructions in the loop that holds nearly all of a product's time.
 * The few-rows and small-product paths stay the portable ones.
 *
 * Shape letters as in gemm_blocked.h. */
#include "kernels/gemm_blocked.h"

#if NN_GEMM_NEON
#include <arm_neon.h>

/* A 4-float NEON vector with *p in every lane, loaded with one instruction (ld1r). */
static inline float32x4_t neon_broadcast(const float *p)
{
    return vld1q_dup_f32(p);
}

/* GT_FMADD(a, b, c) is a·b + c; vfmaq_f32 takes the addend first. */
#define GT_ISA neon
#define GT_PACK_BLOCK pack_block
#define GT_VEC float32x4_t
#define GT_VW 4
#define GT_SETZERO() vdupq_n_f32(0.0f)
#define GT_SET1 vdupq_n_f32
#define GT_BROADCAST neon_broadcast
#define GT_LOAD vld1q_f32
#define GT_LOADU vld1q_f32
#define GT_STOREU vst1q_f32
#define GT_MUL vmulq_f32
#define GT_FMADD(a, b, c) vfmaq_f32((c), (a), (b))
#include "kernels/gemm_tile.h"
#endif /* NN_GEMM_NEON */
