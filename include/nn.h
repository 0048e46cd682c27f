/**
 * @file
 * libnn — a small C library for building and training neural networks.
 *
 * The header is the manual. A complete program that learns XOR:
 *
 *     #include <nn.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         float x[] = {0,0, 0,1, 1,0, 1,1}, y[] = {0, 1, 1, 0};
 *         nn_mat X = nn_mat_wrap(x, 4, 2), Y = nn_mat_wrap(y, 4, 1);
 *         nn_layer_spec layers[] = {
 *             {.units = 4, .act = NN_ACT_TANH},
 *             {.units = 1, .act = NN_ACT_SIGMOID},
 *         };
 *         nn_model *model;
 *         nn_status s = nn_model_create(2, layers, 2, NULL, &model);
 *         if (s != NN_OK) { fprintf(stderr, "%s\n", nn_status_message(s)); return 1; }
 *
 *         nn_train_opts opts = nn_train_defaults();
 *         opts.epochs = 2000; opts.batch_size = 4; opts.learning_rate = 0.5f;
 *         s = nn_train(model, &X, &Y, &opts);         // loss: sigmoid output -> BCE
 *
 *         float out[4]; nn_mat P = nn_mat_wrap(out, 4, 1);
 *         if (s == NN_OK) s = nn_predict(model, &X, &P);
 *         for (int i = 0; s == NN_OK && i < 4; i++)
 *             printf("%g xor %g -> %.3f\n", x[2*i], x[2*i+1], out[i]);
 *         nn_model_destroy(model);
 *         return s != NN_OK;
 *     }
 *
 * Conventions used everywhere below
 *   - Matrices are row-major float. A batch is one matrix with one sample per row:
 *     X is (batch, n_in), the model's output is (batch, n_out).
 *   - A dense layer holds W as (n_out, n_in) and b as (n_out) and computes
 *     Z = X·Wᵀ + b, A = g(Z) — the layout of PyTorch's nn.Linear and ONNX Gemm(transB=1).
 *   - Every function that can fail returns an nn_status; NN_OK is 0. On failure nothing the
 *     caller owns has been changed. The library never prints, exits or aborts.
 *   - Objects are not shared between threads without the caller's locking; distinct models
 *     may be used from distinct threads at once (the library keeps no global state).
 *   - The matrix products pack their operands into buffers of about 1.1 MiB per thread
 *     (only the part a product's blocks need is touched): a model allocates them through its
 *     allocator the first time one of its products needs them, and nn_mat_mul for the call.
 *     Nothing large lives on the stack, so threads with small stacks (musl's 128 KiB) do.
 *   - Shape letters in comments: B batch rows, I inputs of a layer, O outputs of a layer,
 *     M/N/K the dimensions of a matrix product.
 */
#ifndef NN_H
#define NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libnn is compiled with hidden visibility: what this header declares, and nothing else, is
 * exported from libnn.so (the internal nn__ functions stay inside it). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* ---------------------------------------------------------------- version */

/* The define lines stay bare: CMake reads the version from them (CMakeLists.txt). */
/** Incompatible API changes (docs/STABILITY.md). */
#define NN_VERSION_MAJOR 0
/** Additions. */
#define NN_VERSION_MINOR 1
/** Fixes. */
#define NN_VERSION_PATCH 0
/** "MAJOR.MINOR.PATCH", what nn_version() returns. */
#define NN_VERSION_STRING "0.1.0"

/** The version the library was built as, "MAJOR.MINOR.PATCH" (compare with NN_VERSION_STRING). */
const char *nn_version(void);

/* ----------------------------------------------------------------- status */

/** X(name, code, message): the one list the enum and the messages are generated from. */
#define NN_STATUS_LIST(X)                                                        \
    X(NN_OK, 0, "success")                                                       \
    X(NN_ERR_INVALID_ARG, 1, "invalid argument")                                 \
    X(NN_ERR_SHAPE, 2, "shape mismatch")                                         \
    X(NN_ERR_NOMEM, 3, "out of memory")                                          \
    X(NN_ERR_IO, 4, "I/O error")                                                 \
    X(NN_ERR_FORMAT, 5, "bad file format")                                       \
    X(NN_ERR_VERSION, 6, "unsupported format version")                           \
    X(NN_ERR_DIVERGED, 7, "training diverged: loss or weights became NaN or infinite") \
    X(NN_ERR_LABEL, 8, "class label out of range or not an integer")             \
    X(NN_ERR_LOSS_ACT, 9, "loss does not fit the output activation")             \
    X(NN_ERR_STATE, 10, "backward needs a forward pass on this model first")     \
    X(NN_ERR_NOT_FOUND, 11, "no such entry")                                     \
    X(NN_ERR_DATA, 12, "the data holds a value that is not finite")              \
    X(NN_ERR_UNSUPPORTED, 13, "not supported by this CPU or this build")

/** What a call did: NN_OK (0) or the reason it did nothing. */
typedef enum nn_status {
#define NN_STATUS_ENUM_(name, code, msg) name = code,
    NN_STATUS_LIST(NN_STATUS_ENUM_)
#undef NN_STATUS_ENUM_
} nn_status;

/** A static, human-readable message for a status; never NULL (unknown codes get one too). */
const char *nn_status_message(nn_status status);

/* The status says what kind of failure; a detail message says what to fix: the function,
 * the argument or field, the shapes or values expected and given, and for a file its path
 * and the system's reason (strerror). A model keeps the message of its last failed call
 * (nn_model_errmsg); the calls that have no model to keep it — nn_model_create,
 * nn_model_load, the file readers — write it into an nn_error the caller passes. The
 * matrix, activation, loss and data helpers, whose arguments are all in the caller's hand,
 * return the status alone. No message is kept anywhere else: the library has no global
 * state. A message is for people; programs test the status. */

/** The size of a detail message, its NUL included; a longer one is cut short. */
#define NN_ERRMSG_SIZE 256

/** Where a call that has no model writes what happened: written on every return. */
typedef struct nn_error {
    nn_status status;             /**< what the call returned */
    char message[NN_ERRMSG_SIZE]; /**< its detail, "" after NN_OK */
} nn_error;

/* ------------------------------------------------------- random numbers */

/** Seeded generator (xoshiro128**) with explicit state: same seed, same numbers on every
 * platform. Copy the struct to fork a stream. */
typedef struct nn_rng {
    uint32_t s[4]; /**< the generator's state: never all zero once seeded */
} nn_rng;

/** Seeds the generator; every 64-bit seed (0 included) gives a distinct, valid stream. */
void nn_rng_seed(nn_rng *rng, uint64_t seed);
/** Next 32 random bits. */
uint32_t nn_rng_next(nn_rng *rng);
/** Uniform float in [0, 1), 24 random bits. */
float nn_rng_uniform(nn_rng *rng);
/** Standard normal N(0, 1) (Marsaglia's polar method, computed in double). */
float nn_rng_normal(nn_rng *rng);
/** Shuffles items[0..n) in place (Fisher–Yates, every order equally likely): the order of
 * samples an own training loop visits, the same permutation nn_train draws from the same
 * state. NN_ERR_INVALID_ARG for a NULL rng, n < 0, or NULL items with n > 0. */
nn_status nn_rng_shuffle(nn_rng *rng, int *items, int n);

/* --------------------------------------------------------------- matrices */

/** realloc-shaped allocator (Lua's lua_Alloc): nsize == 0 frees ptr and returns NULL;
 * otherwise returns a block of nsize bytes holding the first min(osize, nsize) bytes of ptr
 * (ptr NULL: a new block), or NULL on failure, leaving ptr untouched. */
typedef void *(*nn_alloc_fn)(void *user, void *ptr, size_t osize, size_t nsize);

/** A row-major matrix: element (r, c) is data[r * cols + c]. It either owns its data
 * (nn_mat_alloc / nn_mat_free) or wraps memory the caller owns (nn_mat_wrap). */
typedef struct nn_mat {
    int rows;    /**< > 0 for every operation */
    int cols;    /**< > 0 for every operation */
    float *data; /**< (rows, cols) */
} nn_mat;

/** A view of caller memory; nothing is copied or allocated, nothing is to be freed. */
nn_mat nn_mat_wrap(float *data, int rows, int cols);
/** Allocates a zero-filled (rows, cols) matrix with the C library's calloc. NN_ERR_NOMEM,
 * without asking calloc, for one over PTRDIFF_MAX bytes (INT_MAX × INT_MAX, say). */
nn_status nn_mat_alloc(nn_mat *m, int rows, int cols);
/** Frees what nn_mat_alloc allocated and zeroes *m; NULL or an empty matrix is fine. */
void nn_mat_free(nn_mat *m);
/** nn_mat_alloc with the caller's allocator alloc(user) (NULL: the C library's calloc): a
 * block of rows·cols·sizeof(float) bytes, zero-filled. Free it with nn_mat_free_with and the
 * same allocator. */
nn_status nn_mat_alloc_with(nn_mat *m, int rows, int cols, nn_alloc_fn alloc, void *user);
/** Frees a matrix from nn_mat_alloc_with (or a reader given alloc) through the same alloc and
 * user (NULL: nn_mat_free), and zeroes *m; NULL or an empty matrix is fine. */
void nn_mat_free_with(nn_mat *m, nn_alloc_fn alloc, void *user);

/** C = alpha·op(A)·op(B) + beta·C, op(X) = Xᵀ when trans_x is true.
 * op(A) is (M, K), op(B) is (K, N), C is (M, N); C must not overlap A or B.
 * With beta == 0, C is only written, never read (it may hold NaNs). A product of 512
 * multiply-adds or more may allocate packing buffers (about 1.1 MiB) for the call:
 * NN_ERR_NOMEM if they cannot be had. */
nn_status nn_mat_mul(nn_mat *C, const nn_mat *A, bool trans_a, const nn_mat *B, bool trans_b,
                     float alpha, float beta);
/** Y += alpha·X, element-wise; X and Y have the same shape. */
nn_status nn_mat_add(nn_mat *Y, float alpha, const nn_mat *X);
/** X *= alpha. */
nn_status nn_mat_scale(nn_mat *X, float alpha);
/** index[r] = the column of row r's largest element (the first on ties): the "hardmax". */
nn_status nn_mat_argmax(const nn_mat *X, int *index /* (X->rows) */);

/* ------------------------------------------------------------ activations */

/** a = g(z), element-wise except softmax (per row). g' is given in terms of z or a. */
typedef enum nn_act {
    NN_ACT_LINEAR = 0,     /**< a = z;                          a' = 1 */
    NN_ACT_SIGMOID = 1,    /**< a = 1 / (1 + e^-z);             a' = a (1 - a) */
    NN_ACT_TANH = 2,       /**< a = (e^z - e^-z) / (e^z + e^-z); a' = 1 - a² */
    NN_ACT_RELU = 3,       /**< a = max(0, z);                  a' = z > 0 ? 1 : 0 (0 at z = 0, as PyTorch) */
    NN_ACT_LEAKY_RELU = 4, /**< a = z > 0 ? z : s·z;            a' = z > 0 ? 1 : s; s = param, 0 → 0.01 */
    NN_ACT_SOFTMAX = 5,    /**< a_i = e^(z_i) / Σ_j e^(z_j) per row; da → dz: dz_i = a_i (da_i - Σ_j da_j a_j) */
    NN_ACT_ELU = 6,        /**< a = z > 0 ? z : α(e^z - 1);       a' = z > 0 ? 1 : a + α; α = param, 0 → 1 */
    NN_ACT_GELU = 7,       /**< a = z·Φ(z) = z/2 (1 + erf(z/√2)); a' = Φ(z) + z·e^(-z²/2)/√(2π) (exact, not tanh) */
    NN_ACT_PRELU = 8,      /**< leaky ReLU whose slope s is learned, one per layer; starts at param (0 → 0.25) */
    NN_ACT_PRELU_UNITS = 9,/**< the same with one learned slope per unit; ∂L/∂s_j = Σ_{z_j <= 0} z_j·∂L/∂a_j */
} nn_act;

/** A = g(Z) (A may be Z itself). param: the leaky ReLU slope (0 → 0.01), ignored otherwise. */
nn_status nn_act_forward(nn_mat *A, const nn_mat *Z, nn_act act, float param);
/** dZ = dL/dZ from dA = dL/dA, given the forward's Z and A (dZ may be dA itself). */
nn_status nn_act_backward(nn_mat *dZ, const nn_mat *dA, const nn_mat *Z, const nn_mat *A,
                          nn_act act, float param);

/* ----------------------------------------------------------------- losses */

/** Every loss is a mean, as PyTorch's reduction='mean'. Y, the targets, has the shape of the
 * output (B, O), except that cross-entropy also takes class indices: Y of shape (B, 1)
 * holding 0 .. O-1 as floats. */
typedef enum nn_loss {
    NN_LOSS_AUTO = 0,    /**< picked from the output activation: softmax → CE, sigmoid → BCE, else MSE */
    NN_LOSS_MSE = 1,     /**< L = 1/(B·O) Σ (a - y)² */
    NN_LOSS_BCE = 2,     /**< sigmoid output only, from its logits z:
                            L = 1/(B·O) Σ [max(z,0) - z·y + log(1 + e^-|z|)]; dL/dz = (a - y)/(B·O) */
    NN_LOSS_CE = 3,      /**< softmax output only, from its logits z (log-sum-exp, never log(softmax)):
                            L = 1/B Σ_rows Σ_j y_j (logsumexp(z) - z_j); dL/dz = (a·Σy - y)/B */
} nn_loss;

/** The loss of one batch and, if dOut is not NULL, its gradient with respect to Out.
 * Out is the output activation's input (the logits Z) for BCE and CE, its output A for MSE;
 * loss must not be NN_LOSS_AUTO here. */
nn_status nn_loss_eval(nn_loss loss, const nn_mat *Out, const nn_mat *Y, float *value,
                       nn_mat *dOut /* (B, O) or NULL */);

/* --------------------------------------------------------- initialisation */

/** How a dense layer's W is drawn (b always starts at 0). */
typedef enum nn_init {
    NN_INIT_AUTO = 0,           /**< He normal before ReLU / leaky ReLU, Xavier uniform otherwise */
    NN_INIT_XAVIER_UNIFORM = 1, /**< U(-r, r), r = sqrt(6 / (fan_in + fan_out)) */
    NN_INIT_XAVIER_NORMAL = 2,  /**< N(0, σ²), σ = sqrt(2 / (fan_in + fan_out)) */
    NN_INIT_HE_NORMAL = 3,      /**< N(0, σ²), σ = sqrt(2 / fan_in) */
    NN_INIT_NORMAL = 4,         /**< N(0, σ²), σ = param (0 → 0.01) */
    NN_INIT_ZEROS = 5,          /**< all 0: every unit stays identical (the symmetry problem) */
} nn_init;

/** Fills W (fan_out, fan_in) from rng. param: σ for NN_INIT_NORMAL, ignored otherwise;
 * NN_INIT_AUTO is not accepted here (it needs the activation). */
nn_status nn_init_fill(nn_mat *W, nn_init init, float param, nn_rng *rng);

/* ------------------------------------------------------------------ model */

/** One dense layer. A zeroed spec field means its default. */
typedef struct nn_layer_spec {
    int units;       /**< O, the layer's width (> 0) */
    nn_act act;      /**< its activation */
    float act_param; /**< leaky ReLU slope (0 → 0.01), ELU's α (0 → 1) */
    nn_init init;    /**< how W is drawn; b starts at 0 */
    float init_param;/**< σ for NN_INIT_NORMAL (0 → 0.01) */
    float dropout;   /**< inverted dropout on the layer's output while training, in [0, 1):
                          each output is zeroed with this probability and the others scaled
                          by 1/(1 - dropout); nn_predict and nn_evaluate never drop. Not on
                          the last layer. */
} nn_layer_spec;


/** The matrix-product kernel a model runs (nn_model_opts.kernel, nn_model_kernel). Every
 * kernel computes the same products; they differ in speed and in the last bits of the sums
 * (each adds the products in its own order). */
typedef enum nn_kernel {
    NN_KERNEL_AUTO = 0, /**< the fastest this CPU runs: AVX-512, AVX2, NEON, or portable */
    NN_KERNEL_PORTABLE, /**< blocked C, any CPU (GNU C vectors: SSE, NEON, ... or scalars) */
    NN_KERNEL_AVX2,     /**< x86-64 with AVX2 and FMA */
    NN_KERNEL_AVX512,   /**< x86-64 with AVX-512F (and AVX2 and FMA) */
    NN_KERNEL_NEON      /**< aarch64 (NEON, with fused multiply-adds); builds for aarch64 only */
} nn_kernel;

/** The kernel's name: "auto", "portable", "avx2", "avx512", "neon"; "unknown kernel"
 * otherwise. */
const char *nn_kernel_name(nn_kernel kernel);

/** How to build a model; NULL or zeroed: seed 0, the C library's allocator, one thread, the
 * fastest kernel. */
typedef struct nn_model_opts {
    uint64_t seed;      /**< initial weights depend on this alone */
    nn_alloc_fn alloc;  /**< NULL: the C library's realloc/free */
    void *alloc_user;   /**< passed to alloc */
    int threads;        /**< threads that compute the model's matrix products, the calling
                             thread included: 0 or 1 → just the caller (no thread started);
                             2 .. 256 → threads - 1 POSIX threads started by nn_model_create
                             (NN_ERR_NOMEM if they cannot be) and joined by nn_model_destroy;
                             otherwise NN_ERR_INVALID_ARG. Each product is split by rows or
                             columns, never along its sums, so results are bit-identical to
                             one thread's: the tolerance is zero. */
    nn_error *error;    /**< NULL, or where nn_model_create and nn_model_load write their
                             status and its detail on every return (they have no model to
                             keep it in); later calls keep theirs in the model */
    nn_kernel kernel;   /**< the matrix-product kernel: NN_KERNEL_AUTO picks the fastest
                             this CPU runs; another value forces that one for every product
                             of the model, and a kernel the build or the CPU lacks is
                             NN_ERR_UNSUPPORTED, with a message naming the kernel and the
                             missing instructions. The plain loops of products under 512
                             multiply-adds and of one-row steps (batch-1 dot and outer
                             products) are the same in every kernel */
    bool deterministic; /**< true: the same weights whatever the kernel and the thread
                             count (with one seed, data set, build and options). Every
                             matrix product then sums in one fixed order: per output, 16
                             partial sums, lane l taking the products of k ≡ l (mod 16) in
                             increasing k from +0, each product rounded before it is added
                             (never a fused multiply-add); then lanes l and l + 8, l + 4,
                             l + 2, l + 1 are added in turn (a halving tree), and
                             C = alpha·sum + beta·C. Batches of one row take that order too.
                             The rest is the same code whatever the kernel, compiled without
                             FMA contraction, with libnn's own exp, expm1, log1p and tanh in
                             the activations and losses. What still comes from libm: pow and
                             cos (Adam's bias corrections, the learning-rate schedules) and
                             the log of the reported cross-entropy, so that another C library
                             may give other bits. GELU (whose erf is libm's) is
                             NN_ERR_UNSUPPORTED in this mode, and so is a build with
                             -ffast-math or x87 excess precision. Slower than the fast
                             kernels: docs/PERFORMANCE.md has the cost */
} nn_model_opts;

/** A network: its layers, parameters, gradients and workspace (opaque; see nn_model_create). */
typedef struct nn_model nn_model;

/** Builds a network of n_layers dense layers on n_in inputs, weights drawn per spec.
 * opts may be NULL (seed 0, libc allocator). On success *out owns the model. */
nn_status nn_model_create(int n_in, const nn_layer_spec *layers, int n_layers,
                          const nn_model_opts *opts, nn_model **out);
/** Frees the model and everything it holds; NULL is fine. */
void nn_model_destroy(nn_model *model);
/** The detail of the model's last failed call, e.g. "nn_predict: X has 3 columns; the model
 * takes 2 inputs"; "" if none has failed. A call that succeeds leaves it as it was (test the
 * status, then read the message). Valid until the next failing call on the model or its
 * destruction. A NULL model gets a static message saying so. */
const char *nn_model_errmsg(const nn_model *model);

/** The kernel the model's matrix products run: the one nn_model_opts.kernel forced, or the
 * one NN_KERNEL_AUTO picked (never AUTO itself); NN_KERNEL_AUTO for NULL. Benchmarks print
 * nn_kernel_name(nn_model_kernel(model)) beside their figures. */
nn_kernel nn_model_kernel(const nn_model *model);

/** The number of inputs (0 for NULL). */
int nn_model_inputs(const nn_model *model);
/** The number of outputs, the last layer's units (0 for NULL). */
int nn_model_outputs(const nn_model *model);
/** The number of layers (0 for NULL). */
int nn_model_layer_count(const nn_model *model);

/** Views into one layer's parameters and gradients; writes through them change the model. */
typedef struct nn_layer_view {
    int n_in;        /**< I, the layer's inputs */
    int n_out;       /**< O, its units */
    nn_act act;      /**< its activation */
    float act_param; /**< resolved: 0.01 if the spec left the leaky slope 0 */
    float dropout;   /**< its dropout probability while training */
    nn_mat W;        /**< (O, I) the weights */
    nn_mat dW;       /**< (O, I) their gradient */
    nn_mat b;        /**< (1, O) the biases */
    nn_mat db;       /**< (1, O) their gradient */
    nn_mat s;        /**< PReLU's learned slopes (1, 1) or (1, O); 0 × 0 with NULL data otherwise */
    nn_mat ds;       /**< their gradient */
} nn_layer_view;
/** Fills *view with layer `layer` (0-based) of the model; NN_ERR_INVALID_ARG if out of range. */
nn_status nn_model_layer(nn_model *model, int layer, nn_layer_view *view);

/** Writes a table of the network into buf (size bytes, NUL-terminated), in the spirit of
 * Keras's model.summary(): per layer its units, activation, dropout, parameters and output
 * shape, then the totals — parameters, their bytes as float, multiply-adds per sample. If
 * length is not NULL it gets the bytes the whole text needs, NUL included. A buf too small
 * holds the text cut short: NN_ERR_INVALID_ARG. 1024 bytes hold a summary of 12 layers.
 *
 *     layer  units  activation     dropout      params  output
 *     input    784                                       (B, 784)
 *         0    256  relu             0.00     200,960  (B, 256)
 *         1    128  relu             0.00      32,896  (B, 128)
 *         2     10  softmax          0.00       1,290  (B, 10)
 *     parameters 235,146 (940,584 bytes as float); multiply-adds per sample 234,752 */
nn_status nn_model_summary(const nn_model *model, char *buf, size_t size, size_t *length);

/** The flat buffers every layer points into: params = W0, b0, W1, b1, ... each row-major
 * (a PReLU layer's slopes follow its b), grads laid out the same. Returns the parameter count; pointers stay valid until destroy. */
size_t nn_model_params(nn_model *model, float **params, float **grads);

/* ------------------------------------------------ the step, for own loops */

/** Runs X (B, n_in) through the network as training does (dropout layers drop, drawing from
 * the model's training stream) and keeps every layer's Z and A for nn_backward.
 * If Out is not NULL it receives the output (B, n_out). X is copied; it may change after. */
nn_status nn_forward(nn_model *model, const nn_mat *X, nn_mat *Out);
/** Back-propagates the loss of the last nn_forward against Y and ADDS the gradients to dW
 * and db (call nn_zero_grad between steps). loss_value (may be NULL) receives the loss.
 * NN_ERR_DATA, nothing added, if that forward's X or Y holds a value that is not finite. */
nn_status nn_backward(nn_model *model, const nn_mat *Y, nn_loss loss, float *loss_value);
/** Sets every gradient to 0. */
nn_status nn_zero_grad(nn_model *model);

/** How nn_grad_check compares; zeroed: every parameter, torch.autograd.gradcheck's
 * tolerances. */
typedef struct nn_grad_check_opts {
    size_t max_params; /**< > 0: check this many parameters, spread over every layer; 0: all */
    double h;          /**< the finite-difference step; 0 → 1e-6·max(1, |p|) per parameter */
    double atol;       /**< absolute tolerance; 0 → 1e-5 */
    double rtol;       /**< relative tolerance; 0 → 1e-3 */
    const float *class_weights; /**< the loss's class weights, as nn_train_opts.class_weights; NULL: none */
    int n_class_weights;        /**< how many */
} nn_grad_check_opts;

/** What nn_grad_check found. */
typedef struct nn_grad_check_result {
    bool passed;        /**< every checked parameter had |a − n| <= atol + rtol·|n| */
    double worst_ratio; /**< the largest |a − n| / (atol + rtol·|n|): passed is worst_ratio <= 1 */
    double analytic;    /**< a, nn_backward's gradient, at the worst parameter */
    double numeric;     /**< n, the finite difference there */
    int layer;          /**< the worst parameter's layer (0-based) */
    char kind;          /**< 'W', 'b' or 's' (PReLU's slopes) */
    int row;            /**< its row in W (O, I); 0 for b and s */
    int col;            /**< its column in W (O, I); the unit (or slope) for b and s */
    size_t checked;     /**< parameters compared */
} nn_grad_check_result;

/** Checks nn_backward's gradient of the loss of X, Y (the forward without dropout) against
 * central finite differences n = (L(p + h) − L(p − h)) / 2h of a loss computed independently,
 * in double precision (its own forward pass from the formulas above, on a double copy of the
 * parameters), the error judged as torch.autograd.gradcheck judges it:
 * |a − n| <= atol + rtol·|n|. A ReLU-family unit whose input lies within h of 0 can fail
 * honestly (the derivative jumps there); with the default h that is rare. The model is left
 * exactly as it was: parameters, gradients, and the last nn_forward, which nn_backward may
 * still use. NN_ERR_DATA for X or Y with values that are not finite. */
nn_status nn_grad_check(nn_model *model, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                        const nn_grad_check_opts *opts, nn_grad_check_result *result);

/* ------------------------------------------------------------- optimizers */

/* The update rules are torch.optim's (PyTorch 1.13), step for step. For one parameter p with
 * gradient g, learning rate lr and step count t = 1, 2, ... of the optimizer's state, every
 * step first does
 *     g ← c·g             gradient clipping, if clip_norm is set (see nn_optim_opts)
 *     g ← g + wd·p        L2 weight decay, if weight_decay is set (not AdamW: see there)
 * and then the rule of its kind below. State buffers start at 0 unless said otherwise. */

/** The optimizers. */
typedef enum nn_optimizer {
    NN_OPT_SGD = 0,     /**< with momentum μ: b ← g at its first step, then b ← μ·b + (1 - dampening)·g;
                             g ← nesterov ? g + μ·b : b.   Then p ← p - lr·g */
    NN_OPT_ADAM = 1,    /**< m ← β1·m + (1 - β1)·g;  v ← β2·v + (1 - β2)·g²;
                             p ← p - lr/(1 - β1^t) · m / (sqrt(v)/sqrt(1 - β2^t) + ε) */
    NN_OPT_ADAMW = 2,   /**< Adam with decoupled weight decay: p ← p·(1 - lr·wd) first (g gets
                             no wd·p), then Adam's rule */
    NN_OPT_RMSPROP = 3, /**< v ← α·v + (1 - α)·g²;  a = sqrt(v) + ε;
                             with momentum μ: b ← μ·b + g/a, p ← p - lr·b;  without: p ← p - lr·g/a */
} nn_optimizer;

/** An optimizer and its hyper-parameters, with PyTorch's meanings. A zero field means
 * PyTorch's default, so (nn_optim_opts){0} is plain SGD, p -= lr·dp, and
 * (nn_optim_opts){.kind = NN_OPT_ADAM} is torch.optim.Adam as it comes. A field that the kind
 * does not use must stay 0 (NN_ERR_INVALID_ARG otherwise): a momentum given to Adam is more
 * likely a mistake than a wish. */
typedef struct nn_optim_opts {
    nn_optimizer kind;  /**< which update rule */
    float momentum;     /**< μ, SGD and RMSprop (finite, >= 0); 0: none */
    float dampening;    /**< SGD momentum's dampening, in [0, 1]; 0: none */
    bool nesterov;      /**< SGD: Nesterov momentum (needs momentum > 0 and dampening 0) */
    float beta1;        /**< β1, Adam and AdamW, in [0, 1); 0 → 0.9. For β1 = 0 give a tiny
                             value such as 1e-30f: in float it acts exactly as 0 */
    float beta2;        /**< β2, Adam and AdamW, in [0, 1); 0 → 0.999 */
    float alpha;        /**< α, RMSprop's smoothing constant, in [0, 1); 0 → 0.99 */
    float eps;          /**< ε, Adam, AdamW and RMSprop (finite, >= 0); 0 → 1e-8 */
    float weight_decay; /**< wd (finite, >= 0): L2, g ← g + wd·p, for SGD, Adam and RMSprop;
                             decoupled, p ← p·(1 - lr·wd), for AdamW, where 0 → 0.01 */
    bool decay_biases;  /**< decay the biases (and PReLU's slopes) too; by default weight decay
                             applies to each layer's W only (PyTorch's to every parameter given) */
    float clip_norm;    /**< (finite, >= 0) if the norm of all gradients as one vector,
                             ‖g‖ = sqrt(Σ g²), makes c = clip_norm / (‖g‖ + 1e-6) < 1, every g
                             is multiplied by c (torch.nn.utils.clip_grad_norm_); 0: no clipping */
} nn_optim_opts;

/** One update of every parameter from the gradients in the model, which are left as they
 * were (clipping scales them on the way). The optimizer's state (SGD's momentum buffer; Adam's
 * moments m, v and step count t; RMSprop's v and momentum buffer) is kept in the model: the
 * first step that needs it (any but SGD without momentum) allocates it with the model's
 * allocator, and no step allocates after that; NN_ERR_NOMEM leaves everything unchanged.
 * The state belongs to the kind that started it: a step of another kind is
 * NN_ERR_INVALID_ARG until nn_optim_reset. Every other hyper-parameter, the learning rate
 * included, may change from one step to the next, as in PyTorch. Bad options, or a learning
 * rate that is negative or not finite: NN_ERR_INVALID_ARG, nothing changed. As in PyTorch,
 * gradients that are not finite make parameters that are not (nn_train checks for them). */
nn_status nn_optim_step(nn_model *model, const nn_optim_opts *opts, float learning_rate);
/** Forgets the optimizer's state (its buffers and step count t): the next step starts afresh
 * and may be of any kind. The memory is kept for that step, and freed with the model. */
nn_status nn_optim_reset(nn_model *model);

/* ------------------------------------------------------------- the loop */

/** Learning-rate schedules, evaluated once per epoch e = 0, 1, ... (as PyTorch's LR schedulers
 * stepped every epoch); lr is nn_train_opts.learning_rate. */
typedef enum nn_schedule_kind {
    NN_SCHED_CONSTANT = 0,    /**< lr */
    NN_SCHED_STEP = 1,        /**< lr · gamma^⌊e / step_epochs⌋ (StepLR) */
    NN_SCHED_EXPONENTIAL = 2, /**< lr · gamma^e (ExponentialLR) */
    NN_SCHED_COSINE = 3,      /**< min_lr + (lr − min_lr)(1 + cos(π e / period_epochs)) / 2 (CosineAnnealingLR) */
} nn_schedule_kind;

/** A learning-rate schedule; zeroed: the constant rate. */
typedef struct nn_schedule {
    nn_schedule_kind kind; /**< which curve */
    int step_epochs;     /**< STEP: epochs between decays (0 → 10) */
    float gamma;         /**< STEP, EXPONENTIAL: the decay factor (0 → 0.1 for STEP, 0.95 for EXPONENTIAL) */
    int period_epochs;   /**< COSINE: epochs from lr down to min_lr (0 → the run's epochs) */
    float min_lr;        /**< COSINE: the floor */
    int warmup_epochs;   /**< any kind: epoch e < warmup_epochs uses (e + 1)/(warmup_epochs + 1) of the rate */
} nn_schedule;

/** What the epoch callback is told after every epoch. */
typedef struct nn_epoch_info {
    int epoch;       /**< 1-based, counted from the start of the run (a resumed run goes on counting) */
    int epochs;      /**< how many were asked for */
    double loss;     /**< mean training loss over the epoch's samples */
    double accuracy; /**< training accuracy of the epoch's batches, or NaN where it has no meaning (MSE) */
    double seconds;  /**< wall time of this epoch (validation included) */
    double learning_rate;  /**< the rate this epoch used */
    double val_loss;       /**< loss on the validation set after the epoch, or NaN without one */
    double val_accuracy;   /**< its accuracy, or NaN (no validation set, or MSE) */
} nn_epoch_info;

/** Called after every epoch; return non-zero to stop training (nn_train then returns NN_OK). */
typedef int (*nn_epoch_fn)(void *user, const nn_epoch_info *info);

/** How nn_train trains; start from nn_train_defaults() and change fields. */
typedef struct nn_train_opts {
    int epochs;           /**< passes over the data (>= 0); with resume, the total the run reaches */
    int batch_size;       /**< samples per step (> 0); a last, smaller batch is used, not dropped */
    float learning_rate;  /**< the base step size (finite, >= 0) */
    nn_loss loss;         /**< NN_LOSS_AUTO picks it from the output activation */
    uint64_t shuffle_seed;/**< the order of samples, reshuffled every epoch, and the dropout masks */
    bool no_shuffle;      /**< true: visit samples in order */
    nn_epoch_fn on_epoch; /**< may be NULL */
    void *user;           /**< passed to on_epoch */
    nn_optim_opts optim;  /**< the optimizer; zeroed: plain SGD */
    nn_schedule schedule; /**< the learning rate over the epochs; zeroed: constant */
    const nn_mat *X_val;  /**< a validation set, evaluated after every epoch (both or neither) */
    const nn_mat *Y_val;  /**< its targets, shaped as Y */
    float val_split;      /**< without X_val: hold out this fraction of X, Y (in [0, 1), rows drawn with shuffle_seed) */
    int patience;         /**< > 0: early stopping — stop after this many epochs without a lower
                               validation loss; the model ends with the weights of its best epoch */
    bool resume;          /**< continue the model's last run: its epoch count, optimizer state and
                               random streams, so that 5 + 5 epochs equal 10 bit for bit */
    /** Class weights, or NULL: cross-entropy takes one per softmax unit (class), binary
     * cross-entropy two (for target 0, then target 1; a probability target y weighs
     * w0·(1 − y) + w1·y). Each sample's loss (BCE: each element's) is multiplied by its
     * target's weight and a batch's loss is Σ w·l / Σ w: torch.nn.CrossEntropyLoss(weight=w)
     * exactly for class indices; for one-hot or probability rows the weight of a row is
     * Σ_j w_j·y_j (PyTorch divides those by the batch size instead). A batch whose weights
     * are all 0 adds nothing. The loss reported per epoch is this weighted loss; validation
     * and nn_evaluate are unweighted. Each finite and >= 0, not all 0. */
    const float *class_weights;
    int n_class_weights;  /**< how many class_weights there are: the output's units (CE) or 2 (BCE) */
} nn_train_opts;

/** 10 epochs, batch 32, learning rate 0.01, NN_LOSS_AUTO, shuffle seed 0. */
nn_train_opts nn_train_defaults(void);

/** Mini-batch training on X (N, n_in) and Y (N, n_out) or class indices (N, 1); opts NULL →
 * defaults. Before any weight changes, X and Y (and the validation set) are checked: a value
 * that is not finite is NN_ERR_DATA, its row and column in nn_model_errmsg. The check is
 * one pass over the data per call, not per epoch, at memory speed: about 9 ms for
 * Fashion-MNIST's 60000 × 784 floats, where one epoch of a 784-256-128-10 network takes
 * some 350 ms. NN_ERR_DIVERGED means that
 * training itself made the loss or a gradient non-finite; the weights are then those of the
 * last finite step. After NN_OK the model's gradients (dW, db, ds) are
 * unspecified: plain SGD may take each step W -= lr·dW inside the product that computes dW,
 * which is then never stored (the result is that of W -= lr·dW, up to the last bit's
 * rounding). After NN_ERR_DIVERGED they are those of the step that was refused. */
nn_status nn_train(nn_model *model, const nn_mat *X, const nn_mat *Y, const nn_train_opts *opts);
/** Out (N, n_out) = the network's output for X (N, n_in). */
nn_status nn_predict(nn_model *model, const nn_mat *X, nn_mat *Out);
/** Mean loss and accuracy of the model on X, Y (accuracy NaN for MSE); either output may be
 * NULL. A value in X or Y that is not finite: NN_ERR_DATA. */
nn_status nn_evaluate(nn_model *model, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                      double *loss_value, double *accuracy);

/* ------------------------------------------------------- data and metrics */

/* Readers. Each reads the whole file, and gunzips it first if it is gzip-compressed (one
 * gzip member, as `gzip` writes; CRC-32 and size are verified). Every size a file declares is
 * checked against the bytes it really has before anything is allocated for it. Every block
 * a reader allocates, the file's bytes and the result included, comes from the allocator in
 * its options, or from the C library when there is none: then free the matrices with
 * nn_mat_free, otherwise with nn_mat_free_with and that allocator. On any failure nothing
 * stays allocated and the outputs are unchanged: a file is never half-loaded.
 * Statuses: NN_ERR_IO (cannot open or read), NN_ERR_FORMAT (malformed, truncated,
 * inconsistent, corrupted), NN_ERR_NOMEM. */

/** Where a CSV file went wrong; line and column (the field, counted from the delimiters) are
 * 1-based, and both 0 when the problem has no one place (no data rows, bad options). */
typedef struct nn_csv_error {
    int line;   /**< the line in the file, header and blank lines counted */
    int column; /**< the field in that line */
    char message[NN_ERRMSG_SIZE]; /**< the detail: path, place, the field's text and what is
                                       wrong with it, or the option that is; "" after NN_OK */
} nn_csv_error;

/** How to read a CSV file; {0} means comma-separated, no header, the last column is Y. */
typedef struct nn_csv_opts {
    char delimiter;         /**< 0 → ','; or ';', tab, space...: a byte no number contains */
    bool header;            /**< the first non-blank line names the columns: it is skipped */
    int n_targets;          /**< columns that go to Y (0 → 1) */
    const int *target_cols; /**< their 0-based indices, in Y's order; NULL → the last n_targets */
    nn_alloc_fn alloc;      /**< NULL: the C library's */
    void *alloc_user;       /**< passed to alloc */
} nn_csv_opts;

/** Loads a numeric CSV file: one sample per line, every line with the same number of fields,
 * each a decimal number (read the same way whatever the C locale; spaces around it are
 * fine). Blank lines, a UTF-8 byte order mark and CRLF line ends are accepted. With Y not
 * NULL the target columns go to Y (N, n_targets) and the others, in order, to X; with Y NULL
 * every column goes to X. opts NULL → defaults. A cell that is not a finite float or a line
 * with too few or too many fields is NN_ERR_FORMAT, and *err (may be NULL; written on every
 * return) says where; target columns the file does not have are NN_ERR_SHAPE. */
nn_status nn_csv_load(const char *path, const nn_csv_opts *opts, nn_mat *X, nn_mat *Y,
                      nn_csv_error *err);

/** How to read an IDX file; NULL or zeroed: the C library's allocator. */
typedef struct nn_idx_opts {
    nn_alloc_fn alloc; /**< NULL: the C library's */
    void *alloc_user;  /**< passed to alloc */
} nn_idx_opts;

/** Loads an IDX file (the MNIST / Fashion-MNIST format, `*-idx3-ubyte[.gz]`): any element type
 * (u8, i8, i16, i32, f32, f64), values converted to float unscaled. The first dimension gives
 * the rows, the product of the others the columns: images (N, 28·28), labels (N, 1) — class
 * indices as the losses take them. opts may be NULL; err (may be NULL) gets the status and
 * its detail. */
nn_status nn_idx_load(const char *path, const nn_idx_opts *opts, nn_mat *out, nn_error *err);

/* Preparation. Transforms write into matrices the caller provides (nothing is allocated). */

/** Per-column scaling x' = (x - shift)·factor; stats is (2, C): row 0 the shifts, row 1 the
 * factors. A constant column gets factor 1 (it maps to 0). For pixels, whose range is known,
 * nn_mat_scale(X, 1/255.f) is the usual [0, 1] scaling instead. */
typedef enum nn_scale {
    NN_SCALE_MINMAX = 0, /**< shift = min, factor = 1/(max - min): the fitted data maps onto [0, 1] */
    NN_SCALE_ZSCORE = 1, /**< shift = mean, factor = 1/σ (population σ): mean 0, variance 1 */
} nn_scale;

/** Computes the statistics of X (N, C) into stats (2, C); NN_ERR_INVALID_ARG if X holds a
 * non-finite value. Fit on the training data, then apply the same stats to every split. */
nn_status nn_scale_fit(const nn_mat *X, nn_scale scaling, nn_mat *stats /* (2, C) */);
/** X = (X - shift)·factor, column by column, with stats from nn_scale_fit (or your own). */
nn_status nn_scale_apply(const nn_mat *stats /* (2, C) */, nn_mat *X /* (N, C) */);

/** One-hot rows from class indices: out (N, K) gets 1 in column labels[i] of row i, 0 elsewhere.
 * NN_ERR_LABEL (out unchanged) if a label is not an integer in 0 .. K-1. */
nn_status nn_one_hot(const nn_mat *labels /* (N, 1) */, nn_mat *out /* (N, K) */);

/** The two parts of a split: views into the matrices that were split (nothing to free). */
typedef struct nn_split {
    nn_mat X_train; /**< the first N - V rows of X */
    nn_mat Y_train; /**< and of Y */
    nn_mat X_val;   /**< the last V = round(val_fraction·N) rows of X */
    nn_mat Y_val;   /**< and of Y */
} nn_split;

/** Shuffles the rows of X (N, C) and Y (N, D) in place with one permutation drawn from seed
 * (Y may be NULL: its views are then empty), then splits them into a training and a
 * validation part. Both parts must get at least one row (NN_ERR_INVALID_ARG otherwise). */
nn_status nn_split_rows(nn_mat *X, nn_mat *Y, double val_fraction, uint64_t seed, nn_split *out);

/* Metrics. Classification: Out is a model's output (N, K), its class the argmax of a row;
 * a single sigmoid column (N, 1) means two classes, class 1 where Out > 0.5. Y holds class
 * indices (N, 1) or one-hot rows (N, K). */

/** The confusion matrix: counts[t·K + p] = samples of true class t predicted as p (K = 2 for a
 * sigmoid column). NN_ERR_LABEL if Y holds an index outside 0 .. K-1. */
nn_status nn_confusion(const nn_mat *Out, const nn_mat *Y, int64_t *counts /* (K, K) */);

/** One class's scores, from nn_class_metrics. */
typedef struct nn_class_score {
    double precision; /**< TP / (TP + FP); 0 when nothing was predicted as the class */
    double recall;    /**< TP / (TP + FN); 0 when the class has no sample */
    double f1;        /**< 2·P·R / (P + R); 0 when P + R = 0 */
    int64_t support;  /**< samples of the class: TP + FN */
} nn_class_score;

/** From a confusion matrix (K, K): the accuracy (trace / total) and, if per_class is not NULL,
 * each class's precision, recall and F1. Either output may be NULL. */
nn_status nn_class_metrics(const int64_t *counts, int n_classes, double *accuracy,
                           nn_class_score *per_class /* (K) */);

/** Regression: mse = 1/(N·D) Σ (out - y)² (the MSE loss), and r2 = 1 - Σ(out - y)² / Σ(y - ȳ)²
 * per column, averaged over the D columns (a constant column scores 1 if predicted exactly,
 * else 0). Out and Y are (N, D); either output may be NULL. */
nn_status nn_regression_metrics(const nn_mat *Out, const nn_mat *Y, double *mse, double *r2);

/* ------------------------------------------------------------ model files */

/* A model file (format: docs/FORMAT.md) holds the architecture, the parameters and the
 * metadata; loading it gives a model with bit-identical outputs. Gradients, the workspace
 * and the initial seed are not saved. */

/** Writes the model to path atomically: a temporary file beside it is written, flushed to the
 * disk and then renamed over path, so a crash or a full disk never leaves a damaged file
 * where the old one was. NN_ERR_IO if any step fails (the temporary file is removed);
 * NN_ERR_INVALID_ARG for a path of more than 4096 bytes. Nothing is allocated. */
nn_status nn_model_save(const nn_model *model, const char *path);
/** A checkpoint: the model file plus the state of its training run — epochs done, the run's
 * random stream, the optimizer's state — so that after nn_model_load, nn_train with resume
 * set goes on exactly as if it had never stopped. Written atomically, as nn_model_save. */
nn_status nn_model_save_checkpoint(const nn_model *model, const char *path);
/** Reads a model file. opts (may be NULL) gives the allocator; its seed is unused. Every
 * malformed file — truncated, corrupted (CRC), wrong magic, inconsistent sizes, NaN
 * parameters — is NN_ERR_FORMAT, a file of a later format NN_ERR_VERSION, an unreadable one
 * NN_ERR_IO; nothing is allocated beyond the file's own size before it is validated. */
nn_status nn_model_load(const char *path, const nn_model_opts *opts, nn_model **out);

/** Attaches size bytes of value under key (1 .. 255 bytes), replacing any previous value; they
 * are saved with the model (e.g. input scaling statistics, class names). value NULL (size 0)
 * removes the entry (NN_ERR_NOT_FOUND if there was none). */
nn_status nn_model_set_meta(nn_model *model, const char *key, const void *value, size_t size);
/** Finds key's value: *value points into the model, aligned for any type the allocator aligns
 * for (up to 16 bytes), valid until the entry changes or the model is destroyed.
 * NN_ERR_NOT_FOUND if there is no such key. */
nn_status nn_model_get_meta(const nn_model *model, const char *key, const void **value,
                        size_t *size);

/* ------------------------------------------------------------ ONNX export */

/** Writes the model to path as an ONNX file (IR version 7, operator set 13) that ONNX Runtime,
 * OpenVINO, TensorRT and onnxruntime-web run. Its input "input" is (B, n_in) float with a
 * free batch dimension named "batch", its output "output" is (B, n_out). Each layer is a Gemm
 * (transB = 1) of its initializers "layer0.weight" (O, I) and "layer0.bias" (O) (then layer1,
 * ...), followed by Sigmoid, Tanh, Relu, LeakyRelu (alpha = the slope), Elu (alpha), PRelu
 * (its learned slopes as the initializer "layer0.slope", shape (1) or (O)) or Softmax
 * (axis = 1); a linear layer is the Gemm alone. GELU has no operator before opset 20, so a
 * model with a GELU layer is not exported (NN_ERR_INVALID_ARG). Written atomically, as nn_model_save: a temporary file
 * beside path, flushed to the disk, then renamed over path, which so holds the old file or
 * the new one, never a part. NN_ERR_IO if any step fails (the temporary file is removed);
 * NN_ERR_INVALID_ARG also for a path of more than 4096 bytes, or a model beyond protobuf's
 * 2 GiB limit on one file. Nothing is allocated. */
nn_status nn_model_export_onnx(const nn_model *model, const char *path);

/* ------------------------------------------------- int8 quantization and C export */

/* Post-training int8 quantization, for devices without an FPU, and the export of a model as
 * one standalone C99 file (nn_model_export_c below) for devices without libnn.
 *
 * The arithmetic of a quantized model (docs: "Put it on a device" in the README):
 *   - every value x of a layer's input or output is x ≈ s·(q − zp), q an int8, with one scale
 *     s and zero point zp per tensor, from the calibration data's range (0 always inside it);
 *   - a layer's weights are int8, symmetric, one scale per output unit (row of W):
 *     w ≈ s_w[j]·q_w with s_w[j] = max_i |W[j][i]| / 127;
 *   - sums are int32: acc_j = bias_j + Σ_i q_w[j][i]·q_x[i], the input's zero point folded
 *     into the int32 bias;
 *   - a hidden layer's output is requantized by a fixed-point multiplier (an int32 m and a
 *     shift n: q = zp + round(acc·m / 2^n), all integer); ReLU, leaky ReLU, PReLU and linear
 *     layers are exactly that (one multiplier per sign for the leaky ones), sigmoid, tanh,
 *     ELU and GELU go through a 256-entry table of the layer's int8 pre-activation;
 *   - the last layer's int32 sums are scaled back to float, acc_j·s_x·s_w[j], and its
 *     activation (softmax, sigmoid, ...) is computed in float: the only float operations of
 *     an inference, one per output.
 * Softmax is accepted only as the last layer's activation. */

/** How the range of each tensor is calibrated. */
typedef enum nn_calib {
    NN_CALIB_MINMAX = 0,     /**< the smallest and largest value seen */
    NN_CALIB_PERCENTILE = 1, /**< the percentile's range: outliers beyond it are clipped */
} nn_calib;

/** How to quantize; zeroed: min-max calibration. */
typedef struct nn_quant_opts {
    nn_calib calib;   /**< how ranges are calibrated */
    float percentile; /**< NN_CALIB_PERCENTILE: the range keeps this share of each tensor's
                           values on either side, from 100 − p to p percent, p in [50, 100]
                           (0 → 99.99), from a 2048-bin histogram between min and max,
                           then narrowed to the extreme values inside the percentile's bins */
} nn_quant_opts;

/** An int8 version of a model (opaque): its weights, scales and multipliers. */
typedef struct nn_quant nn_quant;

/** Quantizes the model, its activations calibrated on X_calib (N, n_in): typically a few
 * hundred to a few thousand training rows. opts may be NULL. The model is unchanged (its
 * workspace may grow, as in nn_predict); *out owns the result, allocated with the model's
 * allocator. NN_ERR_INVALID_ARG for a softmax layer before the last, bad options, or
 * parameters or calibration values that are not finite; NN_ERR_SHAPE, NN_ERR_NOMEM. */
nn_status nn_quantize(nn_model *model, const nn_mat *X_calib, const nn_quant_opts *opts,
                      nn_quant **out);
/** Frees a quantized model; NULL is fine. */
void nn_quant_destroy(nn_quant *q);
/** Out (N, n_out) = the int8 model's output for X (N, n_in), each row quantized with the
 * input's scale first: the same integer arithmetic, bit for bit, as the exported C file's
 * PREFIX_predict, here on the host. Its scratch (n_in + 2 bytes per unit of the widest hidden
 * layer) comes from the model's allocator for the call: NN_ERR_NOMEM. */
nn_status nn_quant_predict(const nn_quant *q, const nn_mat *X, nn_mat *Out);

/** What quantization cost, from nn_quant_evaluate. */
typedef struct nn_quant_report {
    double float_accuracy;  /**< the float model's accuracy (NaN for an output without
                                 classes: not softmax or sigmoid) */
    double int8_accuracy;   /**< the int8 model's */
    double max_output_diff; /**< max |float output − int8 output| over every element */
    double mean_output_diff;/**< the mean of |float output − int8 output| */
    size_t float_bytes;     /**< the float model's parameters: 4 bytes each */
    size_t int8_bytes;      /**< the int8 model's constants: weights, biases, multipliers,
                                 tables, scales (what the exported file's arrays hold) */
} nn_quant_report;

/** Runs the float model and its int8 version q on X (N, n_in) with targets Y (class indices
 * (N, 1) or one-hot rows) and reports both accuracies (as nn_evaluate counts them), the
 * largest output difference and the sizes. NN_ERR_INVALID_ARG if q was not made from a model
 * of this shape. */
nn_status nn_quant_evaluate(nn_model *model, const nn_quant *q, const nn_mat *X,
                            const nn_mat *Y, nn_quant_report *report);

/** Which functions the exported file computes exponentials, tanh and erf with. */
typedef enum nn_export_math {
    NN_EXPORT_MATH_LIBNN = 0,   /**< libnn's own inline exp, expm1 and tanh, written into the
                                     file: the code nn_predict runs, so outputs match it; erff
                                     from libm for GELU only, as nn_predict */
    NN_EXPORT_MATH_NO_LIBM = 1, /**< the same, and an erf of the file's own for GELU
                                     (Abramowitz–Stegun 7.1.26, within 1.5e-7): no libm at all */
    NN_EXPORT_MATH_LIBM = 2,    /**< expf, expm1f, tanhf and erff from libm: a smaller file,
                                     within a few ulp of nn_predict per activation */
} nn_export_math;

/** How to export; zeroed: the float model, prefix "model", libnn's math, scratch on the
 * stack, no self-test, no header. */
typedef struct nn_export_c_opts {
    const char *prefix;       /**< every name in the file starts with it, so that several
                                   models link into one program: a C identifier of 1 to 32
                                   characters (NULL → "model") */
    const nn_quant *quant;    /**< not NULL: export this int8 version of the model instead */
    nn_export_math math;      /**< see nn_export_math */
    bool scratch_arg;         /**< PREFIX_predict takes a third argument, the caller's scratch
                                   buffer of PREFIX_SCRATCH_BYTES bytes, instead of using as
                                   much stack */
    const nn_mat *selftest;   /**< not NULL: PREFIX_selftest() checks the file's predict on
                                   these rows (K, n_in) against libnn's outputs for them
                                   (nn_predict, or nn_quant_predict for int8) */
    const char *header_path;  /**< not NULL: also write a header there, with the prototypes
                                   and sizes (written first, atomically as well) */
    const char *description;  /**< not NULL: a line for the comment block (what the model was
                                   trained on...); the model's text metadata is listed too */
} nn_export_c_opts;

/** The figures of an exported file, also written in its comment block. */
typedef struct nn_export_c_info {
    size_t weight_bytes; /**< the constant arrays: weights, biases, scales, tables */
    size_t code_bytes;   /**< an estimate of the code, for Cortex-M4 Thumb-2 at -Os */
    size_t test_bytes;   /**< the self-test's input and output arrays */
    size_t flash_bytes;  /**< all three: what the file puts in flash */
    size_t ram_bytes;    /**< the scratch, on the stack or the caller's (no global data) */
    uint64_t macs;       /**< multiply-adds per inference */
    const char *message; /**< a static sentence: why the export was refused, or "exported" */
} nn_export_c_info;

/** Writes the model (or opts->quant, its int8 version) to path as one C99 source file that
 * needs only a C compiler: the parameters as static const arrays and
 *     void PREFIX_predict(const float *in, float *out);           (float)
 *     void PREFIX_predict(const int8_t *in, float *out);          (int8, in quantized)
 *     void PREFIX_quantize(const float *x, int8_t *in);           (int8: x to its int8 input)
 *     int PREFIX_selftest(void);                                  (with opts->selftest)
 * (predict takes a third argument, void *scratch, with opts->scratch_arg), with no allocation,
 * no global mutable state, no libnn, and libm only as opts->math says. The comment block at
 * the top gives the network, the description and text metadata, flash and RAM bytes, MACs per
 * inference and libnn's version. PREFIX_selftest returns 0, or the 1-based row of the first
 * output beyond |got − want| <= 1e-4·(1 + |want|). Written atomically, as nn_model_save;
 * a model that cannot be exported writes nothing. info (may be NULL) receives the figures
 * and, on every return, a message. NN_ERR_INVALID_ARG for a bad prefix, a quant not made
 * from a model of this shape, selftest rows of the wrong width or non-finite parameters;
 * NN_ERR_IO; NN_ERR_NOMEM (the self-test's outputs are computed with the model's allocator). */
nn_status nn_model_export_c(nn_model *model, const char *path, const nn_export_c_opts *opts,
                            nn_export_c_info *info);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* NN_H */
