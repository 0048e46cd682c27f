/* Internal declarations of the data readers, shared between src/csv.c, src/idx.c,
 * src/inflate.c and src/readfile.c and reached by the tests (never installed).
 * The parsers work on bytes in memory, so tests and fuzzers can call them without files. */
#ifndef NN_DATA_INTERNAL_H
#define NN_DATA_INTERNAL_H

#include "base/base.h"

/* CRC-32 of ISO 3309 / ITU-T V.42 (the one of gzip and PNG), continued from crc: start with 0. */
uint32_t nn__crc32(uint32_t crc, const uint8_t *data, size_t n);

/* Inflates one raw deflate stream (RFC 1951) from in[0..in_len) into out[0..out_cap).
 * On NN_OK *out_len is the bytes written and *in_used the bytes of input the stream took
 * (its last, partly used byte included). Anything invalid, a stream that ends early or one
 * that would write more than out_cap bytes is NN_ERR_FORMAT, with *why (if why is not NULL)
 * set to a static string naming the reason. Reads and writes stay within the two buffers
 * whatever the input. */
nn_status nn__inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                      size_t *in_used, size_t *out_len, const char **why, nn_alloc_fn alloc,
                      void *user);

/* Decompresses a gzip file held in memory (RFC 1952): exactly one member and nothing after
 * it. The output size comes from the member's trailer and is bounded by the most that
 * deflate can expand the input (1032:1) before it is allocated; the output must have exactly
 * that size and CRC-32. On NN_OK *out is a block of *out_len bytes from alloc(user), whose
 * size is *out_len or 1 if that is 0 (free it with alloc(user, *out, max(*out_len, 1), 0)).
 * Everything here and in nn__inflate (whose decoder state is allocated too) comes from alloc,
 * NULL meaning the C library's. */
nn_status nn__gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                     const char **why, nn_alloc_fn alloc, void *user);

/* True if data starts with the gzip magic bytes 1f 8b. */
bool nn__is_gzip(const uint8_t *data, size_t len);

/* Reads the whole file at path into a block of *len bytes from alloc(user), *cap >= 1 bytes
 * large (free it with alloc(user, *data, *cap, 0)). regular_only (the model loader): only a
 * regular file, read as the size it has, in a block of that size; NN_ERR_IO for anything
 * else (a directory, a pipe) or a short read. Otherwise any stream, to its end. NN_ERR_IO if
 * it cannot be opened or read, NN_ERR_NOMEM. why (NN_ERRMSG_SIZE bytes, may be NULL) gets
 * the reason with the path and the system's words, e.g. `cannot open "x": No such file`. */
nn_status nn__read_whole(const char *path, bool regular_only, nn_alloc_fn alloc, void *user,
                         uint8_t **data, size_t *len, size_t *cap, char *why);
/* Reads a whole file into a block of *len bytes from alloc(user) (NULL: the C library's),
 * *cap >= 1 bytes large (a block even when the file is empty; free it with alloc(user,
 * *data, *cap, 0)), gunzipping it first if it is gzip. NN_ERR_IO, NN_ERR_NOMEM, or
 * NN_ERR_FORMAT for a bad gzip file; why as nn__read_whole's. */
nn_status nn__read_file(const char *path, nn_alloc_fn alloc, void *user, uint8_t **data,
                        size_t *len, size_t *cap, char *why);

/* nn_csv_load on text[0..len) instead of a file (text need not end with a 0). */
nn_status nn__csv_parse(const char *text, size_t len, const nn_csv_opts *opts, nn_mat *X,
                        nn_mat *Y, nn_csv_error *err);

/* nn_idx_load on the (already decompressed) bytes of an IDX file, *out from alloc(user)
 * (NULL: the C library's); why (NN_ERRMSG_SIZE bytes, may be NULL) gets what was wrong. */
nn_status nn__idx_parse(const uint8_t *data, size_t len, nn_mat *out, char *why,
                        nn_alloc_fn alloc, void *user);

#endif /* NN_DATA_INTERNAL_H */
