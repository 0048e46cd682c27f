/* The examples' PNG writer (examples/common/png.h), checked by independent means:
 * - its deflate streams are inflated by the library's inflate (src/data/inflate.c, the gzip
 *   reader) back to the bytes given, and the smallest ones equal streams coded by hand;
 * - its files are read chunk by chunk (CRCs by the library's CRC-32), inflated, and their
 *   filters undone by the decoder below, written from the PNG specification, to the pixels;
 * - the checksums match published check values.
 * CI also decodes a real spiral.png with Python's zlib (.ci/steps/40-data.sh). */
#include "nn_internal.h"
#include "test_util.h"

#include "../examples/common/chart.h"
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

/* The raw deflate stream z must inflate to exactly in[0..n), using all of z. */
static void assert_inflates_to(const uint8_t *z, size_t z_len, const uint8_t *in, size_t n)
{
    uint8_t *out = malloc(n + 1); /* one byte more: a stream that writes too much shows */
    size_t used = 0, out_len = 0;
    const char *why = NULL;
    assert_int_equal(nn__inflate(z, z_len, out, n + 1, &used, &out_len, &why, NULL, NULL), NN_OK);
    assert_int_equal(out_len, n);
    assert_int_equal(used, z_len);
    assert_memory_equal(out, in, n);
    free(out);
}

/* Deflates in[0..n) both ways, png_deflate's choice and the fixed-code block alone (which
 * png_deflate drops when stored blocks are smaller), and inflates both back. Returns the
 * length of png_deflate's stream; *fixed_len is the fixed block's. */
static size_t round_trip(const uint8_t *in, size_t n, size_t *fixed_len)
{
    uint8_t *z = NULL;
    size_t z_len = 0;
    assert_int_equal(png_deflate(in, n, &z, &z_len), 0);
    assert_inflates_to(z, z_len, in, n);

    png_lz77 *lz = malloc(sizeof *lz);
    uint8_t *fixed = malloc(png_fixed_bound(n)); /* exactly the bound: ASan sees an overrun */
    size_t f_len = png_deflate_fixed(in, n, fixed, lz);
    assert_true(f_len <= png_fixed_bound(n));
    assert_int_equal(fixed[0] & 7, 1 | 1 << 1); /* BFINAL, BTYPE 01 */
    assert_inflates_to(fixed, f_len, in, n);
    /* png_deflate keeps the fixed block unless stored blocks are smaller. */
    assert_int_equal(z_len, f_len < png_stored_size(n) ? f_len : png_stored_size(n));
    if (fixed_len)
        *fixed_len = f_len;
    free(fixed);
    free(lz);
    free(z);
    return z_len;
}

static void random_bytes(uint8_t *p, size_t n, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)nn_rng_next(&rng);
}

/* Streams small enough to code by hand from RFC 1951 3.2.6 (bits listed in the order they
 * are sent, each byte filled from its lowest bit); Python's zlib.decompress(s, -15) agrees. */
static void test_deflate_hand_coded(void **state)
{
    (void)state;
    /* Empty: BFINAL 1, BTYPE 01 (sent 1, 0), end of block 0000000: 1 1 0 0000000. */
    const uint8_t empty[] = {0x03, 0x00};
    /* "a": 1 1 0, 'a' = 97 -> 0x30 + 97 = 10010001, end 0000000 -> 4b 04 00. */
    const uint8_t a[] = {0x4b, 0x04, 0x00};
    /* "aaaa": 1 1 0, 10010001 ('a'), 0000001 (length 3: symbol 257), 00000 (distance 1:
     * code 0), 0000000 (end) -> 4b 04 02 00. */
    const uint8_t aaaa[] = {0x4b, 0x04, 0x02, 0x00};
    const struct {
        const char *text;
        const uint8_t *stream;
        size_t len;
    } cases[] = {{"", empty, 2}, {"a", a, 3}, {"aaaa", aaaa, 4}};
    for (int i = 0; i < 3; i++) {
        uint8_t *z = NULL;
        size_t z_len = 0, n = strlen(cases[i].text);
        assert_int_equal(png_deflate((const uint8_t *)cases[i].text, n, &z, &z_len), 0);
        assert_int_equal(z_len, cases[i].len);
        assert_memory_equal(z, cases[i].stream, z_len);
        free(z);
    }
}

/* Buffers of every kind, each inflated back; the compressible ones must shrink as much as
 * the code allows, the incompressible one must go into stored blocks. */
static void test_deflate_round_trip(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint8_t *buf = malloc(N);
    size_t fixed_len = 0;

    random_bytes(buf, N, 1);
    assert_int_equal(round_trip(buf, N, &fixed_len), png_stored_size(N));
    assert_true(fixed_len > png_stored_size(N)); /* random bytes do not shrink */
    for (size_t n = 1; n <= 5; n++) /* tiny inputs */
        round_trip(buf, n, NULL);

    /* One byte repeated: a literal, then matches of 258 at distance 1, 13 bits each. */
    memset(buf, 'x', N);
    assert_true(round_trip(buf, N, NULL) < N / 258 * 13 / 8 + 16);

    /* A period of 7 bytes, and a sentence repeated with a changing number in it. */
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)("abcdefg"[i % 7]);
    assert_true(round_trip(buf, N, NULL) < 1000);
    size_t at = 0;
    for (int k = 0; at + 64 < N; k++)
        at += (size_t)snprintf((char *)buf + at, 64, "the %d-th line of a log file\n", k * 37);
    assert_true(round_trip(buf, at, NULL) < at / 3);

    /* Half random, half runs: both codes' literals and matches in one stream. */
    random_bytes(buf, N, 2);
    for (size_t i = 0; i < N; i += 1000)
        memset(buf + i, buf[i], 500);
    round_trip(buf, N, NULL);
    free(buf);
}

/* Every match length (3-258) and distances at both ends of every distance code, each coded
 * and inflated back. A random prefix; then for each length L a copy of the L bytes from
 * 1000 back, ended by a byte unlike the one that follows them there; then for each
 * distance d a copy of 20 bytes from d back, ended likewise. */
static void test_deflate_lengths_and_distances(void **state)
{
    (void)state;
    static const int dist_base[30] = {1,    2,    3,    4,    5,    7,    9,     13,
                                      17,   25,   33,   49,   65,   97,   129,   193,
                                      257,  385,  513,  769,  1025, 1537, 2049,  3073,
                                      4097, 6145, 8193, 12289, 16385, 24577};
    enum { PREFIX = 40000, CAP = 200000 };
    uint8_t *buf = malloc(CAP);
    random_bytes(buf, PREFIX, 3);
    size_t n = PREFIX;
    for (int len = 3; len <= 258; len++) {
        memcpy(buf + n, buf + n - 1000, (size_t)len);
        buf[n + (size_t)len] = (uint8_t)(buf[n - 1000 + (size_t)len] ^ 0x55);
        n += (size_t)len + 1;
    }
    for (int d = 0; d < 30; d++) {
        int last = d == 29 ? 32768 : dist_base[d + 1] - 1;
        for (int k = 0; k < 2; k++) {
            size_t back = (size_t)(k == 0 ? dist_base[d] : last);
            for (int i = 0; i < 20; i++, n++)
                buf[n] = buf[n - back]; /* byte by byte: a copy may overlap itself */
            buf[n] = (uint8_t)(buf[n - back] ^ 0x55);
            n++;
        }
    }
    size_t fixed_len = 0;
    round_trip(buf, n, &fixed_len);
    /* The copies (about 35,000 bytes) cost a few bits a byte, not eight or nine. */
    assert_true(fixed_len < (size_t)PREFIX * 9 / 8 + 3000);
    free(buf);
}

/* Matches reach exactly 32768 bytes back, the window's edge, and no farther. */
static void test_deflate_window_edge(void **state)
{
    (void)state;
    enum { W = 32768 };
    uint8_t *buf = malloc(2 * W + 1);
    size_t fixed_len = 0;
    random_bytes(buf, W, 4);
    memcpy(buf + W, buf, W); /* the second half is the first, 32768 bytes back */
    round_trip(buf, 2 * W, &fixed_len);
    assert_true(fixed_len < (size_t)W * 9 / 8 + 400);

    random_bytes(buf, W + 1, 5);
    memcpy(buf + W + 1, buf, W - 1); /* 32769 bytes back: out of reach, coded as literals */
    round_trip(buf, 2 * W, &fixed_len);
    assert_true(fixed_len > 2 * W); /* 8.44 bits a byte, as random bytes are */
    free(buf);
}

/* The worst case of the fixed code: bytes 144-255 (nine bits each) and no repeats. */
static void test_deflate_bound(void **state)
{
    (void)state;
    enum { N = 50000 };
    uint8_t *buf = malloc(N);
    random_bytes(buf, N, 6);
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)(144 + buf[i] % 112);
    size_t fixed_len = 0;
    round_trip(buf, N, &fixed_len);
    assert_true(fixed_len > png_fixed_bound(N) - 1000); /* near the bound, and within it */
    free(buf);
}

/* ---- PNG files --------------------------------------------------------------------------- */

/* PNG's filters undone (specification 9.2-9.4): each byte plus the prediction of its
 * filter type from the reconstructed left (a), above (b) and upper-left (c) bytes. */
static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

static void unfilter(const uint8_t *raw, int w, int h, uint8_t *rgb, int used[5])
{
    size_t stride = 3 * (size_t)w;
    for (int y = 0; y < h; y++) {
        const uint8_t *in = raw + (size_t)y * (stride + 1) + 1;
        uint8_t *out = rgb + (size_t)y * stride;
        const uint8_t *up = y > 0 ? out - stride : NULL;
        int type = in[-1];
        assert_in_range(type, 0, 4);
        used[type]++;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= 3 ? out[x - 3] : 0, b = up ? up[x] : 0, c = up && x >= 3 ? up[x - 3] : 0;
            int prediction = type == 0 ? 0 : type == 1 ? a : type == 2 ? b
                             : type == 3 ? (a + b) >> 1 : paeth(a, b, c);
            out[x] = (uint8_t)(in[x] + prediction);
        }
    }
}

/* Decodes png (as png_encode writes it) back into pixels, checking everything on the way,
 * and counts the filter types its rows use into used[]. */
static void check_png(const uint8_t *png, size_t len, const uint8_t *rgb, int w, int h,
                      int used[5])
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
    size_t row = 1 + 3 * (size_t)w, raw_len = row * h, used_in = 0, out_len = 0;
    uint8_t *raw = malloc(raw_len), *pixels = malloc(raw_len);
    assert_int_equal(nn__inflate(idat + 2, idat_len - 2, raw, raw_len, &used_in, &out_len, NULL, NULL, NULL),
                     NN_OK);
    assert_int_equal(out_len, raw_len);
    assert_int_equal(used_in, idat_len - 2 - 4); /* the Adler-32 follows the deflate stream */
    assert_int_equal(get32(idat + idat_len - 4), adler32_definition(raw, raw_len));
    unfilter(raw, w, h, pixels, used);
    assert_memory_equal(pixels, rgb, 3 * (size_t)w * h);
    free(pixels);
    free(raw);
    free(idat);
}

/* Encodes rgb, checks the file, returns its length; filter types used are added to used[]. */
static size_t encode_and_check(const uint8_t *rgb, int w, int h, int used[5])
{
    uint8_t *png = NULL;
    size_t len = 0;
    assert_int_equal(png_encode(rgb, w, h, &png, &len), 0);
    check_png(png, len, rgb, w, h, used);
    free(png);
    return len;
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

/* A chart like the spiral example's: flat regions, a smooth band, dots, axes and a legend. */
static uint8_t *chart_picture(int w, int h)
{
    static const uint8_t blue[3] = {198, 219, 239}, dark[3] = {33, 102, 172};
    uint8_t *rgb = malloc((size_t)w * h * 3);
    chart_image img = {rgb, w, h};
    memset(rgb, 255, (size_t)w * h * 3);
    for (int y = 50; y < h - 70; y++)
        for (int x = 90; x < w - 20; x++) {
            uint8_t c[3];
            for (int k = 0; k < 3; k++)
                c[k] = (uint8_t)(blue[k] + (255 - blue[k]) * ((x + y) % 97) / 97);
            chart_image_fill(&img, x, y, 1, 1, c);
        }
    for (int i = 0; i < 60; i++)
        chart_image_dot(&img, 100 + (i * 37) % (w - 130), 60 + (i * 53) % (h - 140), dark);
    chart_image_plot p = {.left = 90, .top = 50, .width = w - 110, .height = h - 120,
                          .x0 = -1.2, .x1 = 1.2, .y0 = 0, .y1 = 10, .title = "a title",
                          .x_label = "x", .y_label = "y"};
    chart_image_axes(&img, &p);
    chart_key key = {"point", dark, CHART_KEY_DOT};
    chart_image_legend(&img, w - 150, 60, &key, 1);
    return rgb;
}

static void test_png_round_trip(void **state)
{
    (void)state;
    int used[5] = {0};
    /* One pixel; a small odd-sized image; one whose data is more than a stored block's
     * 65535 bytes; one row of 65536 bytes; one column of 771 rows. */
    const int sizes[][2] = {{1, 1}, {37, 23}, {200, 150}, {21845, 1}, {1, 771}};
    for (int k = 0; k < 5; k++) {
        uint8_t *rgb = gradient(sizes[k][0], sizes[k][1]);
        encode_and_check(rgb, sizes[k][0], sizes[k][1], used);
        free(rgb);
    }
    uint8_t *noise = malloc(64 * 64 * 3);
    random_bytes(noise, 64 * 64 * 3, 7);
    size_t len = encode_and_check(noise, 64, 64, used);
    assert_true(len < 64 * 64 * 3 + 65 + 100); /* stored blocks: no worse than raw */
    free(noise);

    uint8_t *chart = chart_picture(400, 300);
    len = encode_and_check(chart, 400, 300, used);
    assert_true(len < 400 * 300 * 3 / 10); /* at least ten times smaller than the pixels */
    free(chart);
    /* These images between them use every filter type, so every one was undone above. */
    for (int t = 0; t < 5; t++)
        assert_true(used[t] > 0);
}

/* The filter chosen where the answer is plain.
 * Ramps: each byte one more than the same byte of the pixel to its left, from 0 on even
 * rows and 100 on odd ones. Sub leaves the first pixel and then ones; Paeth (predicting
 * from the left, since rows differ by more than 1) the same except the first pixel, 100
 * off, never less; Up, Average and None leave about 50 a byte or more. Sub wins or ties, and
 * a tie goes to the lower type.
 * Repeated rows: after the first, Up leaves zeros; only Paeth ties (it predicts from above
 * when left and above-left are equal), and Up is the lower type. */
static void test_png_filter_choice(void **state)
{
    (void)state;
    enum { W = 50, H = 20 };
    uint8_t rgb[H][W][3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int k = 0; k < 3; k++)
                rgb[y][x][k] = (uint8_t)((y % 2) * 100 + x);
    int used[5] = {0};
    encode_and_check(&rgb[0][0][0], W, H, used);
    assert_int_equal(used[1], H);

    random_bytes(&rgb[0][0][0], 3 * W, 9);
    for (int y = 1; y < H; y++)
        memcpy(rgb[y], rgb[0], sizeof rgb[0]);
    memset(used, 0, sizeof used);
    encode_and_check(&rgb[0][0][0], W, H, used);
    assert_int_equal(used[2], H - 1); /* the first row has no row above to repeat */
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
    assert_int_equal(png_deflate(NULL, 1, &png, &len), -1);
    assert_null(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deflate_hand_coded),
        cmocka_unit_test(test_deflate_round_trip),
        cmocka_unit_test(test_deflate_lengths_and_distances),
        cmocka_unit_test(test_deflate_window_edge),
        cmocka_unit_test(test_deflate_bound),
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_png_filter_choice),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_png_bad_sizes),
    };
    return cmocka_run_group_tests_name("PNG writer", tests, NULL, NULL);
}
