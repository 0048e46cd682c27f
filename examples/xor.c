/* XOR: the smallest problem no straight line solves. A 2-4-1 network (tanh hidden layer,
 * sigmoid output, binary cross-entropy) learns it; the program prints the loss as it goes and
 * the final truth table, and exits non-zero unless all four answers are on the right side of
 * 0.5. */
#include <stdio.h>

#include <nn.h>

static int report(void *user, const nn_epoch_info *info)
{
    (void)user;
    if (info->epoch % 500 == 0)
        printf("epoch %4d  loss %.5f  accuracy %.2f\n", info->epoch, info->loss, info->accuracy);
    return 0;
}

int main(void)
{
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0}, p[4];
    nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1), P = nn_mat_wrap(p, 4, 1);
    nn_layer_spec layers[] = {
        {.units = 4, .act = NN_ACT_TANH},
        {.units = 1, .act = NN_ACT_SIGMOID},
    };
    nn_error err; /* where nn_model_create says what was wrong, if anything */
    nn_model_opts mopts = {.seed = 42, .error = &err};
    nn_model *model = NULL;
    nn_status s = nn_model_create(2, layers, 2, &mopts, &model);
    char summary[512];
    if (s == NN_OK && nn_model_summary(model, summary, sizeof summary, NULL) == NN_OK)
        fputs(summary, stdout);

    nn_train_opts opts = nn_train_defaults();
    opts.epochs = 2000;
    opts.batch_size = 4; /* the whole set: four samples are one batch */
    opts.learning_rate = 0.5f;
    opts.loss = NN_LOSS_BCE;
    opts.on_epoch = report;
    if (s == NN_OK)
        s = nn_train(model, &X, &Y, &opts);
    if (s == NN_OK)
        s = nn_predict(model, &X, &P);
    if (s != NN_OK) {
        /* The status says what kind of failure; the message says what to fix. */
        fprintf(stderr, "xor: %s: %s\n", nn_status_message(s),
                model ? nn_model_errmsg(model) : err.message);
        nn_model_destroy(model);
        return 1;
    }

    int right = 0;
    printf("\n a  b | a xor b | network\n");
    for (int i = 0; i < 4; i++) {
        right += (p[i] > 0.5f) == (y[i] > 0.5f);
        printf(" %g  %g |    %g    | %.4f\n", x[2 * i], x[2 * i + 1], y[i], p[i]);
    }
    printf("%d of 4 right\n", right);
    nn_model_destroy(model);
    return right == 4 ? 0 : 1;
}
