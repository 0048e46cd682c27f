/* determinism: nn_model_opts.deterministic shown on this machine. Trains two networks with
 * every kernel this CPU runs forced (portable, avx2, avx512, neon) on 1 and 2 threads, and prints
 * one line per run:
 *
 *     determinism net=<name> mode=<fixed|fast> kernel=<kernel> threads=<n> hash=<FNV-1a 64>
 *
 * hash covers the bytes of the parameter buffer (nn_model_params) after training. With
 * --fast the same runs take the fast mode too, whose hashes differ from kernel to kernel.
 * The last line says whether every deterministic run of a network had the same hash; the
 * exit status is 1 if not. The networks: a spiral of 3 arms (2-64-64-3, tanh and ReLU,
 * momentum SGD, batch 16, 20 epochs), and Fashion-MNIST's 784-256-128-10 (ReLU, Adam,
 * batch 64, 2 epochs) on 1,024 synthetic rows. The data come from nn_rng and the four basic
 * operations only (the spiral turns by a rotation matrix), so they are the same on every
 * machine; the spiral's hash may be compared across machines.
 *
 * --one NET KERNEL MODE THREADS trains one configuration (NET spiral or fmnist, MODE fixed or
 * fast) and prints its line alone: the run to measure, e.g. with
 * valgrind --tool=callgrind --toggle-collect=nn_train.
 *
 *   usage: determinism [--fast | --one NET KERNEL MODE THREADS] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

static void check(nn_status s, const char *what, const nn_error *err)
{
    if (s != NN_OK) {
        fprintf(stderr, "determinism: %s: %s\n", what,
                err && err->message[0] ? err->message : nn_status_message(s));
        exit(2);
    }
}

/* 3 arms of N/3 points each: arm c starts at angle 2πc/3 and turns by 4.5 degrees per step
 * as the radius grows from 0 to 1, plus normal noise of 0.02. */
static void spiral(int n, nn_mat *X, nn_mat *Y)
{
    check(nn_mat_alloc(X, n, 2), "alloc", NULL);
    check(nn_mat_alloc(Y, n, 1), "alloc", NULL);
    const float turn_c = 0.99691733f, turn_s = 0.07845910f; /* cos, sin of 4.5 degrees */
    const float arm_c = -0.5f, arm_s = 0.86602540f;        /* cos, sin of 120 degrees */
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    int per_arm = n / 3;
    float ux = 1.0f, uy = 0.0f; /* arm 0's direction at step i */
    for (int i = 0; i < per_arm; i++) {
        float r = (float)i / (float)per_arm;
        float vx = ux, vy = uy;
        for (int c = 0; c < 3; c++) {
            int row = c * per_arm + i;
            X->data[2 * row] = r * vx + 0.02f * nn_rng_normal(&rng);
            X->data[2 * row + 1] = r * vy + 0.02f * nn_rng_normal(&rng);
            Y->data[row] = (float)c;
            float wx = arm_c * vx - arm_s * vy, wy = arm_s * vx + arm_c * vy;
            vx = wx, vy = wy;
        }
        float nx = turn_c * ux - turn_s * uy, ny = turn_s * ux + turn_c * uy;
        ux = nx, uy = ny;
    }
}

/* Rows of 784 pixels in [0, 1) and 10 classes, from a random linear teacher. */
static void pixels(int n, nn_mat *X, nn_mat *Y)
{
    check(nn_mat_alloc(X, n, 784), "alloc", NULL);
    check(nn_mat_alloc(Y, n, 1), "alloc", NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 6);
    for (size_t i = 0; i < (size_t)n * 784; i++)
        X->data[i] = nn_rng_uniform(&rng);
    static float teacher[10 * 784];
    for (int i = 0; i < 10 * 784; i++)
        teacher[i] = nn_rng_uniform(&rng) - 0.5f;
    for (int r = 0; r < n; r++) {
        int best = 0;
        float best_v = -1e30f;
        for (int c = 0; c < 10; c++) {
            float v = 0.0f;
            for (int k = 0; k < 784; k++)
                v += teacher[c * 784 + k] * X->data[(size_t)r * 784 + k];
            if (v > best_v)
                best = c, best_v = v;
        }
        Y->data[r] = (float)best;
    }
}

static uint64_t fnv1a(const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

typedef struct net {
    const char *name;
    int n_in, n_layers;
    nn_layer_spec layers[3];
    nn_optim_opts optim;
    float lr;
    int batch, epochs;
} net;

/* The hash of net's weights after training on X, Y; false if the CPU lacks the kernel. */
static bool train_hash(const net *t, const nn_mat *X, const nn_mat *Y, nn_kernel kernel,
                       int threads, bool deterministic, uint64_t *hash)
{
    nn_error err;
    nn_model_opts mo = {.seed = 1, .threads = threads, .kernel = kernel,
                        .deterministic = deterministic, .error = &err};
    nn_model *m;
    nn_status s = nn_model_create(t->n_in, t->layers, t->n_layers, &mo, &m);
    if (s == NN_ERR_UNSUPPORTED && kernel != NN_KERNEL_PORTABLE) {
        printf("# %s\n", err.message);
        return false;
    }
    check(s, "create", &err);
    nn_train_opts o = nn_train_defaults();
    o.epochs = t->epochs, o.batch_size = t->batch, o.learning_rate = t->lr;
    o.optim = t->optim;
    o.shuffle_seed = 9;
    check(nn_train(m, X, Y, &o), nn_model_errmsg(m), NULL);
    float *p;
    size_t P = nn_model_params(m, &p, NULL);
    *hash = fnv1a(p, P * sizeof *p);
    nn_model_destroy(m);
    return true;
}

static int usage(void)
{
    fprintf(stderr, "usage: determinism [--fast | --one spiral|fmnist KERNEL fixed|fast THREADS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    bool fast = argc == 2 && strcmp(argv[1], "--fast") == 0;
    bool one = argc == 6 && strcmp(argv[1], "--one") == 0;
    if (argc > 1 && !fast && !one)
        return usage();
    int one_net = 0, one_threads = 1;
    nn_kernel one_kernel = NN_KERNEL_AUTO;
    bool one_fixed = true;
    if (one) {
        one_net = strcmp(argv[2], "fmnist") == 0;
        one_fixed = strcmp(argv[4], "fixed") == 0;
        one_threads = atoi(argv[5]);
        while (one_kernel <= NN_KERNEL_NEON && strcmp(nn_kernel_name(one_kernel), argv[3]))
            one_kernel++;
        if ((!one_net && strcmp(argv[2], "spiral")) || (!one_fixed && strcmp(argv[4], "fast")) ||
            one_kernel > NN_KERNEL_NEON || one_threads < 1 || one_threads > 2)
            return usage();
    }
    net nets[] = {
        {"spiral-2-64-64-3", 2, 3,
         {{.units = 64, .act = NN_ACT_TANH}, {.units = 64, .act = NN_ACT_RELU},
          {.units = 3, .act = NN_ACT_SOFTMAX}},
         {.kind = NN_OPT_SGD, .momentum = 0.9f}, 0.05f, 16, 20},
        {"fmnist-784-256-128-10", 784, 3,
         {{.units = 256, .act = NN_ACT_RELU}, {.units = 128, .act = NN_ACT_RELU},
          {.units = 10, .act = NN_ACT_SOFTMAX}},
         {.kind = NN_OPT_ADAM}, 1e-3f, 64, 2},
    };
    const nn_kernel kernels[] = {NN_KERNEL_PORTABLE, NN_KERNEL_AVX2, NN_KERNEL_AVX512,
                                 NN_KERNEL_NEON};
    bool all_equal = true;
    for (int t = 0; t < 2; t++) {
        if (one && t != one_net)
            continue;
        nn_mat X, Y;
        if (t == 0)
            spiral(600, &X, &Y);
        else
            pixels(1024, &X, &Y);
        if (one) {
            uint64_t h;
            if (!train_hash(&nets[t], &X, &Y, one_kernel, one_threads, one_fixed, &h))
                return 2;
            printf("determinism net=%s mode=%s kernel=%s threads=%d hash=%016" PRIx64 "\n",
                   nets[t].name, one_fixed ? "fixed" : "fast", argv[3], one_threads, h);
            return 0;
        }
        for (int mode = 1; mode >= (fast ? 0 : 1); mode--) {
            uint64_t first = 0;
            int runs = 0;
            for (int k = 0; k < 3; k++)
                for (int threads = 1; threads <= 2; threads++) {
                    uint64_t h;
                    if (!train_hash(&nets[t], &X, &Y, kernels[k], threads, mode == 1, &h))
                        break;
                    printf("determinism net=%s mode=%s kernel=%s threads=%d hash=%016" PRIx64
                           "\n", nets[t].name, mode ? "fixed" : "fast",
                           nn_kernel_name(kernels[k]), threads, h);
                    fflush(stdout);
                    if (runs++ == 0)
                        first = h;
                    else if (mode == 1 && h != first)
                        all_equal = false;
                }
        }
        nn_mat_free(&X);
        nn_mat_free(&Y);
    }
    printf("determinism all_equal=%s\n", all_equal ? "yes" : "NO");
    return all_equal ? 0 : 1;
}
