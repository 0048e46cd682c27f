/* Two models, each splitting its products and element-wise passes over 2 threads of its own,
 * trained at the same time in two threads of the caller's, end with the weights of the same
 * two trained one after the other on one thread each: a different split of every product
 * (none), so a part cut wrongly, a part computed twice or left out, or a race between the two
 * models fails it. CI also runs this under ThreadSanitizer, which reports any data race. */
#include <pthread.h>

#include "test_util.h"

enum { N = 256, I = 24, O = 3 };

typedef struct job {
    uint64_t seed;
    int threads; /* the model's own: nn_model_opts.threads */
    const nn_mat *X, *Y;
    nn_model *model;
    nn_status status;
} job;

static void *train_job(void *arg)
{
    job *j = arg;
    /* Wide enough that its products are split: 64 rows × 256 × 24 and more. */
    nn_layer_spec specs[] = {{.units = 256, .act = NN_ACT_RELU},
                             {.units = 48, .act = NN_ACT_TANH},
                             {.units = O, .act = NN_ACT_SOFTMAX}};
    nn_model_opts mo = {.seed = j->seed, .threads = j->threads};
    j->status = nn_model_create(I, specs, 3, &mo, &j->model);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 4;
    o.batch_size = 64;
    o.learning_rate = 0.05f;
    o.shuffle_seed = j->seed + 1;
    if (j->status == NN_OK)
        j->status = nn_train(j->model, j->X, j->Y, &o);
    return NULL;
}

static void test_concurrent_equals_sequential(void **state)
{
    (void)state;
    static float x[N * I], y[N];
    nn_mat X = nn_mat_wrap(x, N, I), Y = nn_mat_wrap(y, N, 1);
    fill_uniform(&X, -1, 1, 12);
    for (int i = 0; i < N; i++)
        y[i] = (float)((x[i * I] > 0) + (x[i * I + 1] > 0.5f));
    job seq[2] = {{.seed = 1, .threads = 1, .X = &X, .Y = &Y},
                  {.seed = 2, .threads = 1, .X = &X, .Y = &Y}};
    job par[2] = {seq[0], seq[1]};
    par[0].threads = par[1].threads = 2;
    train_job(&seq[0]);
    train_job(&seq[1]);
    pthread_t threads[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&threads[k], NULL, train_job, &par[k]), 0);
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_join(threads[k], NULL), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(seq[k].status, NN_OK);
        assert_int_equal(par[k].status, NN_OK);
        float *ps, *pp;
        size_t P = nn_model_params(seq[k].model, &ps, NULL);
        assert_int_equal(nn_model_params(par[k].model, &pp, NULL), P);
        assert_memory_equal(ps, pp, P * sizeof(float));
        nn_model_destroy(seq[k].model);
        nn_model_destroy(par[k].model);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_equals_sequential),
    };
    return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
