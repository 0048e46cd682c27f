/* Inflate (RFC 1951) and the gzip file format (RFC 1952), written for untrusted input.
 * Every input read is checked against the end of the input, every output write against the
 * caller's bound, every table of code lengths before a code is built from it, and every
 * distance against the bytes already produced (there is no preset dictionary). Buffers are
 * bytes with explicit lengths; nothing here relies on a terminating zero. */
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

enum {
    MAX_BITS = 15,    /* the longest Huffman code deflate allows */
    FAST_BITS = 10,   /* codes up to this long decode in one table lookup */
    N_LITLEN = 288,   /* literal/length symbols of the fixed code (286 and 287 never occur) */
    N_DIST = 32,      /* distance symbols of the fixed code (30 and 31 never occur) */
    N_CODELEN = 19,   /* symbols of the code that codes the code lengths */
    MAX_RATIO = 1032, /* deflate's largest expansion: 258 bytes from 2 bits */
};

/* A canonical Huffman code. Codes of up to FAST_BITS bits are found in fast[], indexed by
 * the next FAST_BITS input bits: an entry is symbol << 4 | length, 0 for "longer code, or
 * none". Longer codes are decoded a bit at a time from count[] and symbol[]. */
typedef struct huffman {
    uint16_t fast[1 << FAST_BITS];
    uint16_t count[MAX_BITS + 1]; /* how many codes have each length; count[0] unused */
    uint16_t symbol[N_LITLEN];    /* the symbols in code order */
} huffman;

typedef struct inflater {
    const uint8_t *in;
    size_t in_len, in_pos; /* in_pos: the next byte to load into the bit buffer */
    uint64_t bits;         /* loaded, unused bits, the next one in bit 0 */
    int nbits;
    size_t pad;            /* zero bytes loaded past the end of the input */
    uint8_t *out;
    size_t out_cap, out_len;
    const char *why;       /* the reason for NN_ERR_FORMAT */
    huffman lit, dist, lens;
} inflater;

static nn_status fail(inflater *s, const char *why)
{
    s->why = why;
    return NN_ERR_FORMAT;
}

/* Tops the bit buffer up to at least 57 bits. Past the end of the input it loads zero bytes
 * and counts them in pad, so decoding never reads outside the input; overrun() then tells
 * whether any of those made-up bits were used. */
static void refill(inflater *s)
{
    while (s->nbits <= 56) {
        uint64_t byte = 0;
        if (s->in_pos < s->in_len)
            byte = s->in[s->in_pos++];
        else
            s->pad++;
        s->bits |= byte << s->nbits;
        s->nbits += 8;
    }
}

/* The padding sits above the real bits, so real bits are left exactly while nbits >= 8·pad. */
static bool overrun(const inflater *s)
{
    return (size_t)s->nbits < 8 * s->pad;
}

static uint32_t get_bits(inflater *s, int n) /* 0 <= n <= 32 */
{
    if (s->nbits < n)
        refill(s);
    uint32_t v = (uint32_t)(s->bits & ((UINT64_C(1) << n) - 1));
    s->bits >>= n;
    s->nbits -= n;
    return v;
}

/* Builds the canonical code of lengths[0..n) (n <= N_LITLEN). A code that claims more than
 * the code space is always an error; one that leaves part of it unused is accepted only for
 * literal/length and distance codes with no code or a single 1-bit code (as zlib does),
 * where the unused bit patterns decode as errors. */
static nn_status build(inflater *s, huffman *h, const uint8_t *lengths, int n, bool is_lens)
{
    uint16_t offset[MAX_BITS + 2];
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[lengths[i]]++;
    int left = 1, used = n - h->count[0];
    for (int len = 1; len <= MAX_BITS; len++) {
        left = 2 * left - h->count[len];
        if (left < 0)
            return fail(s, "over-subscribed Huffman code");
    }
    if (left > 0 && (is_lens || used > 1 || (used == 1 && h->count[1] != 1)))
        return fail(s, "incomplete Huffman code");

    offset[1] = 0;
    for (int len = 1; len <= MAX_BITS; len++)
        offset[len + 1] = (uint16_t)(offset[len] + h->count[len]);
    memset(h->fast, 0, sizeof h->fast);
    /* Canonical codes: within a length, consecutive values in symbol order; the first code of
     * each length follows the last code of the length before it, shifted left by one. */
    int next[MAX_BITS + 1], code = 0;
    h->count[0] = 0;
    for (int len = 1; len <= MAX_BITS; len++) {
        code = (code + h->count[len - 1]) << 1;
        next[len] = code;
    }
    for (int sym = 0; sym < n; sym++) {
        int len = lengths[sym];
        if (len == 0)
            continue;
        h->symbol[offset[len]++] = (uint16_t)sym;
        int c = next[len]++;
        if (len > FAST_BITS)
            continue;
        /* Huffman codes are sent most significant bit first into an LSB-first bit stream:
         * the table is indexed by the code reversed, with every value of the unused bits. */
        int rev = 0;
        for (int b = 0; b < len; b++)
            rev |= ((c >> b) & 1) << (len - 1 - b);
        for (int i = rev; i < (1 << FAST_BITS); i += 1 << len)
            h->fast[i] = (uint16_t)(sym << 4 | len);
    }
    return NN_OK;
}

/* The next symbol of code h, or -1 if the input holds no code of h. */
static int decode(inflater *s, const huffman *h)
{
    if (s->nbits < MAX_BITS)
        refill(s);
    unsigned entry = h->fast[s->bits & ((1u << FAST_BITS) - 1)];
    if (entry != 0) {
        int len = (int)(entry & 15);
        s->bits >>= len;
        s->nbits -= len;
        return (int)(entry >> 4);
    }
    /* code: the bits read so far, as a number; first: the first code of this length; index:
     * where this length's symbols start. Unmatched prefixes are >= first at every length. */
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAX_BITS; len++) {
        code |= (int)((s->bits >> (len - 1)) & 1);
        int count = h->count[len];
        if (code < first + count) {
            s->bits >>= len;
            s->nbits -= len;
            return h->symbol[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

/* Lengths 3..258 and distances 1..32768: a base plus extra bits, per RFC 1951 3.2.5. */
static const uint16_t LEN_BASE[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEN_EXTRA[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
    2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* The data of a compressed block, up to its end-of-block symbol. */
static nn_status inflate_codes(inflater *s)
{
    for (;;) {
        int sym = decode(s, &s->lit);
        if (sym < 0)
            return fail(s, "invalid literal/length code");
        if (overrun(s))
            return fail(s, "truncated deflate stream");
        if (sym < 256) {
            if (s->out_len == s->out_cap)
                return fail(s, "output larger than expected");
            s->out[s->out_len++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return NN_OK;
        sym -= 257;
        if (sym >= 29)
            return fail(s, "invalid length symbol");
        size_t len = LEN_BASE[sym] + get_bits(s, LEN_EXTRA[sym]);
        int d = decode(s, &s->dist);
        if (d < 0 || d >= 30)
            return fail(s, "invalid distance code");
        size_t dist = DIST_BASE[d] + get_bits(s, DIST_EXTRA[d]);
        if (overrun(s))
            return fail(s, "truncated deflate stream");
        if (dist > s->out_len)
            return fail(s, "distance too far back");
        if (len > s->out_cap - s->out_len)
            return fail(s, "output larger than expected");
        /* Byte by byte: source and destination overlap when dist < len (a run). */
        uint8_t *to = s->out + s->out_len, *from = to - dist;
        for (size_t i = 0; i < len; i++)
            to[i] = from[i];
        s->out_len += len;
    }
}

/* A stored block: from the next byte boundary, LEN, ~LEN and LEN raw bytes. */
static nn_status inflate_stored(inflater *s)
{
    s->nbits &= ~7; /* drop the rest of the current byte */
    if (overrun(s))
        return fail(s, "truncated deflate stream");
    /* Give the whole bytes still in the bit buffer back to the input, then read bytes. */
    size_t pos = s->in_pos - ((size_t)s->nbits / 8 - s->pad);
    s->bits = 0;
    s->nbits = 0;
    s->pad = 0;
    if (s->in_len - pos < 4)
        return fail(s, "truncated deflate stream");
    size_t len = s->in[pos] | (size_t)s->in[pos + 1] << 8;
    size_t nlen = s->in[pos + 2] | (size_t)s->in[pos + 3] << 8;
    pos += 4;
    if (len != (~nlen & 0xffff))
        return fail(s, "stored block length does not match its complement");
    if (s->in_len - pos < len)
        return fail(s, "truncated deflate stream");
    if (len > s->out_cap - s->out_len)
        return fail(s, "output larger than expected");
    if (len > 0) /* out may be NULL when out_cap is 0 */
        memcpy(s->out + s->out_len, s->in + pos, len);
    s->out_len += len;
    s->in_pos = pos + len;
    return NN_OK;
}

static nn_status inflate_fixed(inflater *s)
{
    uint8_t lengths[N_LITLEN];
    int i = 0;
    for (; i < 144; i++)
        lengths[i] = 8;
    for (; i < 256; i++)
        lengths[i] = 9;
    for (; i < 280; i++)
        lengths[i] = 7;
    for (; i < N_LITLEN; i++)
        lengths[i] = 8;
    nn_status st = build(s, &s->lit, lengths, N_LITLEN, false);
    memset(lengths, 5, N_DIST);
    if (st == NN_OK)
        st = build(s, &s->dist, lengths, N_DIST, false);
    return st == NN_OK ? inflate_codes(s) : st;
}

/* A block with its own codes, themselves sent as code lengths coded with a third code. */
static nn_status inflate_dynamic(inflater *s)
{
    static const uint8_t order[N_CODELEN] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                             11, 4,  12, 3, 13, 2, 14, 1, 15};
    uint8_t lengths[286 + 30] = {0};
    int nlen = (int)get_bits(s, 5) + 257, ndist = (int)get_bits(s, 5) + 1;
    int ncode = (int)get_bits(s, 4) + 4;
    if (nlen > 286 || ndist > 30)
        return fail(s, "too many length or distance symbols");
    for (int i = 0; i < ncode; i++)
        lengths[order[i]] = (uint8_t)get_bits(s, 3);
    if (overrun(s))
        return fail(s, "truncated deflate stream");
    nn_status st = build(s, &s->lens, lengths, N_CODELEN, true);
    if (st != NN_OK)
        return st;

    memset(lengths, 0, N_CODELEN);
    int n = 0;
    while (n < nlen + ndist) {
        int sym = decode(s, &s->lens);
        if (sym < 0)
            return fail(s, "invalid code-length code");
        if (sym < 16) {
            lengths[n++] = (uint8_t)sym;
        } else {
            uint8_t len = 0;
            int repeat;
            if (sym == 16) {
                if (n == 0)
                    return fail(s, "repeat with no previous length");
                len = lengths[n - 1];
                repeat = 3 + (int)get_bits(s, 2);
            } else if (sym == 17) {
                repeat = 3 + (int)get_bits(s, 3);
            } else {
                repeat = 11 + (int)get_bits(s, 7);
            }
            if (repeat > nlen + ndist - n)
                return fail(s, "too many code lengths");
            while (repeat-- > 0)
                lengths[n++] = len;
        }
        if (overrun(s))
            return fail(s, "truncated deflate stream");
    }
    if (lengths[256] == 0)
        return fail(s, "no end-of-block code");
    st = build(s, &s->lit, lengths, nlen, false);
    if (st == NN_OK)
        st = build(s, &s->dist, lengths + nlen, ndist, false);
    return st == NN_OK ? inflate_codes(s) : st;
}

nn_status nn__inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                      size_t *in_used, size_t *out_len, const char **why, nn_alloc_fn alloc,
                      void *user)
{
    if ((!in && in_len) || (!out && out_cap) || !in_used || !out_len)
        return NN_ERR_INVALID_ARG;
    if (!alloc)
        alloc = nn__default_alloc, user = NULL;
    inflater *s = alloc(user, NULL, 0, sizeof *s); /* 7 KB of tables: off the caller's stack */
    if (!s)
        return NN_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->in = in;
    s->in_len = in_len;
    s->out = out;
    s->out_cap = out_cap;
    nn_status st = NN_OK;
    bool last = false;
    while (st == NN_OK && !last) {
        last = get_bits(s, 1);
        unsigned type = get_bits(s, 2);
        if (overrun(s))
            st = fail(s, "truncated deflate stream");
        else if (type == 0)
            st = inflate_stored(s);
        else if (type == 1)
            st = inflate_fixed(s);
        else if (type == 2)
            st = inflate_dynamic(s);
        else
            st = fail(s, "invalid block type");
    }
    if (st == NN_OK) {
        /* Whole bytes left in the bit buffer were not used; a partly used byte was. */
        *in_used = s->in_pos - ((size_t)s->nbits / 8 - s->pad);
        *out_len = s->out_len;
    } else if (why) {
        *why = s->why;
    }
    alloc(user, s, sizeof *s, 0);
    return st;
}

/* ---------------------------------------------------------------- gzip */

/* CRC-32 of the reflected polynomial 0xEDB88320, one table entry per byte value: entry i is
 * the CRC register after shifting i through eight rounds (tests/test_io.c and the gzip
 * fixtures check it against independent implementations). A constant table, not global
 * state. */
static const uint32_t CRC32_TABLE[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t nn__crc32(uint32_t crc, const uint8_t *data, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = CRC32_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

bool nn__is_gzip(const uint8_t *data, size_t len)
{
    return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The offset of the deflate data after a gzip member's header, or 0 if the header is bad. */
static size_t gzip_header(const uint8_t *in, size_t n, const char **why)
{
    enum { FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, RESERVED = 0xe0 };
    if (n < 10 || !nn__is_gzip(in, n)) {
        *why = "not a gzip file";
        return 0;
    }
    unsigned flags = in[3];
    if (in[2] != 8 || (flags & RESERVED)) {
        *why = "unknown gzip compression method or flags";
        return 0;
    }
    size_t pos = 10;
    if (flags & FEXTRA) {
        size_t xlen = n - pos >= 2 ? (in[pos] | (size_t)in[pos + 1] << 8) : 0;
        if (n - pos < 2 || n - pos - 2 < xlen) {
            *why = "truncated gzip header";
            return 0;
        }
        pos += 2 + xlen;
    }
    for (unsigned flag = FNAME; flag <= FCOMMENT; flag <<= 1) {
        if (!(flags & flag))
            continue;
        const uint8_t *end = memchr(in + pos, 0, n - pos);
        if (!end) {
            *why = "truncated gzip header";
            return 0;
        }
        pos = (size_t)(end - in) + 1;
    }
    if (flags & FHCRC) {
        uint32_t want = n - pos >= 2 ? (in[pos] | (uint32_t)in[pos + 1] << 8) : 0;
        if (n - pos < 2 || want != (nn__crc32(0, in, pos) & 0xffff)) {
            *why = "gzip header CRC mismatch";
            return 0;
        }
        pos += 2;
    }
    return pos;
}

nn_status nn__gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                     const char **why, nn_alloc_fn alloc, void *user)
{
    const char *reason = NULL;
    if (!in || !out || !out_len)
        return NN_ERR_INVALID_ARG;
    if (!alloc)
        alloc = nn__default_alloc, user = NULL;
    size_t start = gzip_header(in, in_len, &reason);
    if (start == 0 || in_len - start < 8) {
        if (why)
            *why = reason ? reason : "truncated gzip file";
        return NN_ERR_FORMAT;
    }
    /* The trailer is the last 8 bytes: the deflate stream must end exactly before it. */
    size_t deflate_len = in_len - start - 8;
    uint32_t crc = le32(in + in_len - 8), size = le32(in + in_len - 4);
    if (size / MAX_RATIO > deflate_len) {
        if (why)
            *why = "declared size larger than the data can hold";
        return NN_ERR_FORMAT;
    }
    size_t block = size ? size : 1;
    uint8_t *data = alloc(user, NULL, 0, block);
    if (!data)
        return NN_ERR_NOMEM;
    size_t used = 0, produced = 0;
    nn_status st = nn__inflate(in + start, deflate_len, data, size, &used, &produced, &reason,
                               alloc, user);
    if (st == NN_OK) {
        reason = produced != size ? "size in the gzip trailer does not match the data"
                 : used != deflate_len ? "data after the end of the gzip member"
                 : nn__crc32(0, data, produced) != crc ? "CRC-32 mismatch: the data is corrupted"
                 : NULL;
        st = reason ? NN_ERR_FORMAT : NN_OK;
    }
    if (st != NN_OK) {
        alloc(user, data, block, 0);
        if (why)
            *why = reason;
        return st;
    }
    *out = data;
    *out_len = produced;
    return NN_OK;
}
