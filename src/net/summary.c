/* nn_model_summary: the network as a table of text, in the spirit of Keras's
 * model.summary(), written into the caller's buffer (the library never prints).
 * Shape letters: B batch rows, I a layer's inputs, O its outputs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"

/* The text so far: what fits in buf[0..size), and the length the whole text needs. */
typedef struct text {
    char *buf;
    size_t size, length;
} text;

static void add(text *t, const char *fmt, ...) NN__PRINTF(2, 3);
static void add(text *t, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t room = t->length < t->size ? t->size - t->length : 0;
    int n = vsnprintf(room ? t->buf + t->length : NULL, room, fmt, args);
    va_end(args);
    if (n > 0)
        t->length += (size_t)n;
}

/* v with thousands separators ("235,146") into out (32 bytes). */
static const char *grouped(unsigned long long v, char *out)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", v), k = 0;
    for (int i = 0; i < n; i++) {
        out[k++] = digits[i];
        if ((n - 1 - i) % 3 == 0 && i < n - 1)
            out[k++] = ',';
    }
    out[k] = '\0';
    return out;
}

nn_status nn_model_summary(const nn_model *m, char *buf, size_t size, size_t *length)
{
    if (!m)
        return NN_ERR_INVALID_ARG;
    if (!buf && size > 0)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_model_summary: buf is NULL with "
                        "size %zu", size);
    text t = {buf, size, 0};
    char a[32], b[32], c[32];
    unsigned long long macs = 0;
    add(&t, "layer  units  activation     dropout      params  output\n");
    add(&t, "input  %5d                                       (B, %d)\n", m->n_in, m->n_in);
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        unsigned long long weights = (unsigned long long)L->n_out * (unsigned long long)L->n_in;
        macs += weights;
        add(&t, "%5d  %5d  %-12s  %7.2f  %10s  (B, %d)\n", l, L->n_out, nn__act_name(L->act),
            (double)L->dropout, grouped(weights + (unsigned long long)L->n_out + L->n_slopes, a),
            L->n_out);
    }
    add(&t, "parameters %s (%s bytes as float); multiply-adds per sample %s\n",
        grouped(m->n_params, a), grouped(4ull * m->n_params, b), grouped(macs, c));
    if (length)
        *length = t.length + 1;
    if (t.length >= size) {
        if (size > 0)
            buf[size - 1] = '\0';
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "nn_model_summary: the summary needs "
                        "%zu bytes, and buf has %zu", t.length + 1, size);
    }
    return NN_OK;
}
