/* Model files (docs/FORMAT.md).
 * The metadata entries themselves live with the model (net/meta.c).
 * Writing is atomic (file.c): a temporary file in the same directory, flushed, renamed.
 * Reading trusts nothing: every length is checked against the bytes really there before it
 * is used, every section's CRC is verified, and a failure frees all it took. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/data.h" /* nn__crc32 */
#include "formats/formats.h"

static const uint8_t MAGIC[8] = {0x89, 'N', 'N', 'M', 'O', 'D', '\r', '\n'};
enum { FORMAT_VERSION = 1, MAX_LAYERS = 65536, SECTION_OVERHEAD = 16 };
enum { TRST_FIXED = 4 + 16 + 8 + 4 + 4 }; /* trst before the optimizer's buffers */

/* ---------------------------------------------------------------- writing */

/* Little-endian encoding into a buffer, whatever the host's byte order. */
static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
    return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> 8 * i);
    return p + 8;
}

static uint8_t *put_f32(uint8_t *p, float x)
{
    uint32_t v;
    memcpy(&v, &x, sizeof v);
    return put_u32(p, v);
}

typedef struct writer {
    FILE *f;
    uint32_t crc; /* of the current section so far */
    bool ok;      /* every write so far succeeded */
} writer;

static void write_bytes(writer *w, const uint8_t *p, size_t n)
{
    w->crc = nn__crc32(w->crc, p, n);
    w->ok = w->ok && fwrite(p, 1, n, w->f) == n;
}

static void begin_section(writer *w, const char tag[4], uint64_t length)
{
    uint8_t head[12];
    memcpy(head, tag, 4);
    put_u64(head + 4, length);
    w->crc = 0;
    write_bytes(w, head, sizeof head);
}

static void end_section(writer *w)
{
    uint8_t tail[4];
    put_u32(tail, w->crc);
    write_bytes(w, tail, sizeof tail);
}

/* "trst", the state of the training run (checkpoints only): epochs done, the run's random
 * stream, the optimizer's step count and, if it has started, its kind and two buffers. */
static void write_train_state(writer *w, const nn_model *m)
{
    uint8_t buf[4096], *p;
    bool has_state = m->optim_state != NULL && m->optim_steps > 0;
    uint64_t floats = has_state ? 2 * (uint64_t)m->n_params : 0;
    begin_section(w, "trst", TRST_FIXED + 4 * floats);
    p = put_u32(buf, (uint32_t)m->run_epochs);
    for (int i = 0; i < 4; i++)
        p = put_u32(p, m->run_rng.s[i]);
    p = put_u64(p, has_state ? (uint64_t)m->optim_steps : 0);
    p = put_u32(put_u32(p, has_state), has_state ? (uint32_t)nn__optim_kind(m) : 0);
    write_bytes(w, buf, (size_t)(p - buf));
    for (uint64_t i = 0; i < floats; i += sizeof buf / 4) {
        uint64_t n = floats - i < sizeof buf / 4 ? floats - i : sizeof buf / 4;
        p = buf;
        for (uint64_t k = 0; k < n; k++)
            p = put_f32(p, m->optim_state[i + k]);
        write_bytes(w, buf, (size_t)(p - buf));
    }
    end_section(w);
}

static void write_model(writer *w, const nn_model *m, bool checkpoint)
{
    uint8_t buf[4096], *p;
    p = put_u32(put_u32(buf + 8, FORMAT_VERSION), 0);
    memcpy(buf, MAGIC, 8);
    write_bytes(w, buf, (size_t)(p - buf));

    begin_section(w, "ARCH", 8 + 12 * (uint64_t)m->n_layers);
    p = put_u32(put_u32(buf, (uint32_t)m->n_in), (uint32_t)m->n_layers);
    write_bytes(w, buf, (size_t)(p - buf));
    for (int l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        p = put_f32(put_u32(put_u32(buf, (uint32_t)L->n_out), (uint32_t)L->act), L->act_param);
        write_bytes(w, buf, (size_t)(p - buf));
    }
    end_section(w);

    for (int i = 0; i < m->n_meta; i++) {
        const nn__meta *e = &m->meta[i];
        size_t key_len = strlen(e->key);
        begin_section(w, "meta", 4 + (uint64_t)key_len + e->size);
        put_u32(buf, (uint32_t)key_len);
        write_bytes(w, buf, 4);
        write_bytes(w, (const uint8_t *)e->key, key_len);
        write_bytes(w, e->value, e->size);
        end_section(w);
    }

    begin_section(w, "PARM", 4 * (uint64_t)m->n_params);
    for (size_t i = 0; i < m->n_params; i += sizeof buf / 4) {
        size_t n = m->n_params - i < sizeof buf / 4 ? m->n_params - i : sizeof buf / 4;
        p = buf;
        for (size_t k = 0; k < n; k++)
            p = put_f32(p, m->params[i + k]);
        write_bytes(w, buf, (size_t)(p - buf));
    }
    end_section(w);

    bool any_dropout = false;
    for (int l = 0; l < m->n_layers; l++)
        any_dropout = any_dropout || m->layers[l].dropout > 0.0f;
    if (any_dropout) { /* a training setting: ancillary, inference does without it */
        begin_section(w, "drop", 4 * (uint64_t)m->n_layers);
        for (int l = 0; l < m->n_layers; l++) {
            put_f32(buf, m->layers[l].dropout);
            write_bytes(w, buf, 4);
        }
        end_section(w);
    }
    if (checkpoint)
        write_train_state(w, m);
    begin_section(w, "END ", 0);
    end_section(w);
}

typedef struct save_job {
    const nn_model *m;
    bool checkpoint;
} save_job;

static bool write_file(FILE *f, void *ctx)
{
    const save_job *j = ctx;
    writer w = {.f = f, .ok = true};
    write_model(&w, j->m, j->checkpoint);
    return w.ok;
}

static nn_status save(const nn_model *m, const char *path, bool checkpoint)
{
    if (!m)
        return NN_ERR_INVALID_ARG;
    save_job j = {m, checkpoint};
    char why[NN_ERRMSG_SIZE];
    nn_status s = nn__write_atomic(path, write_file, &j, why);
    if (s != NN_OK)
        nn__fail(m->errmsg, s, "%s: %s", checkpoint ? "nn_model_save_checkpoint" : "nn_model_save",
                 why);
    return s;
}

nn_status nn_model_save(const nn_model *m, const char *path)
{
    return save(m, path, false);
}

nn_status nn_model_save_checkpoint(const nn_model *m, const char *path)
{
    return save(m, path, true);
}

/* ---------------------------------------------------------------- reading */

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static float get_f32(const uint8_t *p)
{
    uint32_t v = get_u32(p);
    float x;
    memcpy(&x, &v, sizeof x);
    return x;
}

typedef struct section {
    char tag[4];
    const uint8_t *payload;
    size_t length;
} section;

/* The next section at data[*pos..len): its length must fit in what is left and its CRC
 * must match, or the file is malformed. */
static nn_status next_section(const uint8_t *data, size_t len, size_t *pos, section *s)
{
    size_t left = len - *pos;
    if (left < SECTION_OVERHEAD)
        return NN_ERR_FORMAT;
    const uint8_t *head = data + *pos;
    uint64_t length = get_u64(head + 4);
    if (length > left - SECTION_OVERHEAD)
        return NN_ERR_FORMAT;
    memcpy(s->tag, head, 4);
    s->payload = head + 12;
    s->length = (size_t)length;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzzing: let mutations past the CRC */
    if (nn__crc32(0, head, 12 + s->length) != get_u32(s->payload + s->length))
        return NN_ERR_FORMAT;
#endif
    *pos += SECTION_OVERHEAD + s->length;
    return NN_OK;
}

static bool is_tag(const section *s, const char *tag)
{
    return memcmp(s->tag, tag, 4) == 0;
}

/* Whether the parameters the architecture implies fit in the bytes the file has left: the
 * check that keeps a corrupt width from allocating gigabytes before PARM is ever read. */
static bool params_fit(const section *s, uint32_t n_in, uint32_t n_layers, size_t bytes_left)
{
    uint64_t count = 0, limit = bytes_left / 4, fan_in = n_in;
    for (uint32_t l = 0; l < n_layers; l++) {
        uint64_t units = get_u32(s->payload + 8 + 12 * (size_t)l);
        if (units == 0 || units > limit || fan_in > limit / units)
            return false;
        count += units * fan_in + units;
        if (count > limit)
            return false;
        fan_in = units;
    }
    return true;
}

/* ARCH: the widths and activations; builds the model (with throw-away initial weights). */
static nn_status read_arch(const section *s, size_t bytes_left, const nn_model_opts *opts,
                           nn_model **out)
{
    if (s->length < 8)
        return NN_ERR_FORMAT;
    uint32_t n_in = get_u32(s->payload), n_layers = get_u32(s->payload + 4);
    if (n_in == 0 || n_in > INT_MAX || n_layers == 0 || n_layers > MAX_LAYERS ||
        s->length != 8 + 12 * (size_t)n_layers || !params_fit(s, n_in, n_layers, bytes_left))
        return NN_ERR_FORMAT;
    void *user;
    nn_alloc_fn alloc = nn__opts_alloc(opts, &user);
    nn_layer_spec *specs = alloc(user, NULL, 0, n_layers * sizeof *specs);
    if (!specs)
        return NN_ERR_NOMEM;
    nn_status st = NN_OK;
    for (uint32_t l = 0; l < n_layers && st == NN_OK; l++) {
        const uint8_t *p = s->payload + 8 + 12 * (size_t)l;
        uint32_t units = get_u32(p), act = get_u32(p + 4);
        if (units > INT_MAX || act > INT_MAX) /* nn_model_create judges the rest */
            st = NN_ERR_FORMAT;
        specs[l] = (nn_layer_spec){.units = (int)units, .act = (nn_act)act,
                                   .act_param = get_f32(p + 8), .init = NN_INIT_ZEROS};
    }
    if (st == NN_OK)
        st = nn_model_create((int)n_in, specs, (int)n_layers, opts, out);
    alloc(user, specs, n_layers * sizeof *specs, 0);
    return st == NN_ERR_INVALID_ARG ? NN_ERR_FORMAT : st; /* the file described no valid model */
}

static nn_status read_params(const section *s, nn_model *m)
{
    if (s->length != 4 * m->n_params)
        return NN_ERR_FORMAT;
    for (size_t i = 0; i < m->n_params; i++) {
        float x = get_f32(s->payload + 4 * i);
        if (!isfinite(x))
            return NN_ERR_FORMAT;
        m->params[i] = x;
    }
    return NN_OK;
}

static nn_status read_meta(const section *s, nn_model *m)
{
    if (s->length < 4)
        return NN_ERR_FORMAT;
    uint32_t key_len = get_u32(s->payload);
    const char *key = (const char *)s->payload + 4;
    if (key_len == 0 || key_len > NN__META_KEY_MAX || key_len > s->length - 4 ||
        memchr(key, '\0', key_len) || nn__meta_find(m, key, key_len))
        return NN_ERR_FORMAT;
    return nn__meta_set(m, key, key_len, s->payload + 4 + key_len, s->length - 4 - key_len);
}

static nn_status read_dropout(const section *s, nn_model *m)
{
    if (s->length != 4 * (size_t)m->n_layers)
        return NN_ERR_FORMAT;
    for (int l = 0; l < m->n_layers; l++) {
        float p = get_f32(s->payload + 4 * (size_t)l);
        if (!(p >= 0.0f && p < 1.0f) || (l == m->n_layers - 1 && p != 0.0f))
            return NN_ERR_FORMAT;
        m->layers[l].dropout = p;
    }
    return NN_OK;
}

static nn_status read_train_state(const section *s, nn_model *m)
{
    if (s->length < TRST_FIXED || m->optim_state)
        return NN_ERR_FORMAT;
    const uint8_t *p = s->payload;
    uint32_t epochs = get_u32(p), has_state = get_u32(p + 28), kind = get_u32(p + 32);
    uint64_t steps = get_u64(p + 20);
    bool rng_zero = (get_u32(p + 4) | get_u32(p + 8) | get_u32(p + 12) | get_u32(p + 16)) == 0;
    if (epochs > INT_MAX || steps > LONG_MAX || has_state > 1 || (has_state && steps == 0) ||
        (!has_state && (steps || kind)) || kind > NN_OPT_RMSPROP ||
        s->length != TRST_FIXED + (has_state ? 8 * m->n_params : 0) ||
        rng_zero) /* xoshiro128** never leaves the all-zero state, nor ever reaches it */
        return NN_ERR_FORMAT;
    if (has_state) {
        nn_status st = nn__optim_restore(m, (nn_optimizer)kind, (long)steps);
        if (st != NN_OK)
            return st;
        for (size_t i = 0; i < 2 * m->n_params; i++) {
            m->optim_state[i] = get_f32(p + TRST_FIXED + 4 * i);
            if (!isfinite(m->optim_state[i]))
                return NN_ERR_FORMAT; /* the caller destroys the model, state and all */
        }
    }
    m->run_epochs = (int)epochs;
    for (int i = 0; i < 4; i++)
        m->run_rng.s[i] = get_u32(p + 4 + 4 * i);
    return NN_OK;
}

nn_status nn__model_parse(const uint8_t *data, size_t len, const nn_model_opts *opts,
                          nn_model **out, char *why)
{
    if (len < 16 || memcmp(data, MAGIC, 8) != 0)
        return nn__fail(why, NN_ERR_FORMAT, "not a libnn model file (no magic number)");
    if (get_u32(data + 8) != FORMAT_VERSION || get_u32(data + 12) != 0)
        return nn__fail(why, NN_ERR_VERSION, "format version %u.%u; this libnn reads %d.0",
                        (unsigned)get_u32(data + 8), (unsigned)get_u32(data + 12),
                        FORMAT_VERSION);
    size_t pos = 16;
    nn_model *m = NULL;
    bool have_params = false, have_state = false, have_drop = false, ended = false;
    nn_status st = NN_OK;
    while (st == NN_OK && !ended) {
        section s;
        st = next_section(data, len, &pos, &s);
        if (st != NN_OK)
            break;
        if (is_tag(&s, "ARCH"))
            st = m ? NN_ERR_FORMAT : read_arch(&s, len - pos, opts, &m);
        else if (!m)
            st = NN_ERR_FORMAT; /* ARCH comes first, before any section known or not */
        else if (is_tag(&s, "PARM"))
            st = have_params ? NN_ERR_FORMAT : read_params(&s, m);
        else if (is_tag(&s, "meta"))
            st = read_meta(&s, m);
        else if (is_tag(&s, "drop"))
            st = have_drop ? NN_ERR_FORMAT : read_dropout(&s, m);
        else if (is_tag(&s, "trst"))
            st = have_state ? NN_ERR_FORMAT : read_train_state(&s, m);
        else if (is_tag(&s, "END "))
            st = !have_params || s.length != 0 || pos != len ? NN_ERR_FORMAT : NN_OK;
        else if (s.tag[0] >= 'A' && s.tag[0] <= 'Z')
            st = NN_ERR_VERSION; /* a critical section of a later format: cannot be skipped */
        /* else an ancillary section we do not know: skipped, its CRC checked */
        have_params = have_params || (st == NN_OK && is_tag(&s, "PARM"));
        have_state = have_state || is_tag(&s, "trst");
        have_drop = have_drop || is_tag(&s, "drop");
        ended = st == NN_OK && is_tag(&s, "END ");
    }
    if (st != NN_OK) {
        nn_model_destroy(m);
        if (st == NN_ERR_NOMEM)
            return nn__fail(why, st, "out of memory");
        return nn__fail(why, st, st == NN_ERR_VERSION ? "a section of a later format" :
                        "damaged: truncated, a CRC that does not match, or sizes that do not "
                        "agree");
    }
    *out = m;
    return NN_OK;
}

static nn_status load(const char *path, const nn_model_opts *opts, nn_model **out, char *msg)
{
    if (!path || !out)
        return nn__fail(msg, NN_ERR_INVALID_ARG, "nn_model_load: %s is NULL", path ? "out" : "path");
    void *user;
    nn_alloc_fn alloc = nn__opts_alloc(opts, &user);
    uint8_t *data;
    size_t len, cap;
    char why[NN_ERRMSG_SIZE];
    nn_status st = nn__read_whole(path, true, alloc, user, &data, &len, &cap, why);
    if (st != NN_OK)
        return nn__fail(msg, st, "nn_model_load: %s", why);
    /* The model is made by nn_model_create, which writes opts->error too: ours comes after. */
    st = nn__model_parse(data, len, opts, out, why);
    alloc(user, data, cap, 0);
    if (st != NN_OK)
        return nn__fail(msg, st, "nn_model_load: \"%s\": %s", path, why);
    return NN_OK;
}

nn_status nn_model_load(const char *path, const nn_model_opts *opts, nn_model **out)
{
    char msg[NN_ERRMSG_SIZE] = "";
    nn_status s = load(path, opts, out, msg);
    nn__error_set(opts ? opts->error : NULL, s, msg);
    return s;
}
