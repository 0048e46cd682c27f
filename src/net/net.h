/* The network (src/net/): activations, losses, initialisation, the model and its layers,
 * the training step, the optimizers and the training loop. Never installed.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs. */
#ifndef NN_NET_H
#define NN_NET_H

#include "kernels/kernels.h"


bool nn__act_valid(nn_act act);
/* Learned slopes a layer of this activation and width has: 1, O or 0. */
int nn__act_slopes(nn_act act, int O);
float nn__act_param(nn_act act, float param); /* the parameter with its default applied */
/* A = g(Z) and dZ = g'(Z)·dA over (B, O) blocks (A may be Z, dZ may be dA). param has its
 * default applied; slopes are PReLU's (n_slopes 1 shared, or O, one per unit; unused by the
 * other activations), and backward adds PReLU's ∂L/∂s to ds unless ds is NULL. */
void nn__act_forward(nn_act act, float param, const float *slopes, int n_slopes, int B, int O,
                     const float *Z, float *A);
void nn__act_backward(nn_act act, float param, const float *slopes, int n_slopes, float *ds,
                      int B, int O, const float *Z, const float *A, const float *dA, float *dZ);

bool nn__loss_valid(nn_loss loss);
/* The loss that AUTO means for this output activation; NN_ERR_LOSS_ACT if they do not fit. */
nn_status nn__loss_resolve(nn_loss loss, nn_act out_act, nn_loss *resolved);
/* True when Y holds class indices (B, 1) rather than rows of the output's shape. */
bool nn__loss_uses_indices(nn_loss loss, int O, int ycols);
/* Y (B, ycols), the argument yname of the public function fn, suits the (resolved) loss:
 * NN_ERR_SHAPE, NN_ERR_LABEL or NN_ERR_DATA (a value that is not finite) otherwise, described
 * in msg (may be NULL). */
nn_status nn__loss_check_targets(char *msg, const char *fn, const char *yname, nn_loss loss,
                                 int B, int O, const float *Y, int ycols);
/* How many class weights the (resolved) loss takes for O outputs: O (CE), 2 (BCE), 0 (MSE). */
int nn__class_weight_count(nn_loss loss, int O);
/* The class weights w (n of them; w NULL and n 0: none) in the field of fn suit the loss:
 * the right count, each finite and >= 0, not all 0. NN_ERR_INVALID_ARG described in msg. */
nn_status nn__check_class_weights(char *msg, const char *fn, const char *field, nn_loss loss,
                                  int O, const float *w, int n);
/* Names for messages and summaries: "softmax", "cross-entropy", ... */
const char *nn__act_name(nn_act act);
const char *nn__loss_name(nn_loss loss);
/* The mean loss of a batch (targets already checked); dOut (B, O) receives its gradient if
 * not NULL; *correct (if not NULL) the hits: rows whose argmax is the label (CE),
 * elements on the right side of 0.5 (BCE), none (MSE). */
double nn__loss(nn_loss loss, int B, int O, const float *Out, const float *Y, int ycols,
                float *dOut, long *correct);
/* nn__loss with class weights w (checked; NULL: none) and cross-entropy's rows split over
 * the pool (the same bits as one thread). */
double nn__loss_mt(nn__pool *pool, nn_loss loss, const float *w, int B, int O, const float *Out,
                   const float *Y, int ycols, float *dOut, long *correct);

bool nn__init_valid(nn_init init);
nn_init nn__init_resolve(nn_init init, nn_act act);
void nn__init_fill(float *W, int fan_out, int fan_in, nn_init init, float param, nn_rng *rng);

/* ----------------------------------------------------------- model */

/* Shape letters: B batch rows (at most cap), I a layer's inputs, O its outputs. */
typedef struct nn__layer {
    int n_in, n_out;
    nn_act act;
    float act_param; /* with its default applied */
    float *W, *dW;   /* (O, I), into the model's params / grads */
    float *b, *db;   /* (O) */
    float *s, *ds;   /* (n_slopes) PReLU's learned slopes, right after b; NULL otherwise */
    int n_slopes;    /* 1 (NN_ACT_PRELU), O (NN_ACT_PRELU_UNITS) or 0 */
    float *Z;        /* (cap, O) pre-activations of the last forward */
    float *A;        /* (cap, O) activations; == Z for a linear layer */
    float *dZ;       /* (cap, O) gradient scratch: dL/dA, then dL/dZ in place */
    float dropout;   /* the probability of dropping an output while training; 0: none */
    float *D;        /* (cap, O) the output after dropout (dropout > 0 only) */
    nn_rng mask_rng; /* the stream's state when the last mask was drawn: backward redraws it */
} nn__layer;

/* A metadata entry: key and value share one allocation, the key first. */
typedef struct nn__meta {
    char *key;      /* NUL-terminated, 1 .. 255 bytes */
    uint8_t *value; /* (size) bytes after the key, 16-byte aligned within the block */
    size_t size;
} nn__meta;

struct nn_model {
    int n_in, n_layers;
    nn__layer *layers; /* (n_layers) */
    size_t n_params;
    float *params;     /* (n_params): W0, b0, W1, b1, ... */
    float *grads;      /* (n_params), laid out as params */
    int cap;           /* batch rows the workspace holds */
    float *work;       /* the workspace: X, then every layer's Z, A, dZ */
    size_t work_bytes;
    float *X;          /* (cap, n_in) the input kept for backward */
    int batch;         /* rows of the last forward whose state backward may use; 0: none */
    bool dropped;      /* whether that forward applied dropout (a training forward) */
    int run_epochs;     /* epochs done in the current training run (nn_train's resume) */
    nn_rng run_rng;     /* that run's shuffle (and dropout) stream */
    float *optim_state; /* (2 * n_params): the optimizer's buffers (momentum, Adam's m and v) */
    long optim_steps;   /* updates taken with them (Adam's t); 0: state not started */
    nn__meta *meta;    /* (meta_cap), n_meta in use: saved with the model */
    int n_meta, meta_cap;
    nn_alloc_fn alloc;
    void *alloc_user;
    nn__pool *pool;    /* the threads the products are split over; NULL: one thread */
    nn__gemm_kernel kernel; /* the products' kernel, resolved: never AUTO; a FIXED one in
                               the deterministic mode */
    bool deterministic;     /* nn_model_opts.deterministic: every product in the fixed order,
                               none in dense.c's one-row loops */
    float *gemm_ws;    /* the products' packing buffers, one nn__gemm workspace per thread;
                          NULL until a product needs them (see nn__reserve) */
    size_t gemm_ws_bytes;
    char *errmsg;      /* (NN_ERRMSG_SIZE) the last failed call's detail, in the model's own
                          block after the struct: not part of the model's value, so a call on
                          a const model may write it too */
};

/* Grows the workspace to hold B rows, and allocates the products' packing buffers the first
 * time a product needs them: a forward pass of up to max(B, cap) rows, or a backward pass of
 * backward_rows rows (0 if none will follow). NN_ERR_NOMEM leaves the model as it was. Any
 * growth forgets the last forward (batch = 0). */
nn_status nn__reserve(nn_model *m, int B, int backward_rows);

/* ------------------------------------------------------------ the dense layer (dense.c) */

/* Z = X·Wᵀ + b and, if activate, A = g(Z) for X (B, I), B <= cap; while training, dropout
 * draws its mask from the model's training stream into D. */
void nn__dense_forward(nn_model *m, nn__layer *L, const float *X, int B, bool training,
                       bool activate);
/* What the layer hands the next: D after a training forward with dropout, else A. */
const float *nn__dense_output(const nn__layer *L, bool dropped);
/* The first half of the layer's backward pass. L->dZ holds dL/d(output) (of D after a
 * dropout forward, else of A), or dL/dZ itself if have_dz (a loss taken on the logits).
 * Leaves dL/dZ in L->dZ, sets (or adds to) db and PReLU's ds, and writes dX = dZ·W (B, I)
 * if dX is not NULL. */
void nn__dense_backward(nn_model *m, nn__layer *L, int B, bool have_dz, bool accumulate,
                        float *dX);
/* Where the second half puts the weight gradient dZᵀ·X of the layer's input X (B, I). */
typedef enum nn__weight_sink {
    NN__SINK_SET,  /* dW = dZᵀ·X */
    NN__SINK_ADD,  /* dW += dZᵀ·X */
    NN__SINK_STEP, /* W ← W - lr·dZᵀ·X, then b, s -= lr·db, lr·ds: a plain SGD step; dW is
                      never stored. Rounds as W -= lr·dW if nn__gemm_one_block(m->kernel, B). */
} nn__weight_sink;
void nn__dense_weights(nn_model *m, nn__layer *L, const float *X, int B, nn__weight_sink sink,
                       float lr);

/* ------------------------------------------------------------ the step (step.c) */

/* Runs X (B, n_in) forward through every layer (B <= cap); X may be m->X or caller memory. */
void nn__forward(nn_model *m, const float *X, int B, bool training);
/* The mean loss of the last forward (B rows) against Y; *correct (if not NULL) its hits
 * (nn__loss). The loss is resolved and Y checked by the caller. */
double nn__forward_loss(nn_model *m, int B, const float *Y, int ycols, nn_loss loss,
                        long *correct);
/* The loss of the last forward, whose input was X (B rows), with class weights w (checked;
 * NULL: none), and every gradient, set or (if accumulate) added to dW, db, ds. */
double nn__backward(nn_model *m, const float *X, int B, const float *Y, int ycols,
                    nn_loss loss, const float *w, bool accumulate);
/* After the backward pass of X (B rows), before the weight products: true only if every
 * gradient is surely finite, judged from the products' operands (dZ, the layers' inputs,
 * PReLU's ds) rather than from the gradients themselves. False means: scan them. */
bool nn__grads_surely_finite(const nn_model *m, const float *X, int B);
/* Copies rows[0..B) of src (N, cols) into dst (B, cols), over the pool. */
void nn__gather(nn__pool *pool, float *dst, const float *src, int cols, const int *rows, int B);
/* One batch of training: rows order[0..rows) of X and Y (checked), with the resolved loss. */
typedef struct nn__batch {
    const nn_mat *X, *Y;
    const int *order;
    int rows;     /* B, at most the workspace's cap */
    float *Ybuf;  /* (B, Y cols) where the batch's targets are gathered */
    nn_loss loss;
    const float *class_weights; /* checked, or NULL */
} nn__batch;
/* Forward, loss, backward and the update with prepared options o and rate lr: plain SGD
 * inside the weight products when it rounds the same, otherwise dW and nn__optim_apply.
 * *loss_value gets the batch's mean loss and *hits its hits (nn__loss). NN_ERR_DIVERGED,
 * with no parameter changed, if the loss or a gradient is not finite. */
nn_status nn__train_step(nn_model *m, const nn__batch *b, const nn_optim_opts *o, float lr,
                         double *loss_value, long *hits);
/* Checks X, Y and the loss against the model for the public function fn: shapes, finite
 * values (NN_ERR_DATA), label values; resolves the loss. Failures are described in
 * m->errmsg. */
nn_status nn__check_data(const nn_model *m, const char *fn, const nn_mat *X, const char *xname,
                         const nn_mat *Y, const char *yname, nn_loss loss, nn_loss *resolved);
/* The message for a matrix argument that is NULL or empty (NN_ERR_INVALID_ARG). */
nn_status nn__bad_mat(const nn_model *m, const char *fn, const char *name, const nn_mat *M);
/* NN_ERR_NOMEM with a message naming what could not be allocated. */
nn_status nn__no_memory(const nn_model *m, const char *fn, const char *what);
/* nn_grad_check's comparison alone (gradcheck.c): the gradient already in m->grads, of X, Y
 * (checked) and the resolved loss, against the double-precision reference. Tests give it a
 * gradient broken on purpose. */
nn_status nn__grad_compare(nn_model *m, const nn_mat *X, const nn_mat *Y, nn_loss loss,
                           const nn_grad_check_opts *o, nn_grad_check_result *r);
/* Metadata (meta.c). Keys are 1 .. NN__META_KEY_MAX bytes. nn__meta_find gives the entry
 * of key (key_len bytes, no NUL among them) or NULL; nn__meta_set sets it, replacing an
 * existing entry only once the new one is allocated (NN_ERR_NOMEM leaves the old value);
 * nn__meta_free_all frees every entry (model destruction). */
#define NN__META_KEY_MAX 255
nn__meta *nn__meta_find(const nn_model *m, const char *key, size_t key_len);
nn_status nn__meta_set(nn_model *m, const char *key, size_t key_len, const void *value,
                       size_t size);
void nn__meta_free_all(nn_model *m);

/* The model's allocator (nn_model_opts.alloc, or the C library's). */
static inline void *nn__alloc(nn_model *m, void *ptr, size_t osize, size_t nsize)
{
    return m->alloc(m->alloc_user, ptr, osize, nsize);
}

static inline const nn__layer *nn__out_layer(const nn_model *m)
{
    return &m->layers[m->n_layers - 1];
}

/* ------------------------------------------------------------ optimizers */

/* Checks an optimizer's options o, the argument `name` of the public function fn (not the
 * learning rate): NN_ERR_INVALID_ARG if bad, described in msg (may be NULL). */
nn_status nn__optim_check(char *msg, const char *fn, const char *name, const nn_optim_opts *o);
/* Readies the model's optimizer state for steps with checked options o, allocating it if
 * needed: NN_ERR_INVALID_ARG if the state belongs to another kind, NN_ERR_NOMEM if it cannot
 * be allocated; either leaves the model unchanged. After NN_OK, nn__optim_apply with options
 * of the same kind cannot fail and allocates nothing. */
nn_status nn__optim_prepare(nn_model *m, const char *fn, const nn_optim_opts *o);
/* Whether o is plain SGD, p -= lr·dp: no momentum, weight decay or clipping. */
bool nn__optim_is_plain(const nn_optim_opts *o);
/* p[i] -= lr·g[i] for i < n (p and g do not overlap): plain SGD's one formula. */
void nn__plain_sgd(float *restrict p, const float *restrict g, size_t n, float lr);
/* One update of m->params from m->grads with prepared options o and a finite lr >= 0. */
void nn__optim_apply(nn_model *m, const nn_optim_opts *o, float lr);
/* Frees the optimizer state (model destruction). */
void nn__optim_free(nn_model *m);
/* For loading a checkpoint: allocates the state of `kind` after `steps` > 0 steps, for the
 * caller to fill m->optim_state (2 × n_params floats). NN_ERR_FORMAT if a state exists. */
nn_status nn__optim_restore(nn_model *m, nn_optimizer kind, long steps);
/* The kind that owns an existing state (m->optim_state not NULL). */
nn_optimizer nn__optim_kind(const nn_model *m);

#endif /* NN_NET_H */
