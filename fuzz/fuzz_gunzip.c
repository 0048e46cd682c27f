/* Fuzz target: gzip decompression (header, deflate stream, CRC-32 and size trailer), and the
 * raw inflate into a small fixed buffer, where running out of room must be caught. */
#include <stdlib.h>

#include "nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL;
    size_t out_len = 0, used = 0;
    const char *why = NULL;
    if (nn__gunzip(data, size, &out, &out_len, &why, NULL, NULL) == NN_OK)
        free(out);
    uint8_t small[4096];
    nn__inflate(data, size, small, sizeof small, &used, &out_len, &why, NULL, NULL);
    return 0;
}
