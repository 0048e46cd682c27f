/* The examples' PNG writer (examples/common/png.h): the signature, every chunk's CRC (checked
 * with the library's CRC-32, itself checked against gzip files), the header fields, and the
 * image data decoded back by the library's inflate, with its Adler-32 computed here. */
#include "nn_internal.h"
#include "test_util.h"

#include "../examples/common/png.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Adler-32 from its definition (RFC 1950 8.2), in 64-bit sums reduced once at the end. */
static uint32_t adler32_definition(const uint8_t *p, size_t n)
{
    uint64_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += p[i];
        b += a;
    }
    return (uint32_t)((b % 65521) << 16 | (a % 65521));
}

/* Decodes png (as png_encode writes it) back into pixels, checking everything on the way. */
static void check_png(const uint8_t *png, size_t len, const uint8_t *rgb, int w, int h)
{
    assert_true(len > 8);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    size_t at = 8, idat_len = 0;
    uint8_t *idat = NULL;
    int chunk = 0;
    bool ended = false;
    while (at < len) {
        assert_false(ended); /* nothing after IEND */
        assert_true(len - at >= 12);
        uint32_t n = get32(png + at);
        assert_true(n <= len - at - 12);
        const uint8_t *type = png + at + 4, *data = png + at + 8;
        assert_int_equal(get32(data + n), nn__crc32(0, type, 4 + (size_t)n));
        if (chunk == 0) {
            assert_memory_equal(type, "IHDR", 4);
            assert_int_equal(n, 13);
            assert_int_equal(get32(data), w);
            assert_int_equal(get32(data + 4), h);
            const uint8_t rest[5] = {8, 2, 0, 0, 0}; /* 8-bit RGB, deflate, no interlace */
            assert_memory_equal(data + 8, rest, 5);
        } else if (memcmp(type, "IDAT", 4) == 0) {
            idat = realloc(idat, idat_len + n);
            memcpy(idat + idat_len, data, n);
            idat_len += n;
        } else {
            assert_memory_equal(type, "IEND", 4);
            assert_int_equal(n, 0);
            ended = true;
        }
        at += 12 + (size_t)n;
        chunk++;
    }
    assert_true(ended);
    /* zlib: CM 8 (deflate), a window of at most 32 KB, no dictionary, a valid check. */
    assert_true(idat_len >= 6);
    assert_int_equal(idat[0] & 0x0f, 8);
    assert_true((idat[0] >> 4) <= 7);
    assert_int_equal(idat[1] & 0x20, 0);
    assert_int_equal((idat[0] * 256 + idat[1]) % 31, 0);
    size_t row = 1 + 3 * (size_t)w, raw_len = row * h, used = 0, out_len = 0;
    uint8_t *raw = malloc(raw_len);
    assert_int_equal(nn__inflate(idat + 2, idat_len - 2, raw, raw_len, &used, &out_len, NULL),
                     NN_OK);
    assert_int_equal(out_len, raw_len);
    assert_int_equal(used, idat_len - 2 - 4); /* the Adler-32 follows the deflate stream */
    assert_int_equal(get32(idat + idat_len - 4), adler32_definition(raw, raw_len));
    for (int y = 0; y < h; y++) {
        assert_int_equal(raw[y * row], 0); /* filter type: none */
        assert_memory_equal(raw + y * row + 1, rgb + (size_t)y * 3 * w, 3 * (size_t)w);
    }
    free(raw);
    free(idat);
}

static uint8_t *gradient(int w, int h)
{
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + 3 * ((size_t)y * w + x);
            p[0] = (uint8_t)(255 * x / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(255 * y / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)((x * 7 + y * 13) & 0xff);
        }
    return rgb;
}

static void test_png_round_trip(void **state)
{
    (void)state;
    /* One pixel; a small odd-sized image; one whose data needs two stored blocks (rows of
     * 601 bytes, 150 of them: 90150 > 65535); one that fills a block exactly (771 rows of 85
     * bytes: 65535); and one a byte over (one row of 65536 bytes). */
    const int sizes[][2] = {{1, 1}, {37, 23}, {200, 150}, {28, 771}, {21845, 1}};
    for (int k = 0; k < 5; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        uint8_t *rgb = gradient(w, h), *png = NULL;
        size_t len = 0;
        assert_int_equal(png_encode(rgb, w, h, &png, &len), 0);
        check_png(png, len, rgb, w, h);
        free(png);
        free(rgb);
    }
}

/* The checksums against published check values: CRC-32 and Adler-32 of "123456789" and of
 * "Wikipedia" (0x11E60398, the example of Adler-32's usual description). */
static void test_checksums(void **state)
{
    (void)state;
    const uint8_t *digits = (const uint8_t *)"123456789", *wiki = (const uint8_t *)"Wikipedia";
    assert_int_equal(png_crc32(0, digits, 9), 0xcbf43926u);
    assert_int_equal(png_adler32(1, wiki, 9), 0x11e60398u);
    assert_int_equal(png_adler32(1, digits, 9), adler32_definition(digits, 9));
    uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(255 - i % 7);
    assert_int_equal(png_adler32(1, big, sizeof big), adler32_definition(big, sizeof big));
}

static void test_png_bad_sizes(void **state)
{
    (void)state;
    uint8_t px[3] = {0}, *png = NULL;
    size_t len = 0;
    assert_int_equal(png_encode(px, 0, 1, &png, &len), -1);
    assert_int_equal(png_encode(px, 1, -1, &png, &len), -1);
    assert_int_equal(png_encode(NULL, 1, 1, &png, &len), -1);
    assert_null(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_png_bad_sizes),
    };
    return cmocka_run_group_tests_name("PNG writer", tests, NULL, NULL);
}
