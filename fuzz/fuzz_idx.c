/* Fuzz target: the IDX parser (on decompressed bytes). */
#include "nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_mat out = {0};
    if (nn__idx_parse(data, size, &out, NULL, NULL, NULL) == NN_OK)
        nn_mat_free(&out);
    return 0;
}
