/* A small PNG writer for the examples: 8-bit RGB, each row filtered (PNG's five filter
 * types, the one chosen per row that leaves the smallest differences), and the rows
 * compressed by a deflate of our own: LZ77 matches found through hash chains, coded with
 * deflate's fixed Huffman codes. Data that will not shrink is kept in stored blocks instead.
 * Formats: the PNG specification (ISO/IEC 15948, chapters 9 and 10 on filters and
 * compression), RFC 1950 (zlib) and RFC 1951 (deflate: 3.2.4 stored blocks, 3.2.5 and 3.2.6
 * the fixed codes).
 *
 *     uint8_t rgb[H][W][3];  ...  png_write("out.png", &rgb[0][0][0], W, H);
 *
 * The deflate stream alone: png_deflate(bytes, n, &stream, &stream_len).
 */
#ifndef NN_EXAMPLES_PNG_H
#define NN_EXAMPLES_PNG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CRC-32 of PNG chunks (and gzip), bit by bit: slow, short, and fast enough for one image. */
static inline uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

/* Adler-32, the checksum that ends a zlib stream: two sums modulo 65521. */
static inline uint32_t png_adler32(uint32_t adler, const uint8_t *p, size_t n)
{
    uint32_t a = adler & 0xffff, b = adler >> 16;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

static inline uint8_t *png_put32(uint8_t *p, uint32_t v) /* big-endian, as PNG wants */
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* ---- Deflate (RFC 1951) ------------------------------------------------------------------ */

enum {
    PNG_WINDOW = 1 << 15,     /* how far back a match may start: deflate's 32 KiB */
    PNG_HASH_BITS = 15,       /* chains are kept per hash of a match's first 3 bytes */
    PNG_MIN_MATCH = 3,
    PNG_MAX_MATCH = 258,
    PNG_MAX_CHAIN = 128,      /* candidates tried per position: more is slower, barely smaller */
    PNG_MAX_STORED = 65535,   /* the most bytes one stored block holds */
    PNG_MAX_INPUT = 1 << 30,  /* positions fit an int32_t, and nobody needs more here */
};

/* Bits go out least significant first, filling each byte from its lowest bit (RFC 1951 3.1.1). */
typedef struct png_bits {
    uint8_t *p;   /* the next byte to write */
    uint32_t acc; /* bits not yet written, the first in bit 0 */
    int n;        /* how many */
} png_bits;

static inline void png_put_bits(png_bits *w, uint32_t value, int count) /* count <= 24 */
{
    w->acc |= value << w->n;
    for (w->n += count; w->n >= 8; w->n -= 8, w->acc >>= 8)
        *w->p++ = (uint8_t)w->acc;
}

/* Pads the last byte with zero bits. */
static inline void png_flush_bits(png_bits *w)
{
    if (w->n > 0)
        *w->p++ = (uint8_t)w->acc;
    w->acc = 0, w->n = 0;
}

/* A Huffman code is sent from its most significant bit, unlike everything else. */
static inline void png_put_code(png_bits *w, uint32_t code, int length)
{
    uint32_t reversed = 0;
    for (int i = 0; i < length; i++)
        reversed |= (code >> i & 1) << (length - 1 - i);
    png_put_bits(w, reversed, length);
}

/* A literal/length symbol (0-255 a byte, 256 the end of the block, 257-285 a length) in the
 * fixed code of RFC 1951 3.2.6. */
static inline void png_put_symbol(png_bits *w, int symbol)
{
    if (symbol < 144)
        png_put_code(w, 0x30 + (uint32_t)symbol, 8);
    else if (symbol < 256)
        png_put_code(w, 0x190 + (uint32_t)(symbol - 144), 9);
    else if (symbol < 280)
        png_put_code(w, (uint32_t)(symbol - 256), 7);
    else
        png_put_code(w, 0xc0 + (uint32_t)(symbol - 280), 8);
}

/* A match: its length (3-258) as symbols 257-285 and its distance (1-32768) as codes 0-29
 * (five bits each in the fixed code), each code followed by extra bits that pick the exact
 * value from the code's range (RFC 1951 3.2.5). */
static inline void png_put_match(png_bits *w, int length, int distance)
{
    static const uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                          15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                          67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                          2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,
                                           17,   25,   33,   49,   65,   97,    129,   193,
                                           257,  385,  513,  769,  1025, 1537,  2049,  3073,
                                           4097, 6145, 8193, 12289, 16385, 24577};
    int l = 28, d = 29;
    while (len_base[l] > length)
        l--;
    while (dist_base[d] > distance)
        d--;
    png_put_symbol(w, 257 + l);
    png_put_bits(w, (uint32_t)(length - len_base[l]), len_extra[l]);
    png_put_code(w, (uint32_t)d, 5);
    png_put_bits(w, (uint32_t)(distance - dist_base[d]), d < 4 ? 0 : d / 2 - 1);
}

/* Which chain the position whose first 3 bytes are at p belongs to: a 15-bit hash of them. */
static inline uint32_t png_hash(const uint8_t *p)
{
    uint32_t three = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return three * 2654435761u >> (32 - PNG_HASH_BITS); /* Knuth's multiplicative hash */
}

/* How many bytes a and b have in common from their start, up to max. */
static inline int png_common(const uint8_t *a, const uint8_t *b, int max)
{
    int n = 0;
    while (n < max && a[n] == b[n])
        n++;
    return n;
}

/* LZ77 with hash chains. head[h] is the latest position whose 3 bytes hash to h, and
 * prev[i % PNG_WINDOW] the one before i with the same hash (-1: none). A position's link is
 * overwritten PNG_WINDOW positions later, when it has left the window, so following links
 * from a position inside the window never reads a stale one. */
typedef struct png_lz77 {
    const uint8_t *in;
    int32_t n;
    int32_t head[1 << PNG_HASH_BITS];
    int32_t prev[PNG_WINDOW];
} png_lz77;

static inline void png_insert(png_lz77 *z, int32_t i)
{
    if (z->n - i < PNG_MIN_MATCH)
        return;
    uint32_t h = png_hash(z->in + i);
    z->prev[i % PNG_WINDOW] = z->head[h];
    z->head[h] = i;
}

/* The longest earlier match of the bytes at i, within the window and the first
 * PNG_MAX_CHAIN candidates; its length (0 if under 3) and distance. */
static inline int png_longest(const png_lz77 *z, int32_t i, int *distance)
{
    int best = 0, max = z->n - i < PNG_MAX_MATCH ? (int)(z->n - i) : PNG_MAX_MATCH;
    if (max < PNG_MIN_MATCH)
        return 0;
    int32_t c = z->head[png_hash(z->in + i)];
    for (int tries = 0; c >= 0 && i - c <= PNG_WINDOW && tries < PNG_MAX_CHAIN; tries++) {
        int n = png_common(z->in + c, z->in + i, max);
        if (n > best) {
            best = n, *distance = (int)(i - c);
            if (n == max)
                break;
        }
        c = z->prev[c % PNG_WINDOW];
    }
    return best >= PNG_MIN_MATCH ? best : 0;
}

/* The bytes png_deflate_fixed may write for n bytes: nine bits per byte at worst (a literal
 * over 143; a match costs less per byte), three for the block header, seven to end it. */
static inline size_t png_fixed_bound(size_t n)
{
    return n + n / 8 + 3;
}

/* One block with the fixed codes (BTYPE 01) holding in[0..n), n <= PNG_MAX_INPUT: matches
 * where there are some, literal bytes elsewhere. z is the matcher's state, set up here.
 * Returns the bytes written to out. */
static inline size_t png_deflate_fixed(const uint8_t *in, size_t n, uint8_t *out, png_lz77 *z)
{
    z->in = in, z->n = (int32_t)n;
    memset(z->head, 0xff, sizeof z->head); /* every chain empty: -1 */
    png_bits w = {.p = out};
    png_put_bits(&w, 1 | 1 << 1, 3); /* BFINAL 1, BTYPE 01 */
    for (int32_t i = 0; i < z->n;) {
        int distance = 0, length = png_longest(z, i, &distance);
        png_insert(z, i);
        /* Lazy matching (RFC 1951 4): if the match one byte on is longer, this byte goes
         * out as a literal and that match is taken instead, and so on. */
        while (length > 0 && i + 1 < z->n) {
            int next_distance = 0, next = png_longest(z, i + 1, &next_distance);
            if (next <= length)
                break;
            png_put_symbol(&w, z->in[i]);
            png_insert(z, ++i);
            length = next, distance = next_distance;
        }
        if (length == 0) {
            png_put_symbol(&w, z->in[i++]);
            continue;
        }
        png_put_match(&w, length, distance);
        for (int k = 1; k < length; k++)
            png_insert(z, i + k);
        i += length;
    }
    png_put_symbol(&w, 256); /* end of block */
    png_flush_bits(&w);
    return (size_t)(w.p - out);
}

/* The bytes of stored blocks (BTYPE 00) holding n bytes: one block per 65535, one if n = 0. */
static inline size_t png_stored_size(size_t n)
{
    size_t blocks = n == 0 ? 1 : (n + PNG_MAX_STORED - 1) / PNG_MAX_STORED;
    return n + 5 * blocks;
}

static inline size_t png_deflate_stored(const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t *q = out;
    size_t at = 0;
    do {
        size_t k = n - at < PNG_MAX_STORED ? n - at : PNG_MAX_STORED;
        *q++ = at + k == n; /* BFINAL on the last, BTYPE 00 */
        *q++ = (uint8_t)k, *q++ = (uint8_t)(k >> 8);
        *q++ = (uint8_t)~k, *q++ = (uint8_t)(~k >> 8);
        memcpy(q, in + at, k);
        q += k;
        at += k;
    } while (at < n);
    return (size_t)(q - out);
}

/* Compresses in[0..n) into one raw deflate stream, the fixed-code block or, if that is no
 * smaller, stored blocks. On success *out is a malloc'd block of *out_len bytes; returns 0,
 * or -1 if n is over PNG_MAX_INPUT or memory runs out. */
static inline int png_deflate(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    if ((!in && n > 0) || n > PNG_MAX_INPUT)
        return -1;
    size_t fixed_cap = png_fixed_bound(n), stored = png_stored_size(n);
    png_lz77 *z = malloc(sizeof *z);
    uint8_t *buf = malloc(fixed_cap > stored ? fixed_cap : stored);
    if (!z || !buf) {
        free(z), free(buf);
        return -1;
    }
    size_t len = png_deflate_fixed(in, n, buf, z);
    if (len >= stored)
        len = png_deflate_stored(in, n, buf);
    free(z);
    *out = buf;
    *out_len = len;
    return 0;
}

/* ---- Filters (PNG chapter 9) ------------------------------------------------------------- */

/* Whichever of left, above and upper-left is closest to left + above - upper-left. */
static inline uint8_t png_paeth(uint8_t a, uint8_t b, uint8_t c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* What filter type t (0 none, 1 sub, 2 up, 3 average, 4 paeth) predicts a byte to be from
 * the same byte of the pixel to its left (a), above (b) and above-left (c). */
static inline uint8_t png_predict(int t, uint8_t a, uint8_t b, uint8_t c)
{
    switch (t) {
    case 1: return a;
    case 2: return b;
    case 3: return (uint8_t)((a + b) / 2);
    case 4: return png_paeth(a, b, c);
    default: return 0;
    }
}

/* Row filtered with type t: each byte minus its prediction, with zeros for the neighbours
 * outside the image. above is the previous row (all zero for the first). */
static inline void png_filter(int t, uint8_t *out, const uint8_t *row, const uint8_t *above,
                              size_t n, size_t bpp)
{
    for (size_t x = 0; x < n; x++) {
        uint8_t a = x >= bpp ? row[x - bpp] : 0, c = x >= bpp ? above[x - bpp] : 0;
        out[x] = (uint8_t)(row[x] - png_predict(t, a, above[x], c));
    }
}

/* Writes the filter type and the filtered row to out[0..1 + n): the type whose output, read
 * as signed bytes, has the smallest sum of magnitudes (the specification's suggestion: small
 * differences repeat more, so they compress better). scratch holds n bytes. */
static inline void png_filter_best(uint8_t *out, const uint8_t *row, const uint8_t *above,
                                   size_t n, size_t bpp, uint8_t *scratch)
{
    unsigned long best_sum = 0;
    for (int t = 0; t < 5; t++) {
        png_filter(t, scratch, row, above, n, bpp);
        unsigned long sum = 0;
        for (size_t x = 0; x < n; x++)
            sum += (unsigned long)abs((int8_t)scratch[x]);
        if (t == 0 || sum < best_sum) {
            best_sum = sum;
            out[0] = (uint8_t)t;
            memcpy(out + 1, scratch, n);
        }
    }
}

/* ---- The file ---------------------------------------------------------------------------- */

/* Appends a chunk: length, type, data, and the CRC of type and data. */
static inline uint8_t *png_chunk(uint8_t *p, const char type[4], const uint8_t *data, uint32_t n)
{
    p = png_put32(p, n);
    uint8_t *crc_from = p;
    memcpy(p, type, 4);
    if (n)
        memcpy(p + 4, data, n);
    p += 4 + n;
    return png_put32(p, png_crc32(0, crc_from, 4 + (size_t)n));
}

/* Encodes rgb (h rows of w pixels, 3 bytes each, top row first) as a PNG file in memory.
 * On success *out is a malloc'd block of *len bytes; returns 0, or -1 on a bad size or no
 * memory. */
static inline int png_encode(const uint8_t *rgb, int w, int h, uint8_t **out, size_t *len)
{
    if (!rgb || w <= 0 || h <= 0 || w > (1 << 24) || h > (1 << 24))
        return -1;
    /* The image data: each row preceded by its filter type. */
    size_t stride = 3 * (size_t)w, row = 1 + stride, raw_len = row * (size_t)h;
    if (raw_len > PNG_MAX_INPUT) /* a gigabyte of pixels: not for this writer */
        return -1;
    uint8_t *raw = malloc(raw_len), *zero = calloc(stride, 1), *scratch = malloc(stride);
    uint8_t *z = NULL, *file = NULL;
    size_t z_len = 0;
    int ok = raw && zero && scratch;
    for (int y = 0; ok && y < h; y++)
        png_filter_best(raw + (size_t)y * row, rgb + (size_t)y * stride,
                        y > 0 ? rgb + (size_t)(y - 1) * stride : zero, stride, 3, scratch);
    ok = ok && png_deflate(raw, raw_len, &z, &z_len) == 0;
    /* zlib: CMF 0x78 (deflate, 32 KB window), FLG 0x01 (so that CMF·256 + FLG is a multiple
     * of 31), the deflate stream, then the Adler-32 of the data. */
    size_t zlib_len = 2 + z_len + 4;
    uint8_t *zlib = ok ? malloc(zlib_len) : NULL;
    ok = ok && zlib && (file = malloc(8 + 25 + 12 + zlib_len + 12)) != NULL;
    if (ok) {
        zlib[0] = 0x78, zlib[1] = 0x01;
        memcpy(zlib + 2, z, z_len);
        png_put32(zlib + 2 + z_len, png_adler32(1, raw, raw_len));
        uint8_t ihdr[13], *p = file;
        png_put32(ihdr, (uint32_t)w);
        png_put32(ihdr + 4, (uint32_t)h);
        ihdr[8] = 8;  /* bits per sample */
        ihdr[9] = 2;  /* colour type: RGB */
        ihdr[10] = 0; /* compression: deflate */
        ihdr[11] = 0; /* filter method: adaptive, a filter type per row */
        ihdr[12] = 0; /* no interlace */
        memcpy(p, "\x89PNG\r\n\x1a\n", 8);
        p = png_chunk(p + 8, "IHDR", ihdr, 13);
        p = png_chunk(p, "IDAT", zlib, (uint32_t)zlib_len);
        p = png_chunk(p, "IEND", NULL, 0);
        *out = file;
        *len = (size_t)(p - file);
    }
    free(raw), free(zero), free(scratch), free(z), free(zlib);
    return ok ? 0 : -1;
}

/* Writes rgb as a PNG file at path; returns 0, or -1 if it could not. */
static inline int png_write(const char *path, const uint8_t *rgb, int w, int h)
{
    uint8_t *data;
    size_t len;
    if (png_encode(rgb, w, h, &data, &len) != 0)
        return -1;
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(data);
    return ok ? 0 : -1;
}

#endif /* NN_EXAMPLES_PNG_H */
