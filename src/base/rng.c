/* The seeded random generator: xoshiro128** (Blackman & Vigna) seeded through splitmix64.
 *
 * Same seed, same numbers on every platform: the generator is integer arithmetic, and the
 * normal draws use only +, -, *, / and sqrt (all correctly rounded in IEEE 754) plus a log of
 * our own written with those, so no libm whose last bits differ between systems is involved.
 * This file must be compiled without floating-point contraction into FMA (CMake sets
 * -ffp-contract=off for it), since contraction would change results between CPUs. */
#include <math.h>

#include "base/base.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nn_rng_seed(nn_rng *rng, uint64_t seed)
{
    if (!rng)
        return;
    /* splitmix64 never yields four zero words in a row, so the state is never all zero. */
    uint64_t a = splitmix64(&seed), b = splitmix64(&seed);
    rng->s[0] = (uint32_t)a;
    rng->s[1] = (uint32_t)(a >> 32);
    rng->s[2] = (uint32_t)b;
    rng->s[3] = (uint32_t)(b >> 32);
}

static uint32_t rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

uint32_t nn_rng_next(nn_rng *rng)
{
    if (!rng)
        return 0;
    uint32_t *s = rng->s;
    uint32_t result = rotl(s[1] * 5u, 7) * 9u;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

float nn_rng_uniform(nn_rng *rng)
{
    /* The top 24 bits, scaled by 2^-24: every value is exact in a float and < 1. */
    return (float)(nn_rng_next(rng) >> 8) * (1.0f / 16777216.0f);
}

void nn__shuffle_swaps(int n, nn_rng *rng, void (*swap)(void *ctx, int i, int j), void *ctx)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(((uint64_t)nn_rng_next(rng) * (uint64_t)(i + 1)) >> 32);
        swap(ctx, i, j);
    }
}

static void swap_ints(void *ctx, int i, int j)
{
    int *order = ctx, t = order[i];
    order[i] = order[j];
    order[j] = t;
}

void nn__shuffle(int *order, int n, nn_rng *rng)
{
    nn__shuffle_swaps(n, rng, swap_ints, order);
}

/* A double in (-1, 1) from 53 random bits. */
static double uniform_pm1(nn_rng *rng)
{
    uint64_t bits = ((uint64_t)nn_rng_next(rng) << 32 | nn_rng_next(rng)) >> 11;
    return (double)bits * (2.0 / 9007199254740992.0) - 1.0;
}

/* Natural log for x in (0, 1], exact to about one ulp of double, from portable arithmetic:
 * x = m·2^e with m in [sqrt(1/2), sqrt(2)), log m = 2·atanh(s), s = (m-1)/(m+1), |s| < 0.172,
 * and the atanh series s + s³/3 + s⁵/5 + ... has converged to double precision by s²³. */
static double portable_log(double x)
{
    int e = 0;
    double m = frexp(x, &e); /* exact: only moves the exponent */
    if (m < 0.70710678118654752) {
        m *= 2.0;
        e -= 1;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, term = s, sum = 0.0;
    for (int k = 1; k <= 23; k += 2) {
        sum += term / k;
        term *= s2;
    }
    return 2.0 * sum + e * 0.69314718055994530942;
}

float nn_rng_normal(nn_rng *rng)
{
    /* Marsaglia's polar method: a point uniform in the unit disc gives a normal deviate.
     * The second deviate it yields is dropped so the state stays four words. */
    if (!rng)
        return 0.0f;
    double u, v, r2;
    do {
        u = uniform_pm1(rng);
        v = uniform_pm1(rng);
        r2 = u * u + v * v;
    } while (r2 >= 1.0 || r2 == 0.0);
    return (float)(u * sqrt(-2.0 * portable_log(r2) / r2));
}

nn_status nn_rng_shuffle(nn_rng *rng, int *items, int n)
{
    if (!rng || n < 0 || (!items && n > 0))
        return NN_ERR_INVALID_ARG;
    nn__shuffle(items, n, rng);
    return NN_OK;
}
