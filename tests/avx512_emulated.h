/* The AVX-512F intrinsics src/gemm.c uses, emulated on pairs of AVX2 vectors, for the test
 * build that runs the AVX-512 kernel on CPUs without AVX-512 (NN_GEMM_EMULATE_AVX512, see
 * tests/CMakeLists.txt). Each lane is computed as the AVX-512 instruction computes it (fmadd
 * rounds once per lane), so the kernel's results are the ones the real instructions give;
 * _mm512_load_ps traps on an address that is not 64-byte aligned, where the real instruction
 * faults. Included by gemm.c after <immintrin.h>, whose own __m512 and _mm512_* it shadows. */
#ifndef NN_AVX512_EMULATED_H
#define NN_AVX512_EMULATED_H

#include <immintrin.h>
#include <stdint.h>

/* 16 floats: lanes 0-7 in lo, 8-15 in hi. */
typedef struct nn_emu_m512 {
    __m256 lo, hi;
} nn_emu_m512;

#define NN_EMU static inline __attribute__((target("avx2,fma"), always_inline))

NN_EMU nn_emu_m512 nn_emu_setzero_ps(void)
{
    return (nn_emu_m512){_mm256_setzero_ps(), _mm256_setzero_ps()};
}

NN_EMU nn_emu_m512 nn_emu_set1_ps(float x)
{
    return (nn_emu_m512){_mm256_set1_ps(x), _mm256_set1_ps(x)};
}

NN_EMU nn_emu_m512 nn_emu_loadu_ps(const float *p)
{
    return (nn_emu_m512){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
}

NN_EMU nn_emu_m512 nn_emu_load_ps(const float *p)
{
    if ((uintptr_t)p % 64 != 0)
        __builtin_trap();
    return nn_emu_loadu_ps(p);
}

NN_EMU void nn_emu_storeu_ps(float *p, nn_emu_m512 v)
{
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}

NN_EMU nn_emu_m512 nn_emu_mul_ps(nn_emu_m512 a, nn_emu_m512 b)
{
    return (nn_emu_m512){_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)};
}

NN_EMU nn_emu_m512 nn_emu_fmadd_ps(nn_emu_m512 a, nn_emu_m512 b, nn_emu_m512 c)
{
    return (nn_emu_m512){_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}

#define __m512 nn_emu_m512
#define _mm512_setzero_ps nn_emu_setzero_ps
#define _mm512_set1_ps nn_emu_set1_ps
#define _mm512_loadu_ps nn_emu_loadu_ps
#define _mm512_load_ps nn_emu_load_ps
#define _mm512_storeu_ps nn_emu_storeu_ps
#define _mm512_mul_ps nn_emu_mul_ps
#define _mm512_fmadd_ps nn_emu_fmadd_ps

#endif /* NN_AVX512_EMULATED_H */
