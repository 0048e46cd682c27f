/* libnn on threads with musl's default stack (128 KiB), built with musl-gcc by
 * .ci/steps/60-musl.sh (not a cmocka test: Debian's cmocka is built for glibc).
 *
 * A model with one worker thread is trained, predicts and a matrix product is taken, once on
 * the main thread (whose stack is the process's, 8 MiB) and once on a thread started with
 * the default attributes; both must succeed and give the same bits. When the products' 226
 * KiB of packing buffers lived on the calling thread's stack, the second run overflowed it
 * (nn_train then failed, its memory overwritten). Exit status 0 on success. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"

enum { N = 256, IN = 784, HID = 256, OUT = 10, ROWS = 64 };

typedef struct result {
    int failed_at;            /* 0, or the step that failed */
    float out[ROWS * OUT];    /* the predictions for the first ROWS rows */
    float gram[ROWS * ROWS];  /* X·Xᵀ of those rows */
} result;

static result on_main, on_thread;

/* A deterministic data set: a fixed linear congruential stream. */
static void fill(nn_mat *X, nn_mat *Y)
{
    unsigned s = 1;
    for (int i = 0; i < N * IN; i++) {
        s = s * 1664525u + 1013904223u;
        X->data[i] = (float)(s >> 8) / (float)(1 << 24);
    }
    for (int i = 0; i < N; i++)
        Y->data[i] = (float)(i % OUT);
}

static int run(result *r)
{
    nn_mat X, Y;
    if (nn_mat_alloc(&X, N, IN) != NN_OK || nn_mat_alloc(&Y, N, 1) != NN_OK)
        return 1;
    fill(&X, &Y);
    nn_layer_spec specs[] = {{.units = HID, .act = NN_ACT_RELU},
                             {.units = OUT, .act = NN_ACT_SOFTMAX}};
    nn_model_opts mo = {.seed = 1, .threads = 2};
    nn_model *m = NULL;
    int failed_at = 0;
    if (nn_model_create(IN, specs, 2, &mo, &m) != NN_OK)
        failed_at = 2;
    nn_train_opts o = nn_train_defaults();
    o.epochs = 2;
    o.batch_size = ROWS;
    nn_mat Xr = nn_mat_wrap(X.data, ROWS, IN), Out = nn_mat_wrap(r->out, ROWS, OUT);
    nn_mat G = nn_mat_wrap(r->gram, ROWS, ROWS);
    if (!failed_at && nn_train(m, &X, &Y, &o) != NN_OK)
        failed_at = 3;
    if (!failed_at && nn_predict(m, &Xr, &Out) != NN_OK)
        failed_at = 4;
    if (!failed_at && nn_mat_mul(&G, &Xr, false, &Xr, true, 1.0f, 0.0f) != NN_OK)
        failed_at = 5;
    nn_model_destroy(m);
    nn_mat_free(&X);
    nn_mat_free(&Y);
    return failed_at;
}

static void *thread_main(void *arg)
{
    (void)arg;
    on_thread.failed_at = run(&on_thread);
    return NULL;
}

int main(void)
{
    on_main.failed_at = run(&on_main);
    pthread_t t;
    on_thread.failed_at = -1;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0) {
        fprintf(stderr, "thread_stack: cannot run a thread\n");
        return 1;
    }
    bool same = memcmp(on_main.out, on_thread.out, sizeof on_main.out) == 0 &&
                memcmp(on_main.gram, on_thread.gram, sizeof on_main.gram) == 0;
    printf("thread_stack: main thread %s, default-stack thread %s, same results: %s\n",
           on_main.failed_at ? "FAILED" : "ok", on_thread.failed_at ? "FAILED" : "ok",
           same ? "yes" : "no");
    return on_main.failed_at || on_thread.failed_at || !same;
}
