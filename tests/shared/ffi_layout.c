/* Prints what a foreign-function binding must agree with: the version and the size of every
 * struct that tests/shared/ffi_xor.py mirrors with ctypes, one "name value" a line. */
#include <stdio.h>

#include <nn.h>

int main(void)
{
    printf("version %s\n", NN_VERSION_STRING);
    printf("nn_error %zu\n", sizeof(nn_error));
    printf("nn_mat %zu\n", sizeof(nn_mat));
    printf("nn_layer_spec %zu\n", sizeof(nn_layer_spec));
    printf("nn_model_opts %zu\n", sizeof(nn_model_opts));
    printf("nn_optim_opts %zu\n", sizeof(nn_optim_opts));
    printf("nn_schedule %zu\n", sizeof(nn_schedule));
    printf("nn_epoch_info %zu\n", sizeof(nn_epoch_info));
    printf("nn_train_opts %zu\n", sizeof(nn_train_opts));
    return 0;
}
