/* Tests for the public matrix API (nn_mat_wrap / alloc / free / mul / add / scale / argmax)
 * and for nn_status_message and nn_version. nn_mat_mul is compared with a plain triple loop
 * written here, accumulating in double.
 * Shape letters: C (M, N) = op(A) (M, K) · op(B) (K, N). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

/* Deterministic pseudo-random values in [-1, 1): a 64-bit LCG, independent of the library. */
static void fill(float *x, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((*s >> 40) * (2.0 / 16777216.0) - 1.0);
    }
}

/* ------------------------------------------------------- wrap / alloc / free */

static void test_wrap_views_caller_memory(void **state)
{
    (void)state;
    float data[6] = {0};
    nn_mat m = nn_mat_wrap(data, 2, 3);
    assert_int_equal(m.rows, 2);
    assert_int_equal(m.cols, 3);
    assert_ptr_equal(m.data, data);
}

static void test_alloc_zero_fills_and_free_clears(void **state)
{
    (void)state;
    nn_mat m = {0};
    assert_int_equal(nn_mat_alloc(&m, 7, 5), NN_OK);
    assert_int_equal(m.rows, 7);
    assert_int_equal(m.cols, 5);
    assert_non_null(m.data);
    for (int i = 0; i < 35; i++)
        assert_true(m.data[i] == 0.0f);
    m.data[34] = 1.0f; /* the whole (7, 5) block is ours to write (ASan checks) */
    nn_mat_free(&m);
    assert_null(m.data);
    assert_int_equal(m.rows, 0);
    assert_int_equal(m.cols, 0);
    nn_mat_free(&m); /* an empty matrix and NULL are fine */
    nn_mat_free(NULL);
}

static void test_alloc_rejects_bad_sizes(void **state)
{
    (void)state;
    float sentinel;
    nn_mat m = nn_mat_wrap(&sentinel, 9, 9);
    const int shapes[][2] = {{0, 3}, {3, 0}, {-1, 3}, {3, -1}, {0, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        assert_int_equal(nn_mat_alloc(&m, shapes[i][0], shapes[i][1]), NN_ERR_INVALID_ARG);
        assert_ptr_equal(m.data, &sentinel); /* left as it was */
        assert_int_equal(m.rows, 9);
    }
    assert_int_equal(nn_mat_alloc(NULL, 2, 2), NN_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------- mul */

/* C = alpha·op(A)·op(B) + beta·C0 by the definition, in double. beta == 0 ignores C0. */
static void ref_mul(double *C, const float *C0, const float *A, bool ta, const float *B, bool tb,
                    int M, int N, int K, float alpha, float beta, double *mag /* (M, N) */)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0, abs_sum = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[k * M + i] : A[i * K + k];
                double b = tb ? B[j * K + k] : B[k * N + j];
                sum += a * b;
                abs_sum += fabs(a * b);
            }
            double c0 = beta == 0.0f ? 0.0 : (double)beta * C0[i * N + j];
            C[i * N + j] = alpha * sum + c0;
            mag[i * N + j] = fabs((double)alpha) * abs_sum + fabs(c0);
        }
}

/* Runs nn_mat_mul on random data and compares every element with ref_mul. Tolerance: a float
 * dot product of K terms, in any order or blocking, with or without FMA, is within
 * K·2^-24·Σ|a·b| of exact (the standard γ_K bound); the alpha/beta update adds two more
 * roundings. We allow 2·(K + 2)·FLT_EPSILON·(|alpha|·Σ|a·b| + |beta·c|), four times that
 * bound; a missing or wrong term (|a·b| ~ Σ|a·b|/K) is still 100× larger for K <= 65. */
static void check_mul(int M, int N, int K, bool ta, bool tb, float alpha, float beta,
                      bool nan_c, uint64_t seed)
{
    size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    float *c0 = malloc(nc * sizeof *c0);
    double *want = malloc(nc * sizeof *want), *mag = malloc(nc * sizeof *mag);
    assert_true(a && b && c && c0 && want && mag);
    uint64_t s = seed;
    fill(a, na, &s);
    fill(b, nb, &s);
    fill(c0, nc, &s);
    for (size_t i = 0; nan_c && i < nc; i++)
        c0[i] = NAN;
    memcpy(c, c0, nc * sizeof *c);
    nn_mat A = ta ? nn_mat_wrap(a, K, M) : nn_mat_wrap(a, M, K);
    nn_mat B = tb ? nn_mat_wrap(b, N, K) : nn_mat_wrap(b, K, N);
    nn_mat C = nn_mat_wrap(c, M, N);
    assert_int_equal(nn_mat_mul(&C, &A, ta, &B, tb, alpha, beta), NN_OK);
    ref_mul(want, c0, a, ta, b, tb, M, N, K, alpha, beta, mag);
    for (size_t i = 0; i < nc; i++) {
        double tol = 2.0 * (K + 2) * FLT_EPSILON * mag[i];
        if (!(fabs(c[i] - want[i]) <= tol))
            fail_msg("M=%d N=%d K=%d ta=%d tb=%d alpha=%g beta=%g: C[%zu] = %.9g, want %.9g",
                     M, N, K, ta, tb, alpha, beta, i, c[i], want[i]);
    }
    free(a), free(b), free(c), free(c0), free(want), free(mag);
}

static const int mul_sizes[] = {1, 3, 17, 65};
#define N_SIZES ((int)(sizeof mul_sizes / sizeof mul_sizes[0]))

/* Every (M, N, K) from mul_sizes — square and every non-square mix — for one transpose case. */
static void check_all_sizes(bool ta, bool tb)
{
    uint64_t seed = 1;
    for (int i = 0; i < N_SIZES; i++)
        for (int j = 0; j < N_SIZES; j++)
            for (int k = 0; k < N_SIZES; k++)
                check_mul(mul_sizes[i], mul_sizes[j], mul_sizes[k], ta, tb, 1.0f, 0.0f, false,
                          seed++);
}

static void test_mul_nn(void **state)
{
    (void)state;
    check_all_sizes(false, false);
}

static void test_mul_nt(void **state)
{
    (void)state;
    check_all_sizes(false, true);
}

static void test_mul_tn(void **state)
{
    (void)state;
    check_all_sizes(true, false);
}

static void test_mul_tt(void **state)
{
    (void)state;
    check_all_sizes(true, true);
}

static void test_mul_odd_shapes(void **state)
{
    (void)state;
    /* Sizes around common block widths (4, 6, 8, 16, 32, 64) and long thin products. */
    const int shapes[][3] = {{2, 5, 7}, {7, 2, 5}, {5, 7, 2}, {6, 16, 33}, {13, 31, 64},
                             {1, 100, 1}, {100, 1, 1}, {1, 1, 100}, {9, 129, 8}, {64, 64, 64}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int t = 0; t < 4; t++)
            check_mul(shapes[i][0], shapes[i][1], shapes[i][2], t & 1, t & 2, 1.0f, 0.0f,
                      false, 100 + i);
}

static void test_mul_alpha_beta(void **state)
{
    (void)state;
    const float ab[][2] = {{2.0f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 2.0f}, {0.0f, 1.0f},
                           {0.0f, -3.0f}, {1.5f, -1.0f}};
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++)
        for (int t = 0; t < 4; t++) {
            check_mul(3, 17, 5, t & 1, t & 2, ab[i][0], ab[i][1], false, 200 + i);
            check_mul(65, 17, 65, t & 1, t & 2, ab[i][0], ab[i][1], false, 300 + i);
        }
}

static void test_mul_large_blocks(void **state)
{
    (void)state;
    /* Sizes past the cache blocks a fast kernel cuts M, N and K into (a few hundred): the
     * blocks must chain, the first K block applying beta and the later ones adding to it. */
    for (int t = 0; t < 4; t++) {
        check_mul(100, 130, 300, t & 1, t & 2, 1.0f, 0.0f, true, 500);
        check_mul(97, 129, 520, t & 1, t & 2, -0.5f, 2.0f, false, 501);
    }
}

static void test_mul_alpha_zero_beta_one_leaves_c(void **state)
{
    (void)state;
    float a[6], b[6], c[4], keep[4];
    uint64_t s = 5;
    fill(a, 6, &s);
    fill(b, 6, &s);
    fill(c, 4, &s);
    memcpy(keep, c, sizeof c);
    nn_mat A = nn_mat_wrap(a, 2, 3), B = nn_mat_wrap(b, 3, 2), C = nn_mat_wrap(c, 2, 2);
    assert_int_equal(nn_mat_mul(&C, &A, false, &B, false, 0.0f, 1.0f), NN_OK);
    assert_memory_equal(c, keep, sizeof c);
}

static void test_mul_beta_zero_ignores_nan_in_c(void **state)
{
    (void)state;
    /* With beta == 0, C is only written: NaN in it (0·NaN = NaN) must not reach the result. */
    for (int t = 0; t < 4; t++) {
        check_mul(1, 1, 1, t & 1, t & 2, 1.0f, 0.0f, true, 400);
        check_mul(17, 65, 3, t & 1, t & 2, 1.0f, 0.0f, true, 401);
        check_mul(65, 65, 65, t & 1, t & 2, -2.0f, 0.0f, true, 402);
        check_mul(3, 17, 65, t & 1, t & 2, 0.0f, 0.0f, true, 403); /* C = 0 exactly */
    }
}

static void test_mul_hand_computed(void **state)
{
    (void)state;
    /* [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]; with alpha 2, beta -1, C0 = [1 1; 1 1]:
     * [37 43; 85 99]. Aᵀ·B = [1 3; 2 4]·[5 6; 7 8] = [26 30; 38 44]. */
    float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8}, c[] = {1, 1, 1, 1};
    nn_mat A = nn_mat_wrap(a, 2, 2), B = nn_mat_wrap(b, 2, 2), C = nn_mat_wrap(c, 2, 2);
    assert_int_equal(nn_mat_mul(&C, &A, false, &B, false, 2.0f, -1.0f), NN_OK);
    const float want[] = {37, 43, 85, 99};
    assert_memory_equal(c, want, sizeof c); /* small integers: exact in any order */
    assert_int_equal(nn_mat_mul(&C, &A, true, &B, false, 1.0f, 0.0f), NN_OK);
    const float want_t[] = {26, 30, 38, 44};
    assert_memory_equal(c, want_t, sizeof c);
}

static void test_mul_shape_mismatch(void **state)
{
    (void)state;
    float a[12] = {0}, b[12] = {0}, c[12], keep[12];
    for (int i = 0; i < 12; i++)
        c[i] = keep[i] = (float)i;
    nn_mat A23 = nn_mat_wrap(a, 2, 3), B34 = nn_mat_wrap(b, 3, 4), B43 = nn_mat_wrap(b, 4, 3);
    nn_mat C24 = nn_mat_wrap(c, 2, 4), C34 = nn_mat_wrap(c, 3, 4), C23 = nn_mat_wrap(c, 2, 3);
    nn_mat C42 = nn_mat_wrap(c, 4, 2);
    assert_int_equal(nn_mat_mul(&C24, &A23, false, &B43, false, 1, 0), NN_ERR_SHAPE); /* K */
    assert_int_equal(nn_mat_mul(&C24, &A23, true, &B34, false, 1, 0), NN_ERR_SHAPE);  /* Aᵀ K */
    assert_int_equal(nn_mat_mul(&C24, &A23, false, &B34, true, 1, 0), NN_ERR_SHAPE);  /* Bᵀ K */
    assert_int_equal(nn_mat_mul(&C34, &A23, false, &B34, false, 1, 0), NN_ERR_SHAPE); /* M */
    assert_int_equal(nn_mat_mul(&C23, &A23, false, &B34, false, 1, 0), NN_ERR_SHAPE); /* N */
    assert_int_equal(nn_mat_mul(&C42, &A23, false, &B34, false, 1, 0), NN_ERR_SHAPE); /* Cᵀ */
    assert_memory_equal(c, keep, sizeof c);
    /* The same matrices in a fitting arrangement are accepted. */
    assert_int_equal(nn_mat_mul(&C24, &A23, false, &B43, true, 1, 0), NN_OK);
}

static void test_mul_invalid_matrices(void **state)
{
    (void)state;
    float a[4] = {0}, b[4] = {0}, c[4] = {0};
    nn_mat A = nn_mat_wrap(a, 2, 2), B = nn_mat_wrap(b, 2, 2), C = nn_mat_wrap(c, 2, 2);
    const nn_mat bad[] = {nn_mat_wrap(NULL, 2, 2), nn_mat_wrap(a, 0, 2), nn_mat_wrap(a, 2, 0),
                          nn_mat_wrap(a, -2, 2), nn_mat_wrap(a, 2, -2)};
    assert_int_equal(nn_mat_mul(NULL, &A, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_mul(&C, NULL, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_mul(&C, &A, false, NULL, false, 1, 0), NN_ERR_INVALID_ARG);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_mat x = bad[i];
        assert_int_equal(nn_mat_mul(&x, &A, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
        assert_int_equal(nn_mat_mul(&C, &x, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
        assert_int_equal(nn_mat_mul(&C, &A, false, &x, false, 1, 0), NN_ERR_INVALID_ARG);
    }
}

static void test_mul_overlap_rejected(void **state)
{
    (void)state;
    float buf[16], keep[16];
    for (int i = 0; i < 16; i++)
        buf[i] = keep[i] = (float)i;
    nn_mat A = nn_mat_wrap(buf, 2, 2), B = nn_mat_wrap(buf + 8, 2, 2);
    nn_mat C_same = nn_mat_wrap(buf, 2, 2);      /* C is A */
    nn_mat C_part = nn_mat_wrap(buf + 3, 2, 2);  /* shares A's last element */
    nn_mat C_b = nn_mat_wrap(buf + 6, 2, 2);     /* shares B's first two */
    nn_mat C_free = nn_mat_wrap(buf + 4, 2, 2);  /* between A and B: fine */
    assert_int_equal(nn_mat_mul(&C_same, &A, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_mul(&C_part, &A, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_mul(&C_b, &A, false, &B, false, 1, 0), NN_ERR_INVALID_ARG);
    assert_memory_equal(buf, keep, sizeof buf);
    /* A and B may overlap each other (A·Aᵀ), and C right next to them is not an overlap. */
    assert_int_equal(nn_mat_mul(&C_free, &A, false, &A, true, 1, 0), NN_OK);
    const float want[] = {1, 3, 3, 13}; /* [0 1; 2 3]·[0 2; 1 3] */
    assert_memory_equal(buf + 4, want, sizeof want);
}

/* ------------------------------------------------------ add, scale, argmax */

static void test_add(void **state)
{
    (void)state;
    float y[] = {1, 2, 3, 4, 5, 6}, x[] = {1, -1, 0.5f, 0, 2, -4};
    nn_mat Y = nn_mat_wrap(y, 2, 3), X = nn_mat_wrap(x, 2, 3);
    assert_int_equal(nn_mat_add(&Y, -2.0f, &X), NN_OK);
    const float want[] = {-1, 4, 2, 4, 1, 14}; /* y - 2x, exact in float */
    assert_memory_equal(y, want, sizeof y);
}

static void test_add_errors(void **state)
{
    (void)state;
    float y[6] = {1, 2, 3, 4, 5, 6}, keep[6], x[6] = {0};
    memcpy(keep, y, sizeof y);
    nn_mat Y = nn_mat_wrap(y, 2, 3), X32 = nn_mat_wrap(x, 3, 2), X23 = nn_mat_wrap(x, 2, 3);
    nn_mat empty = nn_mat_wrap(NULL, 2, 3);
    assert_int_equal(nn_mat_add(&Y, 1.0f, &X32), NN_ERR_SHAPE); /* same size, other shape */
    assert_int_equal(nn_mat_add(&Y, 1.0f, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_add(NULL, 1.0f, &X23), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_add(&Y, 1.0f, &empty), NN_ERR_INVALID_ARG);
    assert_memory_equal(y, keep, sizeof y);
}

static void test_scale(void **state)
{
    (void)state;
    float x[] = {1, -2, 0.25f, 8};
    nn_mat X = nn_mat_wrap(x, 4, 1);
    assert_int_equal(nn_mat_scale(&X, -0.5f), NN_OK);
    const float want[] = {-0.5f, 1, -0.125f, -4};
    assert_memory_equal(x, want, sizeof x);
    assert_int_equal(nn_mat_scale(NULL, 2.0f), NN_ERR_INVALID_ARG);
    nn_mat zero = nn_mat_wrap(x, 0, 4);
    assert_int_equal(nn_mat_scale(&zero, 2.0f), NN_ERR_INVALID_ARG);
    assert_memory_equal(x, want, sizeof x);
}

static void test_argmax(void **state)
{
    (void)state;
    /* Row 0: max last. Row 1: tie between columns 1 and 3 → 1. Row 2: all equal → 0.
     * Row 3: all negative, max -0.5 at column 2. */
    float x[] = {0, 1, 2, 3,
                 1, 5, -1, 5,
                 7, 7, 7, 7,
                 -3, -2, -0.5f, -1};
    int index[4] = {-1, -1, -1, -1};
    nn_mat X = nn_mat_wrap(x, 4, 4);
    assert_int_equal(nn_mat_argmax(&X, index), NN_OK);
    const int want[] = {3, 1, 0, 2};
    assert_memory_equal(index, want, sizeof index);
}

static void test_argmax_single_column_and_errors(void **state)
{
    (void)state;
    float x[] = {-1, 2, 0};
    int index[3] = {9, 9, 9};
    nn_mat X = nn_mat_wrap(x, 3, 1);
    assert_int_equal(nn_mat_argmax(&X, index), NN_OK);
    assert_true(index[0] == 0 && index[1] == 0 && index[2] == 0);
    assert_int_equal(nn_mat_argmax(&X, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_argmax(NULL, index), NN_ERR_INVALID_ARG);
    nn_mat empty = nn_mat_wrap(NULL, 3, 1);
    assert_int_equal(nn_mat_argmax(&empty, index), NN_ERR_INVALID_ARG);
}

/* ---------------------------------------------------------- status, version */

static void test_status_messages_distinct(void **state)
{
    (void)state;
#define STATUS_CODE_(name, code, msg) name,
    const nn_status codes[] = {NN_STATUS_LIST(STATUS_CODE_)};
#undef STATUS_CODE_
#define STATUS_MSG_(name, code, msg) msg,
    const char *const listed[] = {NN_STATUS_LIST(STATUS_MSG_)};
#undef STATUS_MSG_
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *m = nn_status_message(codes[i]);
        assert_non_null(m);
        assert_true(m[0] != '\0');
        assert_string_equal(m, listed[i]); /* the message the list gives it */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m, nn_status_message(codes[j]));
    }
}

static void test_status_message_unknown_code(void **state)
{
    (void)state;
    const int unknown[] = {-1, 11, 99, 1 << 20};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *m = nn_status_message((nn_status)unknown[i]);
        assert_non_null(m);
        assert_true(m[0] != '\0');
        assert_string_not_equal(m, nn_status_message(NN_OK)); /* not "success" */
    }
}

static void test_version(void **state)
{
    (void)state;
    assert_non_null(nn_version());
    assert_string_equal(nn_version(), NN_VERSION_STRING);
    char macro[32];
    snprintf(macro, sizeof macro, "%d.%d.%d", NN_VERSION_MAJOR, NN_VERSION_MINOR,
             NN_VERSION_PATCH);
    assert_string_equal(NN_VERSION_STRING, macro);
}

/* An allocator that hands out poisoned blocks and counts those that are live. */
static void *poisoning_alloc(void *user, void *ptr, size_t osize, size_t nsize)
{
    long *live = user;
    (void)osize;
    if (nsize == 0) {
        *live -= ptr != NULL;
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p && !ptr) {
        ++*live;
        memset(p, 0xA5, nsize);
    }
    return p;
}

static void test_alloc_with_the_callers_allocator(void **state)
{
    (void)state;
    long live = 0;
    nn_mat m;
    assert_int_equal(nn_mat_alloc_with(&m, 3, 5, poisoning_alloc, &live), NN_OK);
    assert_int_equal(live, 1);
    assert_int_equal(m.rows, 3);
    assert_int_equal(m.cols, 5);
    for (int i = 0; i < 15; i++)
        assert_true(m.data[i] == 0.0f); /* zero-filled over the poison */
    nn_mat_free_with(&m, poisoning_alloc, &live);
    assert_int_equal(live, 0);
    assert_null(m.data);
    assert_int_equal(m.rows, 0);
    assert_int_equal(nn_mat_alloc_with(&m, 0, 5, poisoning_alloc, &live), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_alloc_with(NULL, 1, 5, poisoning_alloc, &live), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_mat_alloc_with(&m, INT_MAX, INT_MAX, poisoning_alloc, &live), NN_ERR_NOMEM);
    assert_int_equal(live, 0);
    /* No allocator: the C library's, which nn_mat_free frees too. */
    assert_int_equal(nn_mat_alloc_with(&m, 2, 2, NULL, NULL), NN_OK);
    assert_true(m.data[3] == 0.0f);
    nn_mat_free_with(&m, NULL, NULL);
    assert_null(m.data);
    nn_mat_free_with(NULL, poisoning_alloc, &live);
}

int main(void)
{
    const struct CMUnitTest storage[] = {
        cmocka_unit_test(test_wrap_views_caller_memory),
        cmocka_unit_test(test_alloc_zero_fills_and_free_clears),
        cmocka_unit_test(test_alloc_rejects_bad_sizes),
        cmocka_unit_test(test_alloc_with_the_callers_allocator),
    };
    const struct CMUnitTest mul[] = {
        cmocka_unit_test(test_mul_nn),
        cmocka_unit_test(test_mul_nt),
        cmocka_unit_test(test_mul_tn),
        cmocka_unit_test(test_mul_tt),
        cmocka_unit_test(test_mul_odd_shapes),
        cmocka_unit_test(test_mul_alpha_beta),
        cmocka_unit_test(test_mul_large_blocks),
        cmocka_unit_test(test_mul_alpha_zero_beta_one_leaves_c),
        cmocka_unit_test(test_mul_beta_zero_ignores_nan_in_c),
        cmocka_unit_test(test_mul_hand_computed),
        cmocka_unit_test(test_mul_shape_mismatch),
        cmocka_unit_test(test_mul_invalid_matrices),
        cmocka_unit_test(test_mul_overlap_rejected),
    };
    const struct CMUnitTest elementwise[] = {
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_add_errors),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_argmax),
        cmocka_unit_test(test_argmax_single_column_and_errors),
    };
    const struct CMUnitTest status[] = {
        cmocka_unit_test(test_status_messages_distinct),
        cmocka_unit_test(test_status_message_unknown_code),
        cmocka_unit_test(test_version),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("mat storage", storage, NULL, NULL);
    failed += cmocka_run_group_tests_name("mat mul", mul, NULL, NULL);
    failed += cmocka_run_group_tests_name("mat element-wise", elementwise, NULL, NULL);
    failed += cmocka_run_group_tests_name("status and version", status, NULL, NULL);
    return failed != 0;
}
