/* The file formats (src/formats/): the model file and ONNX export, and the atomic file
 * replacement both write with. Never installed. */
#ifndef NN_FORMATS_H
#define NN_FORMATS_H

#include <stdio.h>

#include "net/net.h"

/* Writes the file at path atomically (file.c): write(f, ctx) fills a new temporary file
 * beside path, which, if write returned true, is flushed to the disk and renamed over path;
 * otherwise, or if any step fails, it is removed and path keeps the file it had. NN_OK when
 * path now holds the new file; NN_ERR_INVALID_ARG for an empty path or one of more than
 * NN__PATH_MAX bytes; NN_ERR_IO. why (NN_ERRMSG_SIZE bytes, may be NULL) gets the failing
 * step, the file and the system's reason. Allocates nothing. */
#define NN__PATH_MAX 4096
nn_status nn__write_atomic(const char *path, bool (*write)(FILE *f, void *ctx), void *ctx,
                           char *why);

/* nn_model_load on the bytes of a file; why (NN_ERRMSG_SIZE bytes, may be NULL) gets what
 * is wrong with a file that is refused. */
nn_status nn__model_parse(const uint8_t *data, size_t len, const nn_model_opts *opts,
                          nn_model **out, char *why);

#endif /* NN_FORMATS_H */
