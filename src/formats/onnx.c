/* ONNX export: the model as a graph of standard ONNX operators, one Gemm per dense layer
 * (Z = X·Wᵀ + b is Gemm with transB = 1, so W goes out in its own (O, I) layout) followed by
 * the activation's operator, written with a minimal protocol-buffers encoder of our own.
 *
 * Protocol buffers in brief: a message is a sequence of fields; each is a tag, the varint
 * (field_number << 3 | wire_type), then its value: a varint (wire type 0), four
 * little-endian bytes (type 5: float), or a varint length and that many bytes (type 2:
 * strings, bytes, nested messages). A nested message must be preceded by its length, so
 * every message is produced by one function run twice: on a counting writer for the
 * length, then on the file. Only the weights are bulky, and counting them costs nothing.
 * Field numbers are those of onnx.proto.
 *
 * Shape letters: B batch rows, I a layer's inputs, O its outputs. */
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

/* IR version 7 and operator set 13 (ONNX 1.8, 2020): every runtime of today reads them, and
 * opset 13 is the first where Softmax works on one axis rather than a flattened block. */
enum { ONNX_IR_VERSION = 7, ONNX_OPSET = 13 };
enum { ONNX_FLOAT = 1 };                            /* TensorProto.DataType */
enum { ONNX_ATTR_FLOAT = 1, ONNX_ATTR_INT = 2 };    /* AttributeProto.AttributeType */
/* protobuf's own limit on a message: larger models would need ONNX's external data files. */
#define ONNX_MAX_BYTES ((size_t)2147483647)
enum { ONNX_NAME = 48 }; /* the longest value name, "layer<l>.weight" and the like */

/* ------------------------------------------------------- protobuf writer */

enum { PB_VARINT = 0, PB_LEN = 2, PB_FIXED32 = 5 };

typedef struct pb {
    FILE *f;     /* NULL: only count */
    size_t size; /* bytes produced so far */
    bool failed; /* a write to f failed */
} pb;

typedef void (*pb_message_fn)(pb *w, const void *msg);

static void pb_raw(pb *w, const void *bytes, size_t n)
{
    if (w->f && !w->failed && fwrite(bytes, 1, n, w->f) != n)
        w->failed = true;
    w->size += n;
}

static void pb_varint(pb *w, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(w, b, n);
}

static void pb_tag(pb *w, int field, int wire_type)
{
    pb_varint(w, (uint64_t)field << 3 | (uint64_t)wire_type);
}

/* int32, int64 and enum fields; negative values take ten bytes, as protobuf's int64. */
static void pb_int(pb *w, int field, int64_t v)
{
    pb_tag(w, field, PB_VARINT);
    pb_varint(w, (uint64_t)v);
}

static void pb_le32(unsigned char *b, float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    b[0] = (unsigned char)u;
    b[1] = (unsigned char)(u >> 8);
    b[2] = (unsigned char)(u >> 16);
    b[3] = (unsigned char)(u >> 24);
}

static void pb_float(pb *w, int field, float x)
{
    unsigned char b[4];
    pb_le32(b, x);
    pb_tag(w, field, PB_FIXED32);
    pb_raw(w, b, sizeof b);
}

static void pb_string(pb *w, int field, const char *s)
{
    size_t n = strlen(s);
    pb_tag(w, field, PB_LEN);
    pb_varint(w, n);
    pb_raw(w, s, n);
}

/* n floats as little-endian bytes, whatever the host's byte order (ONNX's raw_data). */
static void pb_float_bytes(pb *w, int field, const float *x /* (n) */, size_t n)
{
    pb_tag(w, field, PB_LEN);
    pb_varint(w, 4 * (uint64_t)n);
    if (!w->f) {
        w->size += 4 * n;
        return;
    }
    unsigned char b[4096];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof b / 4 && i < n; k++, i++)
            pb_le32(b + 4 * k, x[i]);
        pb_raw(w, b, 4 * k);
    }
}

static void pb_message(pb *w, int field, pb_message_fn fn, const void *msg)
{
    pb count = {0};
    fn(&count, msg);
    pb_tag(w, field, PB_LEN);
    pb_varint(w, count.size);
    fn(w, msg);
}

/* ------------------------------------------------------------ the model */

/* Names in the graph: "input" → layer0 → layer1 → ... → "output"; layer l's parameters are
 * "layer<l>.weight" and "layer<l>.bias" (PyTorch's names), its values "layer<l>.z" and ".a". */
static void value_name(char *name, int layer, const char *what)
{
    snprintf(name, ONNX_NAME, "layer%d.%s", layer, what);
}

/* The name of what layer l hands on: its activation, or Z itself for a linear layer. */
static void layer_output(char *name, const nn_model *m, int l)
{
    if (l < 0)
        snprintf(name, ONNX_NAME, "input");
    else if (l == m->n_layers - 1)
        snprintf(name, ONNX_NAME, "output");
    else
        value_name(name, l, m->layers[l].act == NN_ACT_LINEAR ? "z" : "a");
}

typedef struct onnx_dim {
    const char *param; /* a named, free dimension; or NULL and: */
    int64_t value;
} onnx_dim;

static void dim_msg(pb *w, const void *msg) /* TensorShapeProto.Dimension */
{
    const onnx_dim *d = msg;
    if (d->param)
        pb_string(w, 2, d->param);
    else
        pb_int(w, 1, d->value);
}

static void matrix_shape_msg(pb *w, const void *msg) /* TensorShapeProto: (B, cols) */
{
    onnx_dim batch = {.param = "batch"}, cols = {.value = *(const int64_t *)msg};
    pb_message(w, 1, dim_msg, &batch);
    pb_message(w, 1, dim_msg, &cols);
}

static void tensor_type_msg(pb *w, const void *msg) /* TypeProto.Tensor */
{
    pb_int(w, 1, ONNX_FLOAT);
    pb_message(w, 2, matrix_shape_msg, msg);
}

static void type_msg(pb *w, const void *msg) /* TypeProto */
{
    pb_message(w, 1, tensor_type_msg, msg);
}

typedef struct onnx_value {
    const char *name;
    int64_t cols;
} onnx_value;

static void value_info_msg(pb *w, const void *msg) /* ValueInfoProto: a (B, cols) float */
{
    const onnx_value *v = msg;
    pb_string(w, 1, v->name);
    pb_message(w, 2, type_msg, &v->cols);
}

typedef struct onnx_tensor {
    char name[ONNX_NAME];
    int n_dims;
    int64_t dims[2];
    const float *data; /* (dims[0], dims[1]) row-major, or (dims[0]) */
} onnx_tensor;

static void tensor_msg(pb *w, const void *msg) /* TensorProto */
{
    const onnx_tensor *t = msg;
    size_t n = 1;
    for (int i = 0; i < t->n_dims; i++) {
        pb_int(w, 1, t->dims[i]);
        n *= (size_t)t->dims[i];
    }
    pb_int(w, 2, ONNX_FLOAT);
    pb_string(w, 8, t->name);
    pb_float_bytes(w, 9, t->data, n);
}

typedef struct onnx_attr {
    const char *name; /* NULL: the node has none */
    int type;
    int64_t i;
    float f;
} onnx_attr;

static void attr_msg(pb *w, const void *msg) /* AttributeProto */
{
    const onnx_attr *a = msg;
    pb_string(w, 1, a->name);
    if (a->type == ONNX_ATTR_FLOAT)
        pb_float(w, 2, a->f);
    else
        pb_int(w, 3, a->i);
    pb_int(w, 20, a->type);
}

typedef struct onnx_node {
    const char *op;
    char name[ONNX_NAME];
    int n_inputs;
    char inputs[3][ONNX_NAME];
    char output[ONNX_NAME];
    onnx_attr attr;
} onnx_node;

static void node_msg(pb *w, const void *msg) /* NodeProto */
{
    const onnx_node *n = msg;
    for (int i = 0; i < n->n_inputs; i++)
        pb_string(w, 1, n->inputs[i]);
    pb_string(w, 2, n->output);
    pb_string(w, 3, n->name);
    pb_string(w, 4, n->op);
    if (n->attr.name)
        pb_message(w, 5, attr_msg, &n->attr);
}

/* The operator that computes act, with its attribute; NULL for linear (no node at all). */
static const char *act_op(const nn__layer *L, onnx_attr *attr)
{
    *attr = (onnx_attr){0};
    switch (L->act) {
    case NN_ACT_LINEAR:
        return NULL;
    case NN_ACT_SIGMOID:
        return "Sigmoid";
    case NN_ACT_TANH:
        return "Tanh";
    case NN_ACT_RELU:
        return "Relu";
    case NN_ACT_LEAKY_RELU:
        *attr = (onnx_attr){.name = "alpha", .type = ONNX_ATTR_FLOAT, .f = L->act_param};
        return "LeakyRelu";
    case NN_ACT_SOFTMAX:
        *attr = (onnx_attr){.name = "axis", .type = ONNX_ATTR_INT, .i = 1};
        return "Softmax";
    case NN_ACT_ELU:
        *attr = (onnx_attr){.name = "alpha", .type = ONNX_ATTR_FLOAT, .f = L->act_param};
        return "Elu";
    case NN_ACT_PRELU: /* its slopes are a second input, "layer<l>.slope" */
    case NN_ACT_PRELU_UNITS:
        return "PRelu";
    case NN_ACT_GELU: /* Gelu is an operator only from opset 20: not exportable yet */
        return NULL;
    }
    return NULL;
}

/* Layer l's nodes: Z = Gemm(X, W, b; transB = 1), then A = act(Z) unless linear. */
static void layer_nodes(pb *w, const nn_model *m, int l)
{
    const nn__layer *L = &m->layers[l];
    onnx_node act = {0}, gemm = {.op = "Gemm", .n_inputs = 3,
                                 .attr = {.name = "transB", .type = ONNX_ATTR_INT, .i = 1}};
    act.op = act_op(L, &act.attr);
    snprintf(gemm.name, ONNX_NAME, "layer%d/Gemm", l);
    layer_output(gemm.inputs[0], m, l - 1);
    value_name(gemm.inputs[1], l, "weight");
    value_name(gemm.inputs[2], l, "bias");
    if (!act.op) {
        layer_output(gemm.output, m, l);
        pb_message(w, 1, node_msg, &gemm);
        return;
    }
    value_name(gemm.output, l, "z");
    pb_message(w, 1, node_msg, &gemm);
    snprintf(act.name, ONNX_NAME, "layer%d/%s", l, act.op);
    act.n_inputs = L->n_slopes ? 2 : 1;
    memcpy(act.inputs[0], gemm.output, ONNX_NAME);
    if (L->n_slopes) /* (1) or (O): broadcast along the rows, as PRelu allows */
        value_name(act.inputs[1], l, "slope");
    layer_output(act.output, m, l);
    pb_message(w, 1, node_msg, &act);
}

static void graph_msg(pb *w, const void *msg) /* GraphProto */
{
    const nn_model *m = msg;
    for (int l = 0; l < m->n_layers; l++)
        layer_nodes(w, m, l);
    pb_string(w, 2, "libnn");
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        onnx_tensor W = {.n_dims = 2, .dims = {L->n_out, L->n_in}, .data = L->W};
        onnx_tensor b = {.n_dims = 1, .dims = {L->n_out}, .data = L->b};
        value_name(W.name, l, "weight");
        value_name(b.name, l, "bias");
        pb_message(w, 5, tensor_msg, &W);
        pb_message(w, 5, tensor_msg, &b);
        if (L->n_slopes) {
            onnx_tensor s = {.n_dims = 1, .dims = {L->n_slopes}, .data = L->s};
            value_name(s.name, l, "slope");
            pb_message(w, 5, tensor_msg, &s);
        }
    }
    onnx_value in = {"input", m->n_in}, out = {"output", nn__out_layer(m)->n_out};
    pb_message(w, 11, value_info_msg, &in);
    pb_message(w, 12, value_info_msg, &out);
}

static void opset_msg(pb *w, const void *msg) /* OperatorSetIdProto: the default domain */
{
    (void)msg;
    pb_int(w, 2, ONNX_OPSET);
}

static void model_msg(pb *w, const void *msg) /* ModelProto */
{
    pb_int(w, 1, ONNX_IR_VERSION);
    pb_string(w, 2, "libnn");
    pb_string(w, 3, NN_VERSION_STRING);
    pb_message(w, 7, graph_msg, msg);
    pb_message(w, 8, opset_msg, NULL);
}

/* ----------------------------------------------------------- the file */

typedef struct onnx_job {
    const nn_model *m;
    size_t size; /* the bytes model_msg counted */
} onnx_job;

/* The model as ONNX into f: true if every byte counted was written. */
static bool write_file(FILE *f, void *ctx)
{
    const onnx_job *j = ctx;
    pb w = {.f = f};
    model_msg(&w, j->m);
    return !w.failed && w.size == j->size;
}

nn_status nn_model_export_onnx(const nn_model *m, const char *path)
{
    const char *fn = "nn_model_export_onnx";
    if (!m)
        return NN_ERR_INVALID_ARG;
    for (int l = 0; l < m->n_layers; l++)
        if (m->layers[l].act == NN_ACT_GELU) /* no GELU operator in opset 13 (see act_op) */
            return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: layer %d is GELU, which ONNX "
                            "has no operator for before opset 20; nothing was written", fn, l);
    pb count = {0};
    model_msg(&count, m);
    if (count.size > ONNX_MAX_BYTES)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: the model needs %llu bytes, beyond "
                        "protobuf's limit of 2 GiB on one file", fn,
                        (unsigned long long)count.size);

    onnx_job j = {m, count.size};
    char why[NN_ERRMSG_SIZE];
    nn_status s = nn__write_atomic(path, write_file, &j, why);
    if (s != NN_OK)
        nn__fail(m->errmsg, s, "%s: %s", fn, why);
    return s;
}
