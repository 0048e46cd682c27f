/* Uses libnn as a program outside the project would: the public header only, and the
 * library with what its package says it needs (this file calls nothing from libm itself, so
 * the link proves that libm comes with libnn). Exits non-zero on any failure. */
#include <nn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(nn_version(), NN_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", NN_VERSION_STRING, nn_version());
        return 1;
    }
#ifdef NN_EXPECTED_VERSION
    if (strcmp(nn_version(), NN_EXPECTED_VERSION) != 0) {
        fprintf(stderr, "package %s, library %s\n", NN_EXPECTED_VERSION, nn_version());
        return 1;
    }
#endif
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0}, out[4];
    nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1), P = nn_mat_wrap(out, 4, 1);
    nn_layer_spec layers[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    nn_model *model;
    nn_status s = nn_model_create(2, layers, 2, NULL, &model);
    if (s != NN_OK) {
        fprintf(stderr, "nn_model_create: %s\n", nn_status_message(s));
        return 1;
    }
    nn_train_opts opts = nn_train_defaults();
    opts.epochs = 50;
    opts.batch_size = 4;
    s = nn_train(model, &X, &Y, &opts);
    if (s == NN_OK)
        s = nn_predict(model, &X, &P);
    nn_model_destroy(model);
    if (s != NN_OK) {
        fprintf(stderr, "training: %s\n", nn_status_message(s));
        return 1;
    }
    for (int i = 0; i < 4; i++)
        if (!(out[i] > 0.0f && out[i] < 1.0f)) {
            fprintf(stderr, "output %d is %g, not a probability\n", i, out[i]);
            return 1;
        }
    printf("libnn %s: a 2-4-1 network trained and predicted\n", nn_version());
    return 0;
}
