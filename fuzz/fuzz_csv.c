/* Fuzz target: the CSV parser, with the options drawn from the input's first bytes. */
#include <string.h>

#include "nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char delimiters[] = ",;\t |";
    int targets[2] = {data[1] & 7, data[1] >> 3 & 7};
    nn_csv_opts opts = {.delimiter = delimiters[data[0] % 5],
                        .header = data[0] & 8,
                        .n_targets = data[0] & 16 ? 2 : 1,
                        .target_cols = data[0] & 32 ? targets : NULL};
    nn_mat X = {0}, Y = {0};
    nn_csv_error err;
    bool with_y = !(data[0] & 64);
    if (nn__csv_parse((const char *)data + 2, size - 2, &opts, &X, with_y ? &Y : NULL, &err) ==
        NN_OK) {
        nn_mat_free(&X);
        nn_mat_free(&Y);
    }
    return 0;
}
