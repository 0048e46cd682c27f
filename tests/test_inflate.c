/* Inflate and gzip: files from the system gzip (dynamic blocks) and Python's zlib (stored and
 * fixed-Huffman blocks) decompress to the original; hand-assembled streams hit every check
 * by name; truncated, bit-flipped and random input is rejected without a read or write out of
 * bounds (ASan watches). */
#include "nn_internal.h"
#include "fixture.h"

/* ------------------------------------------------------------ from files */

/* The first block type of a gzip file without optional header fields (byte 10, bits 1-2):
 * proof that the fixture holds the kind of block the test claims to cover. */
static unsigned first_block_type(const uint8_t *gz)
{
    return (gz[10] >> 1) & 3;
}

static void check_gzip_fixture(const char *name, int block_type)
{
    size_t want_len, len, out_len = 0;
    uint8_t *want = fixture_bytes("sample.bin", &want_len), *gz = fixture_bytes(name, &len);
    uint8_t *out = NULL;
    if (block_type >= 0)
        assert_int_equal(first_block_type(gz), block_type);
    const char *why = NULL;
    assert_int_equal(nn__gunzip(gz, len, &out, &out_len, &why, NULL, NULL), NN_OK);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    free(out);
    free(gz);
    free(want);
}

static void test_gzip_levels(void **state)
{
    (void)state;
    check_gzip_fixture("sample-1.gz", 2); /* gzip -1: dynamic Huffman */
    check_gzip_fixture("sample-6.gz", 2);
    check_gzip_fixture("sample-9.gz", 2);
}

static void test_zlib_stored_and_fixed(void **state)
{
    (void)state;
    check_gzip_fixture("sample-stored.gz", 0);
    check_gzip_fixture("sample-fixed.gz", 1);
}

/* FEXTRA, FNAME, FCOMMENT and a correct FHCRC are skipped over. */
static void test_gzip_header_fields(void **state)
{
    (void)state;
    check_gzip_fixture("sample-flags.gz", -1);
}

static void test_gzip_empty(void **state)
{
    (void)state;
    size_t len, out_len = 99;
    uint8_t *gz = fixture_bytes("empty.gz", &len), *out = NULL;
    assert_int_equal(nn__gunzip(gz, len, &out, &out_len, NULL, NULL, NULL), NN_OK);
    assert_int_equal(out_len, 0);
    free(out);
    free(gz);
}

/* nn__read_file with the C library's allocator, whose blocks free() takes. */
static nn_status read_file(const char *path, uint8_t **data, size_t *len)
{
    size_t cap;
    return nn__read_file(path, NULL, NULL, data, len, &cap, NULL);
}

/* The readers' file access gunzips transparently and passes plain files through. */
static void test_read_file(void **state)
{
    (void)state;
    size_t want_len, len;
    uint8_t *want = fixture_bytes("sample.bin", &want_len), *data = NULL;
    assert_int_equal(read_file(fixture("sample-9.gz"), &data, &len), NN_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(data, want, len);
    free(data);
    assert_int_equal(read_file(fixture("sample.bin"), &data, &len), NN_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(data, want, len);
    free(data);
    assert_int_equal(read_file(fixture("empty.csv"), &data, &len), NN_OK);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(read_file(fixture("no-such-file"), &data, &len), NN_ERR_IO);
    assert_int_equal(read_file(NN_TEST_DATA_DIR, &data, &len), NN_ERR_IO); /* a folder */
    assert_int_equal(read_file(fixture("bad-crc.idx.gz"), &data, &len), NN_ERR_FORMAT);
    assert_int_equal(read_file(NULL, &data, &len), NN_ERR_INVALID_ARG);
    free(want);
}

/* The check value of CRC-32 (ISO 3309): the CRC of the ASCII digits 1 to 9. */
static void test_crc32(void **state)
{
    (void)state;
    const uint8_t digits[] = "123456789";
    assert_int_equal(nn__crc32(0, digits, 9), 0xcbf43926u);
    /* Continuing a CRC over a second piece equals one CRC over both. */
    assert_int_equal(nn__crc32(nn__crc32(0, digits, 4), digits + 4, 5), 0xcbf43926u);
    assert_int_equal(nn__crc32(0, NULL, 0), 0);
}

/* ---------------------------------------------------- corrupted gzip files */

static nn_status gunzip_bytes(const uint8_t *gz, size_t len, const char **why)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    *why = NULL;
    nn_status s = nn__gunzip(gz, len, &out, &out_len, why, NULL, NULL);
    free(out);
    return s;
}

static void expect_gzip_error(const uint8_t *gz, size_t len, const char *reason)
{
    const char *why;
    assert_int_equal(gunzip_bytes(gz, len, &why), NN_ERR_FORMAT);
    assert_non_null(why);
    if (reason)
        assert_string_equal(why, reason);
}

static void test_gzip_trailer_checks(void **state)
{
    (void)state;
    size_t len;
    uint8_t *gz = fixture_bytes("sample-9.gz", &len);
    gz[len - 8] ^= 0x10; /* the CRC */
    expect_gzip_error(gz, len, "CRC-32 mismatch: the data is corrupted");
    gz[len - 8] ^= 0x10;
    gz[len - 4] ^= 0x01; /* the size, one less or more */
    expect_gzip_error(gz, len, "size in the gzip trailer does not match the data");
    gz[len - 4] ^= 0x01;
    gz[len - 1] = 0x7f; /* a size no 12 KB of deflate can produce */
    expect_gzip_error(gz, len, "declared size larger than the data can hold");
    free(gz);

    gz = fixture_bytes("huge-isize.gz", &len);
    expect_gzip_error(gz, len, "declared size larger than the data can hold");
    free(gz);
}

static void test_gzip_header_checks(void **state)
{
    (void)state;
    size_t len;
    uint8_t *gz = fixture_bytes("sample-9.gz", &len);
    gz[0] = 0x1e;
    expect_gzip_error(gz, len, "not a gzip file");
    gz[0] = 0x1f;
    gz[2] = 7; /* compression method: only 8 (deflate) exists */
    expect_gzip_error(gz, len, "unknown gzip compression method or flags");
    gz[2] = 8;
    gz[3] = 0x20; /* a reserved flag */
    expect_gzip_error(gz, len, "unknown gzip compression method or flags");
    /* FNAME, but no zero byte ends it before the data runs out. */
    uint8_t no_end[16] = {0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c', 'd', 'e', 'f'};
    expect_gzip_error(no_end, sizeof no_end, "truncated gzip header");
    free(gz);

    gz = fixture_bytes("sample-flags.gz", &len);
    gz[14] ^= 1; /* inside FEXTRA: the header CRC no longer matches */
    expect_gzip_error(gz, len, "gzip header CRC mismatch");
    free(gz);
    expect_gzip_error(no_end, 9, "not a gzip file"); /* shorter than a header */
}

/* Every proper prefix of a gzip file is an error, whatever byte it stops at. */
static void test_gzip_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *gz = fixture_bytes("sample-6.gz", &len);
    for (size_t cut = 0; cut < len; cut += (cut < 40 || len - cut < 40) ? 1 : 53) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any over-read */
        memcpy(copy, gz, cut);
        const char *why;
        assert_int_equal(gunzip_bytes(copy, cut, &why), NN_ERR_FORMAT);
        free(copy);
    }
    free(gz);
}

/* Bytes after the member are rejected: one gzip member and nothing else. */
static void test_gzip_trailing_data(void **state)
{
    (void)state;
    size_t len;
    uint8_t *gz = fixture_bytes("sample-9.gz", &len);
    uint8_t *longer = malloc(len + 8);
    memcpy(longer, gz, len);
    memcpy(longer + len, gz + len - 8, 8); /* the trailer again, so the last 8 bytes "match" */
    expect_gzip_error(longer, len + 8, "data after the end of the gzip member");
    free(longer);
    free(gz);
}

/* Flipping any one bit of the compressed data is caught: by inflate's checks or, failing
 * them, by the size or the CRC. */
static void test_gzip_bit_flips(void **state)
{
    (void)state;
    size_t len;
    uint8_t *gz = fixture_bytes("sample-1.gz", &len);
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    for (int trial = 0; trial < 300; trial++) {
        /* Not the last deflate byte: the bits after the end-of-block code are padding. */
        size_t at = 10 + nn_rng_next(&rng) % (len - 19);
        uint8_t bit = (uint8_t)(1u << (nn_rng_next(&rng) % 8));
        gz[at] ^= bit;
        const char *why;
        assert_int_equal(gunzip_bytes(gz, len, &why), NN_ERR_FORMAT);
        gz[at] ^= bit;
    }
    free(gz);
}

/* ------------------------------------------------- hand-assembled streams */

/* Writes deflate's bit stream: fields least significant bit first, Huffman codes most
 * significant bit first (RFC 1951 3.1.1). */
typedef struct bit_writer {
    uint8_t buf[96];
    size_t nbits;
} bit_writer;

static void put_bits(bit_writer *w, uint32_t value, int n)
{
    for (int i = 0; i < n; i++, w->nbits++) {
        assert_true(w->nbits < 8 * sizeof w->buf);
        if ((value >> i) & 1)
            w->buf[w->nbits / 8] |= (uint8_t)(1u << (w->nbits % 8));
    }
}

static void put_code(bit_writer *w, uint32_t code, int len)
{
    for (int i = len - 1; i >= 0; i--)
        put_bits(w, (code >> i) & 1, 1);
}

static size_t written(const bit_writer *w)
{
    return (w->nbits + 7) / 8;
}

/* A symbol of the fixed literal/length code (RFC 1951 3.2.6). */
static void put_fixed(bit_writer *w, int sym)
{
    if (sym < 144)
        put_code(w, 0x30 + sym, 8);
    else if (sym < 256)
        put_code(w, 0x190 + sym - 144, 9);
    else if (sym < 280)
        put_code(w, sym - 256, 7);
    else
        put_code(w, 0xc0 + sym - 280, 8);
}

/* A dynamic block header: the counts and the code-length code, given as a length for each of
 * its 19 symbols. */
static void put_dynamic_header(bit_writer *w, int nlen, int ndist, const uint8_t cl[19])
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                      11, 4, 12, 3, 13, 2, 14, 1, 15};
    int ncode = 19;
    while (ncode > 4 && cl[order[ncode - 1]] == 0)
        ncode--;
    put_bits(w, 1, 1); /* final */
    put_bits(w, 2, 2); /* dynamic */
    put_bits(w, (uint32_t)(nlen - 257), 5);
    put_bits(w, (uint32_t)(ndist - 1), 5);
    put_bits(w, (uint32_t)(ncode - 4), 4);
    for (int i = 0; i < ncode; i++)
        put_bits(w, cl[order[i]], 3);
}

/* Inflates w's bytes (exactly those: ASan sees any over-read) into at most cap bytes. */
static nn_status inflate_writer(const bit_writer *w, size_t cap, uint8_t *out, size_t *out_len,
                                const char **why)
{
    size_t n = written(w), used = 0;
    uint8_t *in = malloc(n ? n : 1);
    memcpy(in, w->buf, n);
    *why = NULL;
    nn_status s = nn__inflate(in, n, out, cap, &used, out_len, why, NULL, NULL);
    if (s == NN_OK)
        assert_int_equal(used, n);
    free(in);
    return s;
}

static void expect_inflate_error(const bit_writer *w, size_t cap, const char *reason)
{
    uint8_t out[64];
    size_t out_len = 0;
    const char *why;
    assert_true(cap <= sizeof out);
    assert_int_equal(inflate_writer(w, cap, out, &out_len, &why), NN_ERR_FORMAT);
    assert_non_null(why);
    assert_string_equal(why, reason);
}

static void expect_inflate(const bit_writer *w, const char *want)
{
    uint8_t out[64];
    size_t out_len = 0;
    const char *why;
    assert_int_equal(inflate_writer(w, sizeof out, out, &out_len, &why), NN_OK);
    assert_int_equal(out_len, strlen(want));
    assert_memory_equal(out, want, out_len);
    /* Every proper prefix of the stream is truncated. */
    for (size_t cut = 0; cut < written(w); cut++) {
        bit_writer part = *w;
        memset(part.buf + cut, 0, sizeof part.buf - cut);
        part.nbits = 8 * cut;
        assert_int_equal(inflate_writer(&part, sizeof out, out, &out_len, &why), NN_ERR_FORMAT);
    }
}

static void test_fixed_blocks(void **state)
{
    (void)state;
    bit_writer w = {0};
    put_bits(&w, 1, 1); /* final */
    put_bits(&w, 1, 2); /* fixed Huffman */
    put_fixed(&w, 'a');
    put_fixed(&w, 257); /* length 3 */
    put_code(&w, 0, 5); /* distance code 0: distance 1, a run */
    put_fixed(&w, 'b');
    put_fixed(&w, 265); /* lengths 11-12: one extra bit */
    put_bits(&w, 0, 1); /* 11 */
    put_code(&w, 4, 5); /* distances 5-6: one extra bit */
    put_bits(&w, 0, 1); /* 5: "aaaab" again, and on into its own output */
    put_fixed(&w, 256);
    expect_inflate(&w, "aaaabaaaabaaaaba");

    /* Output bounded by the caller: one byte short. */
    expect_inflate_error(&w, 15, "output larger than expected");
    expect_inflate_error(&w, 3, "output larger than expected"); /* inside the first match */
}

static void test_fixed_block_errors(void **state)
{
    (void)state;
    bit_writer w = {0};
    put_bits(&w, 3, 3); /* final, block type 1 */
    put_fixed(&w, 'a');
    put_fixed(&w, 257);
    put_code(&w, 1, 5); /* distance 2, with one byte written */
    expect_inflate_error(&w, 64, "distance too far back");

    w = (bit_writer){0};
    put_bits(&w, 3, 3);
    put_fixed(&w, 'a');
    put_fixed(&w, 257);
    put_code(&w, 30, 5); /* distance symbols 30 and 31 exist in the fixed code, never in data */
    expect_inflate_error(&w, 64, "invalid distance code");

    w = (bit_writer){0};
    put_bits(&w, 3, 3);
    put_fixed(&w, 286); /* so do length symbols 286 and 287 */
    expect_inflate_error(&w, 64, "invalid length symbol");

    w = (bit_writer){0};
    put_bits(&w, 7, 3); /* block type 3 is reserved */
    expect_inflate_error(&w, 64, "invalid block type");

    w = (bit_writer){0};
    put_bits(&w, 2, 3); /* not final, and nothing follows */
    put_fixed(&w, 256);
    expect_inflate_error(&w, 64, "truncated deflate stream");
}

static void test_stored_blocks(void **state)
{
    (void)state;
    /* A non-final fixed block with one literal, then a stored block, which starts at the next
     * byte boundary. */
    bit_writer w = {0};
    put_bits(&w, 2, 3);
    put_fixed(&w, 'x');
    put_fixed(&w, 256);
    put_bits(&w, 1, 3); /* final, stored */
    w.nbits = 8 * written(&w);
    put_bits(&w, 5, 16);
    put_bits(&w, 0xffff ^ 5, 16);
    for (const char *p = "hello"; *p; p++)
        put_bits(&w, (uint8_t)*p, 8);
    expect_inflate(&w, "xhello");
    expect_inflate_error(&w, 4, "output larger than expected");

    w.buf[written(&w) - 7] ^= 1; /* NLEN no longer the complement of LEN */
    expect_inflate_error(&w, 64, "stored block length does not match its complement");
}

static void test_dynamic_block(void **state)
{
    (void)state;
    /* Code-length code: 18 (runs of zeros) → 0, 1 → 10, 2 → 11. The literal/length code gives
     * 'a' 1 bit and 256, 257 two; the distance code has one 1-bit code, an incomplete code
     * deflate allows. */
    uint8_t cl[19] = {0};
    cl[18] = 1, cl[1] = 2, cl[2] = 2;
    bit_writer w = {0};
    put_dynamic_header(&w, 258, 1, cl);
    put_code(&w, 0, 1), put_bits(&w, 97 - 11, 7);  /* symbols 0-96: no code */
    put_code(&w, 2, 2);                            /* 'a': 1 */
    put_code(&w, 0, 1), put_bits(&w, 138 - 11, 7); /* 98-235 */
    put_code(&w, 0, 1), put_bits(&w, 20 - 11, 7);  /* 236-255 */
    put_code(&w, 3, 2), put_code(&w, 3, 2);        /* 256, 257: 2 */
    put_code(&w, 2, 2);                            /* distance 0: 1 */
    put_code(&w, 0, 1);                            /* 'a' */
    put_code(&w, 3, 2), put_code(&w, 0, 1);        /* length 3, distance 1 */
    put_code(&w, 2, 2);                            /* end of block */
    expect_inflate(&w, "aaaa");

    /* The same with 'a' given 2 bits: three 2-bit codes leave a quarter of the space unused. */
    w = (bit_writer){0};
    put_dynamic_header(&w, 258, 1, cl);
    put_code(&w, 0, 1), put_bits(&w, 97 - 11, 7);
    put_code(&w, 3, 2);
    put_code(&w, 0, 1), put_bits(&w, 138 - 11, 7);
    put_code(&w, 0, 1), put_bits(&w, 20 - 11, 7);
    put_code(&w, 3, 2), put_code(&w, 3, 2);
    put_code(&w, 2, 2);
    expect_inflate_error(&w, 64, "incomplete Huffman code");
}

static void test_dynamic_header_errors(void **state)
{
    (void)state;
    uint8_t cl[19] = {0};
    bit_writer w = {0};
    put_dynamic_header(&w, 287, 1, cl);
    expect_inflate_error(&w, 64, "too many length or distance symbols");
    w = (bit_writer){0};
    put_dynamic_header(&w, 257, 31, cl);
    expect_inflate_error(&w, 64, "too many length or distance symbols");

    cl[0] = cl[16] = cl[17] = cl[18] = 1; /* four 1-bit codes */
    w = (bit_writer){0};
    put_dynamic_header(&w, 257, 1, cl);
    expect_inflate_error(&w, 64, "over-subscribed Huffman code");

    memset(cl, 0, sizeof cl);
    cl[0] = 1; /* the code-length code must be complete */
    w = (bit_writer){0};
    put_dynamic_header(&w, 257, 1, cl);
    expect_inflate_error(&w, 64, "incomplete Huffman code");

    cl[16] = 1; /* 0 → 0, 16 → 1 */
    w = (bit_writer){0};
    put_dynamic_header(&w, 257, 1, cl);
    put_code(&w, 1, 1);
    expect_inflate_error(&w, 64, "repeat with no previous length");

    memset(cl, 0, sizeof cl);
    cl[1] = cl[18] = 1; /* 1 → 0, 18 → 1 */
    w = (bit_writer){0};
    put_dynamic_header(&w, 257, 1, cl);
    put_code(&w, 0, 1), put_code(&w, 0, 1);          /* literals 0 and 1: 1 bit */
    put_code(&w, 1, 1), put_bits(&w, 138 - 11, 7);   /* 2-139 */
    put_code(&w, 1, 1), put_bits(&w, 118 - 11, 7);   /* 140-256 and distance 0: none */
    expect_inflate_error(&w, 64, "no end-of-block code");

    w = (bit_writer){0};
    put_dynamic_header(&w, 257, 1, cl);
    put_code(&w, 1, 1), put_bits(&w, 138 - 11, 7);
    put_code(&w, 1, 1), put_bits(&w, 138 - 11, 7); /* 276 lengths, for 258 symbols */
    expect_inflate_error(&w, 64, "too many code lengths");
}

/* in_used says where the stream ended; what follows is not touched. */
static void test_reports_input_used(void **state)
{
    (void)state;
    bit_writer w = {0};
    put_bits(&w, 3, 3);
    put_fixed(&w, 'z');
    put_fixed(&w, 256);
    size_t n = written(&w);
    uint8_t in[16] = {0}, out[4];
    memcpy(in, w.buf, n);
    memset(in + n, 0xab, sizeof in - n);
    size_t used = 0, out_len = 0;
    assert_int_equal(nn__inflate(in, sizeof in, out, sizeof out, &used, &out_len, NULL, NULL, NULL), NN_OK);
    assert_int_equal(used, n);
    assert_int_equal(out_len, 1);
    assert_int_equal(out[0], 'z');
    assert_int_equal(nn__inflate(NULL, 1, out, 4, &used, &out_len, NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn__inflate(in, 1, out, 4, NULL, &out_len, NULL, NULL, NULL), NN_ERR_INVALID_ARG);
}

/* A small fuzz: random bytes, and a real stream with random bytes overwritten, each in a
 * buffer of exactly its size. Only NN_OK or NN_ERR_FORMAT may come back, the output stays
 * within its bound, and ASan sees no access outside the buffers. */
static void test_random_input(void **state)
{
    (void)state;
    size_t len;
    uint8_t *gz = fixture_bytes("sample-9.gz", &len);
    const uint8_t *body = gz + 10;
    size_t body_len = len - 18;
    enum { CAP = 40000 };
    uint8_t *out = malloc(CAP);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int trial = 0; trial < 400; trial++) {
        bool mutate = trial % 2;
        size_t n = mutate ? body_len : 1 + nn_rng_next(&rng) % 300;
        uint8_t *in = malloc(n);
        for (size_t i = 0; i < n; i++)
            in[i] = mutate ? body[i] : (uint8_t)nn_rng_next(&rng);
        for (int k = 0; mutate && k < 4; k++)
            in[nn_rng_next(&rng) % n] = (uint8_t)nn_rng_next(&rng);
        size_t used = 0, out_len = 0, cap = nn_rng_next(&rng) % CAP;
        nn_status s = nn__inflate(in, n, out, cap, &used, &out_len, NULL, NULL, NULL);
        assert_true(s == NN_OK || s == NN_ERR_FORMAT);
        if (s == NN_OK)
            assert_true(used <= n && out_len <= cap);
        free(in);
    }
    free(out);
    free(gz);
}

int main(void)
{
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_gzip_levels),
        cmocka_unit_test(test_zlib_stored_and_fixed),
        cmocka_unit_test(test_gzip_header_fields),
        cmocka_unit_test(test_gzip_empty),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_crc32),
    };
    const struct CMUnitTest corrupted[] = {
        cmocka_unit_test(test_gzip_trailer_checks),
        cmocka_unit_test(test_gzip_header_checks),
        cmocka_unit_test(test_gzip_truncated),
        cmocka_unit_test(test_gzip_trailing_data),
        cmocka_unit_test(test_gzip_bit_flips),
    };
    const struct CMUnitTest streams[] = {
        cmocka_unit_test(test_fixed_blocks),
        cmocka_unit_test(test_fixed_block_errors),
        cmocka_unit_test(test_stored_blocks),
        cmocka_unit_test(test_dynamic_block),
        cmocka_unit_test(test_dynamic_header_errors),
        cmocka_unit_test(test_reports_input_used),
        cmocka_unit_test(test_random_input),
    };
    int failed = cmocka_run_group_tests_name("gzip files", files, NULL, NULL);
    failed += cmocka_run_group_tests_name("corrupted gzip files", corrupted, NULL, NULL);
    failed += cmocka_run_group_tests_name("deflate streams", streams, NULL, NULL);
    return failed;
}
