/* ONNX export: the file is decoded here by a strict protobuf reader of the test's own (every
 * field must be one the exporter is meant to write, with the right wire type), its structure
 * checked, and the graph run by a small double-precision interpreter whose outputs must
 * match nn_predict. Plus the error paths: bad arguments, unwritable paths, the atomic
 * replacement of an existing file, and a failing allocator.
 * Shape letters: B batch rows, I a layer's inputs, O its outputs. */
#include <math.h>
#include <stdio.h>

#include "test_util.h"

enum { NAME = 64, MAX_NODES = 16, MAX_TENSORS = 16, MAX_VALUES = 32 };

/* ------------------------------------------------------- protobuf reader */

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static bool read_varint(reader *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        unsigned char b = *r->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* One field: its number, wire type, and either its scalar value (varint, fixed32) or its
 * bytes as a sub-reader (length-delimited). False at the end or on malformed input. */
typedef struct field {
    int number, wire;
    uint64_t value;
    reader bytes;
} field;

static bool next_field(reader *r, field *f)
{
    uint64_t tag;
    *f = (field){0};
    if (r->p >= r->end || !read_varint(r, &tag))
        return false;
    f->number = (int)(tag >> 3);
    f->wire = (int)(tag & 7);
    if (f->wire == 0)
        return read_varint(r, &f->value);
    if (f->wire == 5) {
        if (r->end - r->p < 4)
            return false;
        f->value = (uint64_t)r->p[0] | (uint64_t)r->p[1] << 8 | (uint64_t)r->p[2] << 16 |
                   (uint64_t)r->p[3] << 24;
        r->p += 4;
        return true;
    }
    if (f->wire == 2) {
        uint64_t n;
        if (!read_varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return false;
        f->bytes = (reader){r->p, r->p + n};
        r->p += n;
        return true;
    }
    return false; /* the exporter writes no other wire type */
}

static void copy_string(char *dst, const field *f)
{
    size_t n = (size_t)(f->bytes.end - f->bytes.p);
    assert_int_equal(f->wire, 2);
    assert_true(n < NAME);
    memcpy(dst, f->bytes.p, n);
    dst[n] = '\0';
}

static float float_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* --------------------------------------------------- the decoded model */

typedef struct onnx_tensor {
    char name[NAME];
    int n_dims;
    int64_t dims[4];
    int data_type;
    float *data; /* decoded from little-endian raw_data; test-owned */
    size_t n;
} onnx_tensor;

typedef struct onnx_node {
    char op[NAME], name[NAME], out[NAME];
    int n_in;
    char in[4][NAME];
    int n_attrs;
    char attr_name[NAME];
    int attr_type;
    int64_t attr_i;
    float attr_f;
} onnx_node;

typedef struct onnx_value_info {
    char name[NAME];
    int elem_type;
    int n_dims;
    char dim_param[4][NAME];
    int64_t dim_value[4];
} onnx_value_info;

typedef struct onnx_model {
    int64_t ir_version;
    int n_opsets;
    char opset_domain[NAME];
    int64_t opset_version;
    char producer[NAME], producer_version[NAME], graph_name[NAME];
    int n_nodes, n_inits, n_inputs, n_outputs;
    onnx_node nodes[MAX_NODES];
    onnx_tensor inits[MAX_TENSORS];
    onnx_value_info inputs[2], outputs[2];
} onnx_model;

static void decode_tensor(reader r, onnx_tensor *t)
{
    field f;
    while (next_field(&r, &f)) {
        if (f.number == 1 && f.wire == 0) {
            assert_true(t->n_dims < 4);
            t->dims[t->n_dims++] = (int64_t)f.value;
        } else if (f.number == 2 && f.wire == 0) {
            t->data_type = (int)f.value;
        } else if (f.number == 8) {
            copy_string(t->name, &f);
        } else if (f.number == 9 && f.wire == 2) {
            size_t bytes = (size_t)(f.bytes.end - f.bytes.p);
            assert_int_equal(bytes % 4, 0);
            t->n = bytes / 4;
            t->data = malloc(bytes + 4);
            assert_non_null(t->data);
            for (size_t i = 0; i < t->n; i++) {
                const unsigned char *b = f.bytes.p + 4 * i;
                t->data[i] = float_bits((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                                        (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
            }
        } else {
            fail_msg("TensorProto: unexpected field %d", f.number);
        }
    }
    assert_true(r.p == r.end);
}

static void decode_attr(reader r, onnx_node *n)
{
    field f;
    n->n_attrs++;
    while (next_field(&r, &f)) {
        if (f.number == 1)
            copy_string(n->attr_name, &f);
        else if (f.number == 2 && f.wire == 5)
            n->attr_f = float_bits((uint32_t)f.value);
        else if (f.number == 3 && f.wire == 0)
            n->attr_i = (int64_t)f.value;
        else if (f.number == 20 && f.wire == 0)
            n->attr_type = (int)f.value;
        else
            fail_msg("AttributeProto: unexpected field %d", f.number);
    }
    assert_true(r.p == r.end);
}

static void decode_node(reader r, onnx_node *n)
{
    field f;
    while (next_field(&r, &f)) {
        if (f.number == 1) {
            assert_true(n->n_in < 4);
            copy_string(n->in[n->n_in++], &f);
        } else if (f.number == 2) {
            copy_string(n->out, &f);
        } else if (f.number == 3) {
            copy_string(n->name, &f);
        } else if (f.number == 4) {
            copy_string(n->op, &f);
        } else if (f.number == 5 && f.wire == 2) {
            assert_int_equal(n->n_attrs, 0);
            decode_attr(f.bytes, n);
        } else {
            fail_msg("NodeProto: unexpected field %d", f.number);
        }
    }
    assert_true(r.p == r.end);
}

/* ValueInfoProto → TypeProto → TypeProto.Tensor → TensorShapeProto → Dimension. */
static void decode_value_info(reader r, onnx_value_info *v)
{
    field f, t, tt, sh, d;
    while (next_field(&r, &f)) {
        if (f.number == 1) {
            copy_string(v->name, &f);
            continue;
        }
        assert_int_equal(f.number, 2);
        while (next_field(&f.bytes, &t)) {
            assert_int_equal(t.number, 1); /* tensor_type */
            while (next_field(&t.bytes, &tt)) {
                if (tt.number == 1) {
                    v->elem_type = (int)tt.value;
                    continue;
                }
                assert_int_equal(tt.number, 2); /* shape */
                while (next_field(&tt.bytes, &sh)) {
                    assert_int_equal(sh.number, 1);
                    assert_true(v->n_dims < 4);
                    while (next_field(&sh.bytes, &d)) {
                        if (d.number == 1)
                            v->dim_value[v->n_dims] = (int64_t)d.value;
                        else if (d.number == 2)
                            copy_string(v->dim_param[v->n_dims], &d);
                        else
                            fail_msg("Dimension: unexpected field %d", d.number);
                    }
                    v->n_dims++;
                }
            }
        }
    }
    assert_true(r.p == r.end);
}

static void decode_graph(reader r, onnx_model *m)
{
    field f;
    while (next_field(&r, &f)) {
        assert_int_equal(f.wire, 2);
        if (f.number == 1) {
            assert_true(m->n_nodes < MAX_NODES);
            decode_node(f.bytes, &m->nodes[m->n_nodes++]);
        } else if (f.number == 2) {
            copy_string(m->graph_name, &f);
        } else if (f.number == 5) {
            assert_true(m->n_inits < MAX_TENSORS);
            decode_tensor(f.bytes, &m->inits[m->n_inits++]);
        } else if (f.number == 11) {
            assert_true(m->n_inputs < 2);
            decode_value_info(f.bytes, &m->inputs[m->n_inputs++]);
        } else if (f.number == 12) {
            assert_true(m->n_outputs < 2);
            decode_value_info(f.bytes, &m->outputs[m->n_outputs++]);
        } else {
            fail_msg("GraphProto: unexpected field %d", f.number);
        }
    }
    assert_true(r.p == r.end);
}

static void decode_model(const unsigned char *buf, size_t n, onnx_model *m)
{
    memset(m, 0, sizeof *m);
    reader r = {buf, buf + n};
    field f, o;
    int graphs = 0;
    while (next_field(&r, &f)) {
        if (f.number == 1 && f.wire == 0) {
            m->ir_version = (int64_t)f.value;
        } else if (f.number == 2) {
            copy_string(m->producer, &f);
        } else if (f.number == 3) {
            copy_string(m->producer_version, &f);
        } else if (f.number == 7 && f.wire == 2) {
            graphs++;
            decode_graph(f.bytes, m);
        } else if (f.number == 8 && f.wire == 2) {
            m->n_opsets++;
            while (next_field(&f.bytes, &o)) {
                if (o.number == 1)
                    copy_string(m->opset_domain, &o);
                else if (o.number == 2 && o.wire == 0)
                    m->opset_version = (int64_t)o.value;
                else
                    fail_msg("OperatorSetIdProto: unexpected field %d", o.number);
            }
        } else {
            fail_msg("ModelProto: unexpected field %d", f.number);
        }
    }
    assert_true(r.p == r.end); /* the whole file parsed: no trailing or truncated bytes */
    assert_int_equal(graphs, 1);
}

static void free_model(onnx_model *m)
{
    for (int i = 0; i < m->n_inits; i++)
        free(m->inits[i].data);
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return buf;
}

static void load(const char *path, onnx_model *m)
{
    size_t n;
    unsigned char *buf = read_file(path, &n);
    decode_model(buf, n, m);
    free(buf);
}

static bool file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* ------------------------------------------- the interpreter, in double */

typedef struct value {
    char name[NAME];
    int rows, cols;
    double *data; /* (rows, cols) */
} value;

static value *find_value(value *vals, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(vals[i].name, name))
            return &vals[i];
    fail_msg("no value named %s", name);
    return NULL;
}

static const onnx_tensor *find_init(const onnx_model *m, const char *name)
{
    for (int i = 0; i < m->n_inits; i++)
        if (!strcmp(m->inits[i].name, name))
            return &m->inits[i];
    fail_msg("no initializer named %s", name);
    return NULL;
}

/* Runs the graph's nodes in order on X (B, I); returns "output" (B, O), caller frees. */
static double *interpret(const onnx_model *m, const float *X, int B, int I, int *O)
{
    value vals[MAX_VALUES] = {{.name = "input", .rows = B, .cols = I}};
    int n = 1;
    vals[0].data = malloc((size_t)B * I * sizeof(double));
    assert_non_null(vals[0].data);
    for (int i = 0; i < B * I; i++)
        vals[0].data[i] = X[i];
    for (int k = 0; k < m->n_nodes; k++) {
        const onnx_node *nd = &m->nodes[k];
        const value *x = find_value(vals, n, nd->in[0]);
        assert_true(n < MAX_VALUES);
        value *y = &vals[n++];
        strcpy(y->name, nd->out);
        y->rows = x->rows;
        y->cols = x->cols;
        if (!strcmp(nd->op, "Gemm")) { /* y = x·Wᵀ + b */
            const onnx_tensor *W = find_init(m, nd->in[1]), *b = find_init(m, nd->in[2]);
            y->cols = (int)W->dims[0];
            assert_int_equal(W->dims[1], x->cols);
            y->data = malloc((size_t)y->rows * y->cols * sizeof(double));
            assert_non_null(y->data);
            for (int r = 0; r < y->rows; r++)
                for (int j = 0; j < y->cols; j++) {
                    double s = b->data[j];
                    for (int i = 0; i < x->cols; i++)
                        s += x->data[r * x->cols + i] * W->data[j * x->cols + i];
                    y->data[r * y->cols + j] = s;
                }
            continue;
        }
        y->data = malloc((size_t)y->rows * y->cols * sizeof(double));
        assert_non_null(y->data);
        for (int r = 0; r < y->rows; r++) {
            const double *xr = x->data + (size_t)r * x->cols;
            double *yr = y->data + (size_t)r * y->cols, max = xr[0], sum = 0.0;
            for (int j = 0; j < y->cols; j++) {
                double z = xr[j];
                if (!strcmp(nd->op, "Relu"))
                    yr[j] = z > 0.0 ? z : 0.0;
                else if (!strcmp(nd->op, "LeakyRelu"))
                    yr[j] = z > 0.0 ? z : nd->attr_f * z;
                else if (!strcmp(nd->op, "Sigmoid"))
                    yr[j] = 1.0 / (1.0 + exp(-z));
                else if (!strcmp(nd->op, "Tanh"))
                    yr[j] = tanh(z);
                else if (!strcmp(nd->op, "Elu"))
                    yr[j] = z > 0.0 ? z : nd->attr_f * expm1(z);
                else if (!strcmp(nd->op, "PRelu")) {
                    const onnx_tensor *slope = find_init(m, nd->in[1]);
                    yr[j] = z > 0.0 ? z : slope->data[slope->n > 1 ? j : 0] * z;
                } else if (!strcmp(nd->op, "Softmax"))
                    max = z > max ? z : max;
                else
                    fail_msg("unexpected operator %s", nd->op);
            }
            if (!strcmp(nd->op, "Softmax")) {
                for (int j = 0; j < y->cols; j++)
                    sum += yr[j] = exp(xr[j] - max);
                for (int j = 0; j < y->cols; j++)
                    yr[j] /= sum;
            }
        }
    }
    value *out = find_value(vals, n, "output");
    double *result = out->data;
    *O = out->cols;
    for (int i = 0; i < n; i++)
        if (vals[i].data != result)
            free(vals[i].data);
    return result;
}

/* ------------------------------------------------------------ the tests */

/* Every activation; the last layer of each model has a different kind. */
static const nn_layer_spec deep[] = {
    {.units = 5, .act = NN_ACT_RELU},
    {.units = 4, .act = NN_ACT_LEAKY_RELU, .act_param = 0.2f},
    {.units = 6, .act = NN_ACT_TANH},
    {.units = 3, .act = NN_ACT_LINEAR},
    {.units = 2, .act = NN_ACT_SIGMOID},
};
static const nn_layer_spec classifier[] = {
    {.units = 7, .act = NN_ACT_LEAKY_RELU}, /* slope left 0: exported as 0.01 */
    {.units = 3, .act = NN_ACT_SOFTMAX},
};
static const nn_layer_spec linear[] = {{.units = 1, .act = NN_ACT_LINEAR}};

typedef struct model_case {
    const char *name;
    int n_in, n_layers;
    const nn_layer_spec *layers;
    const char *ops; /* the node sequence expected */
} model_case;

static const model_case cases[] = {
    {"deep", 3, 5, deep, "Gemm Relu Gemm LeakyRelu Gemm Tanh Gemm Gemm Sigmoid"},
    {"classifier", 4, 2, classifier, "Gemm LeakyRelu Gemm Softmax"},
    {"linear", 2, 1, linear, "Gemm"},
};

static const char *const path = "test_onnx_model.onnx";

static nn_model *make_model(const model_case *c, uint64_t seed)
{
    nn_model *model;
    nn_model_opts opts = {.seed = seed};
    assert_int_equal(nn_model_create(c->n_in, c->layers, c->n_layers, &opts, &model), NN_OK);
    /* non-zero biases, so that a swapped or dropped bias shows */
    for (int l = 0; l < c->n_layers; l++) {
        nn_layer_view v;
        assert_int_equal(nn_model_layer(model, l, &v), NN_OK);
        for (int j = 0; j < v.n_out; j++)
            v.b.data[j] = 0.1f * (float)(j + 1) - 0.25f * (float)l;
    }
    return model;
}

static void test_structure(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const model_case *c = &cases[k];
        nn_model *model = make_model(c, 11 + k);
        assert_int_equal(nn_model_export_onnx(model, path), NN_OK);
        onnx_model m;
        load(path, &m);

        assert_int_equal(m.ir_version, 7);
        assert_int_equal(m.n_opsets, 1);
        assert_string_equal(m.opset_domain, "");
        assert_int_equal(m.opset_version, 13);
        assert_string_equal(m.producer, "libnn");
        assert_string_equal(m.producer_version, NN_VERSION_STRING);
        assert_string_equal(m.graph_name, "libnn");

        char ops[256] = "";
        for (int i = 0; i < m.n_nodes; i++)
            snprintf(ops + strlen(ops), sizeof ops - strlen(ops), "%s%s", i ? " " : "",
                     m.nodes[i].op);
        assert_string_equal(ops, c->ops);

        /* Nodes chain input → ... → output, each Gemm on its layer's own parameters. */
        const char *prev = "input";
        int l = 0;
        for (int i = 0; i < m.n_nodes; i++) {
            const onnx_node *nd = &m.nodes[i];
            char name[2 * NAME];
            assert_string_equal(nd->in[0], prev);
            bool has_attr = !strcmp(nd->op, "Gemm") || !strcmp(nd->op, "LeakyRelu") ||
                            !strcmp(nd->op, "Softmax");
            assert_int_equal(nd->n_attrs, has_attr ? 1 : 0);
            if (!strcmp(nd->op, "Gemm")) {
                assert_int_equal(nd->n_in, 3);
                snprintf(name, sizeof name, "layer%d.weight", l);
                assert_string_equal(nd->in[1], name);
                snprintf(name, sizeof name, "layer%d.bias", l);
                assert_string_equal(nd->in[2], name);
                assert_string_equal(nd->attr_name, "transB");
                assert_int_equal(nd->attr_type, 2);
                assert_int_equal(nd->attr_i, 1);
                snprintf(name, sizeof name, "layer%d/Gemm", l);
                l++;
            } else {
                assert_int_equal(nd->n_in, 1);
                snprintf(name, sizeof name, "layer%d/%s", l - 1, nd->op);
            }
            assert_string_equal(nd->name, name);
            if (!strcmp(nd->op, "LeakyRelu")) {
                assert_string_equal(nd->attr_name, "alpha");
                assert_int_equal(nd->attr_type, 1);
                assert_float_equal(nd->attr_f, c->layers[l - 1].act_param == 0.0f ? 0.01f
                                                   : c->layers[l - 1].act_param, 0.0f);
            }
            if (!strcmp(nd->op, "Softmax")) {
                assert_string_equal(nd->attr_name, "axis");
                assert_int_equal(nd->attr_type, 2);
                assert_int_equal(nd->attr_i, 1);
            }
            prev = nd->out;
        }
        assert_string_equal(prev, "output");
        assert_int_equal(l, c->n_layers);

        /* Initializers: W (O, I) and b (O) of every layer, bit for bit. */
        assert_int_equal(m.n_inits, 2 * c->n_layers);
        for (l = 0; l < c->n_layers; l++) {
            nn_layer_view v;
            assert_int_equal(nn_model_layer(model, l, &v), NN_OK);
            const onnx_tensor *W = &m.inits[2 * l], *b = &m.inits[2 * l + 1];
            char name[2 * NAME];
            snprintf(name, sizeof name, "layer%d.weight", l);
            assert_string_equal(W->name, name);
            assert_int_equal(W->data_type, 1);
            assert_int_equal(W->n_dims, 2);
            assert_int_equal(W->dims[0], v.n_out);
            assert_int_equal(W->dims[1], v.n_in);
            assert_int_equal(W->n, (size_t)v.n_out * v.n_in);
            assert_memory_equal(W->data, v.W.data, W->n * sizeof(float));
            snprintf(name, sizeof name, "layer%d.bias", l);
            assert_string_equal(b->name, name);
            assert_int_equal(b->n_dims, 1);
            assert_int_equal(b->dims[0], v.n_out);
            assert_memory_equal(b->data, v.b.data, (size_t)v.n_out * sizeof(float));
        }

        /* One input (batch, n_in) and one output (batch, n_out), both float. */
        assert_int_equal(m.n_inputs, 1);
        assert_int_equal(m.n_outputs, 1);
        const onnx_value_info *io[2] = {&m.inputs[0], &m.outputs[0]};
        const char *io_name[2] = {"input", "output"};
        int64_t io_cols[2] = {c->n_in, nn_model_outputs(model)};
        for (int i = 0; i < 2; i++) {
            assert_string_equal(io[i]->name, io_name[i]);
            assert_int_equal(io[i]->elem_type, 1);
            assert_int_equal(io[i]->n_dims, 2);
            assert_string_equal(io[i]->dim_param[0], "batch");
            assert_string_equal(io[i]->dim_param[1], "");
            assert_int_equal(io[i]->dim_value[1], io_cols[i]);
        }
        free_model(&m);
        nn_model_destroy(model);
        assert_int_equal(remove(path), 0);
    }
}

/* The exported graph computes what nn_predict computes. */
static void test_matches_predict(void **state)
{
    (void)state;
    enum { B = 9 };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const model_case *c = &cases[k];
        nn_model *model = make_model(c, 23 + k);
        int O = nn_model_outputs(model);
        float x[B * 8], p[B * 8];
        nn_mat X = nn_mat_wrap(x, B, c->n_in), P = nn_mat_wrap(p, B, O);
        fill_uniform(&X, -3.0f, 3.0f, 5 + k);
        assert_int_equal(nn_predict(model, &X, &P), NN_OK);
        assert_int_equal(nn_model_export_onnx(model, path), NN_OK);
        onnx_model m;
        load(path, &m);
        int O2;
        double *y = interpret(&m, x, B, c->n_in, &O2);
        assert_int_equal(O2, O);
        for (int i = 0; i < B * O; i++)
            assert_true(fabs(y[i] - p[i]) <= 1e-5 * (1.0 + fabs(y[i])));
        free(y);
        free_model(&m);
        nn_model_destroy(model);
        assert_int_equal(remove(path), 0);
    }
}

/* PReLU (learned slopes, shared or per unit) and ELU: exported as PRelu with its slope
 * initializer and Elu, and the graph computes what nn_predict does. */
static void test_prelu_elu(void **state)
{
    (void)state;
    enum { B = 9, I = 3, O = 2 };
    const nn_layer_spec layers[] = {{.units = 6, .act = NN_ACT_PRELU_UNITS},
                                    {.units = 5, .act = NN_ACT_ELU, .act_param = 0.7f},
                                    {.units = 4, .act = NN_ACT_PRELU},
                                    {.units = O, .act = NN_ACT_LINEAR}};
    const model_case c = {"prelu-elu", I, 4, layers, "Gemm PRelu Gemm Elu Gemm PRelu Gemm"};
    nn_model *model = make_model(&c, 31);
    for (int l = 0; l < 3; l += 2) { /* slopes that differ from each other and from 0.25 */
        nn_layer_view v;
        assert_int_equal(nn_model_layer(model, l, &v), NN_OK);
        for (int k = 0; k < v.s.cols; k++)
            v.s.data[k] = 0.05f * (float)(k + 1) + 0.1f * (float)l;
    }
    float x[B * I], p[B * O];
    nn_mat X = nn_mat_wrap(x, B, I), P = nn_mat_wrap(p, B, O);
    fill_uniform(&X, -3.0f, 3.0f, 8);
    assert_int_equal(nn_predict(model, &X, &P), NN_OK);
    assert_int_equal(nn_model_export_onnx(model, path), NN_OK);
    onnx_model m;
    load(path, &m);
    char ops[256] = "";
    for (int i = 0; i < m.n_nodes; i++)
        snprintf(ops + strlen(ops), sizeof ops - strlen(ops), "%s%s", i ? " " : "", m.nodes[i].op);
    assert_string_equal(ops, c.ops);
    const onnx_tensor *s0 = find_init(&m, "layer0.slope"), *s2 = find_init(&m, "layer2.slope");
    assert_int_equal(s0->n, 6);
    assert_int_equal(s2->n, 1);
    int O2;
    double *y = interpret(&m, x, B, I, &O2);
    assert_int_equal(O2, O);
    for (int i = 0; i < B * O; i++)
        assert_true(fabs(y[i] - p[i]) <= 1e-5 * (1.0 + fabs(y[i])));
    free(y);
    free_model(&m);
    /* GELU has no operator in opset 13: refused, and no file written. */
    const nn_layer_spec gelu[] = {{.units = 3, .act = NN_ACT_GELU}, {.units = 1}};
    const model_case g = {"gelu", 2, 2, gelu, ""};
    nn_model *gm = make_model(&g, 3);
    assert_int_equal(remove(path), 0);
    assert_int_equal(nn_model_export_onnx(gm, path), NN_ERR_INVALID_ARG);
    assert_false(file_exists(path));
    nn_model_destroy(gm);
    nn_model_destroy(model);
}

static void test_bad_args(void **state)
{
    (void)state;
    nn_model *model = make_model(&cases[1], 1);
    remove(path); /* a failed test before this one may have left it */
    assert_int_equal(nn_model_export_onnx(NULL, path), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_export_onnx(model, NULL), NN_ERR_INVALID_ARG);
    assert_int_equal(nn_model_export_onnx(model, ""), NN_ERR_INVALID_ARG);
    assert_false(file_exists(path));
    nn_model_destroy(model);
}

/* A path that cannot be written: NN_ERR_IO, and no file (temporary or final) left behind. */
static void test_unwritable(void **state)
{
    (void)state;
    nn_model *model = make_model(&cases[1], 1);
    const char *bad = "test_onnx_no_such_dir/model.onnx";
    assert_int_equal(nn_model_export_onnx(model, bad), NN_ERR_IO);
    assert_false(file_exists(bad));
    assert_false(file_exists("test_onnx_no_such_dir/model.onnx.0.tmp"));
    nn_model_destroy(model);
}

/* An existing file is replaced whole; the temporary file is gone afterwards; a temporary
 * name already taken (a crashed writer's leftover) is skipped and left alone. */
static void test_replaces_file(void **state)
{
    (void)state;
    char stale[128];
    snprintf(stale, sizeof stale, "%s.0.tmp", path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a model, and longer than the model it will be replaced by ...............", f);
    fclose(f);
    f = fopen(stale, "wb");
    assert_non_null(f);
    fputs("stale", f);
    fclose(f);

    nn_model *model = make_model(&cases[2], 3);
    assert_int_equal(nn_model_export_onnx(model, path), NN_OK);
    onnx_model m;
    load(path, &m); /* decodes to the end: nothing of the old content is left */
    assert_int_equal(m.n_nodes, 1);
    free_model(&m);

    size_t n;
    unsigned char *buf = read_file(stale, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "stale", 5);
    free(buf);
    char tmp1[128];
    snprintf(tmp1, sizeof tmp1, "%s.1.tmp", path);
    assert_false(file_exists(tmp1));

    nn_model_destroy(model);
    assert_int_equal(remove(stale), 0);
    assert_int_equal(remove(path), 0);
}

/* Export allocates nothing (the temporary file's name is on the stack): with the model's
 * allocator failing at its next call it still writes the file, and no allocation is made or
 * left. A path longer than the library takes is refused before any file is made. */
static void test_alloc_failure(void **state)
{
    (void)state;
    counting_alloc counter = {0};
    nn_model_opts opts = {.seed = 1, .alloc = counting_alloc_fn, .alloc_user = &counter};
    nn_model *model;
    assert_int_equal(nn_model_create(4, classifier, 2, &opts, &model), NN_OK);
    long blocks = counter.live_blocks, calls = counter.calls;
    long long bytes = counter.live_bytes;

    remove(path);
    counter.fail_at = counter.calls + 1;
    assert_int_equal(nn_model_export_onnx(model, path), NN_OK);
    assert_true(file_exists(path));
    assert_int_equal(counter.calls, calls);
    assert_int_equal(counter.live_blocks, blocks);
    assert_int_equal(counter.live_bytes, bytes);
    static char long_path[5000];
    memset(long_path, 'a', sizeof long_path - 1);
    assert_int_equal(nn_model_export_onnx(model, long_path), NN_ERR_INVALID_ARG);

    counter.fail_at = 0;
    assert_int_equal(nn_model_export_onnx(model, path), NN_OK);
    assert_int_equal(counter.live_blocks, blocks);
    assert_int_equal(counter.live_bytes, bytes);
    nn_model_destroy(model);
    assert_int_equal(counter.live_blocks, 0);
    assert_int_equal(remove(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_matches_predict),
        cmocka_unit_test(test_prelu_elu),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_replaces_file),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests_name("onnx", tests, NULL, NULL);
}
