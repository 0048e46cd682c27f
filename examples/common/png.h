/* A minimal PNG writer for the examples: 8-bit RGB, no filtering, and the pixels in stored
 * (uncompressed) deflate blocks inside the zlib stream that PNG requires. Every viewer reads
 * it; the file is about as large as the raw pixels, which is fine for a picture of a few
 * hundred pixels square. Format: the PNG specification (ISO/IEC 15948), RFC 1950 (zlib) and
 * RFC 1951 3.2.4 (stored blocks).
 *
 *     uint8_t rgb[H][W][3];  ...  png_write("out.png", &rgb[0][0][0], W, H);
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
    enum { MAX_STORED = 65535 };
    if (!rgb || w <= 0 || h <= 0 || w > (1 << 24) || h > (1 << 24))
        return -1;
    /* The image data: each row preceded by its filter type, 0 (none). */
    size_t row = 1 + 3 * (size_t)w, raw_len = row * (size_t)h;
    if (raw_len > ((size_t)1 << 30)) /* a gigabyte of pixels: not for this writer */
        return -1;
    size_t blocks = (raw_len + MAX_STORED - 1) / MAX_STORED;
    size_t zlib_len = 2 + 5 * blocks + raw_len + 4;
    uint8_t *raw = malloc(raw_len), *z = malloc(zlib_len);
    uint8_t *file = malloc(8 + 25 + 12 + zlib_len + 12);
    if (!raw || !z || !file) {
        free(raw), free(z), free(file);
        return -1;
    }
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * row] = 0;
        memcpy(raw + (size_t)y * row + 1, rgb + (size_t)y * 3 * w, 3 * (size_t)w);
    }
    /* zlib: CMF 0x78 (deflate, 32 KB window), FLG 0x01 (so that CMF·256 + FLG is a multiple
     * of 31), stored blocks of at most 65535 bytes, then the Adler-32 of the data. */
    uint8_t *q = z;
    *q++ = 0x78, *q++ = 0x01;
    for (size_t at = 0; at < raw_len; at += MAX_STORED) {
        size_t n = raw_len - at < MAX_STORED ? raw_len - at : MAX_STORED;
        *q++ = at + n == raw_len; /* BFINAL on the last, BTYPE 00: stored */
        *q++ = (uint8_t)n, *q++ = (uint8_t)(n >> 8);
        *q++ = (uint8_t)~n, *q++ = (uint8_t)(~n >> 8);
        memcpy(q, raw + at, n);
        q += n;
    }
    q = png_put32(q, png_adler32(1, raw, raw_len));

    uint8_t ihdr[13], *p = file;
    png_put32(ihdr, (uint32_t)w);
    png_put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bits per sample */
    ihdr[9] = 2;  /* colour type: RGB */
    ihdr[10] = 0; /* compression: deflate */
    ihdr[11] = 0; /* filter method: adaptive, with type 0 on every row */
    ihdr[12] = 0; /* no interlace */
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    p = png_chunk(p + 8, "IHDR", ihdr, 13);
    p = png_chunk(p, "IDAT", z, (uint32_t)zlib_len);
    p = png_chunk(p, "IEND", NULL, 0);
    free(raw);
    free(z);
    *out = file;
    *len = (size_t)(p - file);
    return 0;
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
