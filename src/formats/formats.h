/* The file formats (src/formats/): the model file and ONNX export, and the atomic file
 * replacement both write with. Never installed. */
#ifndef NN_FORMATS_H
#define NN_FORMATS_H

#include <stdio.h>

#include "net/net.h"

/* Atomic file replacement (file.c). nn__temp_open creates a new file beside path, named
 * "<path>.<k>.tmp" (tmp needs strlen(path) + NN__TEMP_SUFFIX_MAX bytes), never reusing a
 * name; NULL if it cannot. nn__temp_commit closes it and, if everything was written, flushes
 * it to the disk and renames it over path; otherwise, or if any step fails, removes it.
 * True when path now holds the new file. */
#define NN__TEMP_SUFFIX_MAX sizeof ".99.tmp"
FILE *nn__temp_open(const char *path, char *tmp, size_t tmp_size);
bool nn__temp_commit(FILE *f, const char *tmp, const char *path, bool written);

nn_status nn__model_parse(const uint8_t *data, size_t len, const nn_model_opts *opts,
                          nn_model **out);

#endif /* NN_FORMATS_H */
