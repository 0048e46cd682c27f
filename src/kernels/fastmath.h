/* The exponential family the activations and losses need, written here instead of taken from
 * libm: the functions are inline and branch-free, so the loops over a layer's units vectorize
 * and a tiny network's step pays no library calls. Each is within a few ulp of the exact value
 * (tests/test_fastmath.c measures it against libm in double precision) and NaN in gives NaN out.
 *
 * All of them rest on one reduction: e^x = 2^n · e^r with n = round(x / ln 2) and
 * |r| <= ln2 / 2, where e^r - 1 is a short Taylor polynomial and 2^n is built from its bits. */
#ifndef NN_FASTMATH_H
#define NN_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* nn__expm1 takes x in [-87.33, 88]: n from -126 to 127, so 2^n is a normal float. */
#define NN__EXP_LO -87.336544f /* ln(2^-126), the smallest normal float */
#define NN__EXP_HI 88.0f

/* The float whose exponent field holds e (a biased exponent, 1 .. 254): 2^(e - 127). */
static inline float nn__pow2_biased(uint32_t e)
{
    uint32_t bits = e << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* n = round(x / ln 2) as a float, for |x| < 2^21. Adding 1.5·2^23 rounds to an integer, which
 * then sits in the low bits of the sum's mantissa: *n_bits gets the sum's bits less those of
 * 1.5·2^23, that is n in two's complement (unsigned arithmetic: defined even for NaN). */
static inline float nn__exp_round(float x, uint32_t *n_bits)
{
    const float round_magic = 12582912.0f; /* 1.5·2^23 */
    float k = x * 1.44269504f + round_magic;
    memcpy(n_bits, &k, sizeof *n_bits);
    *n_bits -= 0x4b400000u;
    return k - round_magic;
}

/* e^r - 1 for |r| <= ln2 / 2, as r + r²·p(r): p is the degree-4 polynomial closest to
 * (e^r - 1 - r)/r² in relative error (fitted by reweighted least squares; 1.3e-8 relative).
 * Its terms are paired so that the chain of dependent operations is short. */
static inline float nn__expm1_small(float r)
{
    float r2 = r * r;
    float p01 = 4.999999702e-01f + 1.666654348e-01f * r;
    float p23 = 4.166720062e-02f + 8.366514929e-03f * r;
    float p = p01 + r2 * (p23 + r2 * 1.388245728e-03f);
    return r + r2 * p;
}

/* r = x - n·ln 2 in two parts (Cody and Waite): ln2_hi has so few bits that n·ln2_hi is exact. */
static inline float nn__exp_remainder(float x, float n)
{
    return (x - n * 0.693359375f) - n * -2.12194440e-4f;
}

/* e^x, subnormal results included; 0 below -104 (where e^x rounds to 0), e^88 above 88.
 * 2^n is applied in two halves, 2^n1·2^n2 with n1 + n2 = n: both are normal floats even when
 * 2^n is not, so results down to 2^-149 come out right. The halves come from u = n + 150 in
 * 0 .. 277, from nn__exp_round's bits (no float-to-int conversion, which a NaN would make
 * undefined). */
static inline float nn__exp(float x)
{
    float xc = x < -104.0f ? -104.0f : x; /* NaN passes both clamps */
    xc = xc > NN__EXP_HI ? NN__EXP_HI : xc;
    uint32_t u;
    float n = nn__exp_round(xc, &u);
    u += 150u;                        /* n + 150 */
    uint32_t u1 = u / 2, u2 = u - u1; /* n1 = u1 - 75, n2 = u2 - 75 */
    float e = (1.0f + nn__expm1_small(nn__exp_remainder(xc, n))) * nn__pow2_biased(u1 + 52u);
    e *= nn__pow2_biased(u2 + 52u);
    return x < -104.0f ? 0.0f : e;
}

/* e^x - 1, accurate near 0 where e^x - 1 would cancel: 2^n (e^r - 1) + (2^n - 1), and for
 * n = 0 that is e^r - 1 itself. -1 below -87, e^88 - 1 above 88. */
static inline float nn__expm1(float x)
{
    float xc = x < NN__EXP_LO ? NN__EXP_LO : x;
    xc = xc > NN__EXP_HI ? NN__EXP_HI : xc;
    uint32_t n_bits;
    float n = nn__exp_round(xc, &n_bits), two_n = nn__pow2_biased(n_bits + 127u);
    return two_n * nn__expm1_small(nn__exp_remainder(xc, n)) + (two_n - 1.0f);
}

/* tanh x = (e^2|x| - 1) / (e^2|x| + 1) with the sign of x; e^2|x| - 1 from expm1 keeps small
 * x accurate. Beyond |x| = 10 tanh rounds to ±1 in float, so |x| is clamped there. */
static inline float nn__tanh(float x)
{
    float ax = fabsf(x);
    ax = ax > 10.0f ? 10.0f : ax;
    float e = nn__expm1(2.0f * ax);
    return copysignf(e / (e + 2.0f), x);
}

/* σ(z) = 1 / (1 + e^-z), from t = e^-|z| <= 1 so that nothing overflows:
 * σ(|z|) = 1 / (1 + t), and σ(-|z|) = t / (1 + t). */
static inline float nn__sigmoid_of(float z, float t /* e^-|z| */)
{
    float s = 1.0f / (1.0f + t);
    return z >= 0.0f ? s : t * s; /* NaN takes the second branch and stays NaN */
}

static inline float nn__sigmoid_inline(float z)
{
    return nn__sigmoid_of(z, nn__exp(-fabsf(z)));
}

/* log(1 + t) for t in [0, 1] (softplus of -|z| is log1p(e^-|z|)). u = 1 + t rounds, so the
 * lost part c = t - (u - 1) is added back as c/u. log u = k·ln 2 + log m with m = u or u/2 in
 * [0.707, 1.414], and log m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172, by its series. */
static inline float nn__log1p_unit(float t)
{
    float u = 1.0f + t;
    float c = (t - (u - 1.0f)) / u;
    float k = u > 1.41421356f ? 1.0f : 0.0f;
    float m = u > 1.41421356f ? 0.5f * u : u;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float p = 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    return k * 0.693147181f + (2.0f * s + 2.0f * s * s2 * p) + c;
}

#endif /* NN_FASTMATH_H */
