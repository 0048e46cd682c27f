/* The metadata a model carries (nn_model_set_meta): key-value entries saved with it.
 * Shape letters: none. */
#include <string.h>

#include "net/net.h"

/* One entry is one block: the key with its NUL, then the value at the next multiple of 16
 * bytes, so a value of floats or doubles can be read in place. */
static size_t meta_value_offset(size_t key_len)
{
    return (key_len + 1 + 15) / 16 * 16;
}

static size_t meta_block_size(const nn__meta *e)
{
    return meta_value_offset(strlen(e->key)) + e->size;
}

nn__meta *nn__meta_find(const nn_model *m, const char *key, size_t key_len)
{
    for (int i = 0; i < m->n_meta; i++)
        if (strlen(m->meta[i].key) == key_len && memcmp(m->meta[i].key, key, key_len) == 0)
            return &m->meta[i];
    return NULL;
}

void nn__meta_free_all(nn_model *m)
{
    for (int i = 0; i < m->n_meta; i++)
        nn__alloc(m, m->meta[i].key, meta_block_size(&m->meta[i]), 0);
    if (m->meta)
        nn__alloc(m, m->meta, (size_t)m->meta_cap * sizeof *m->meta, 0);
    m->meta = NULL;
    m->n_meta = m->meta_cap = 0;
}

/* Sets key (key_len bytes, no NUL among them) to value; replaces an existing entry only once
 * the new one is allocated, so a failure leaves the old value in place. */
nn_status nn__meta_set(nn_model *m, const char *key, size_t key_len, const void *value,
                       size_t size)
{
    nn__meta *old = nn__meta_find(m, key, key_len);
    if (!old && m->n_meta == m->meta_cap) {
        int cap = m->meta_cap ? 2 * m->meta_cap : 4;
        nn__meta *grown = nn__alloc(m, m->meta, (size_t)m->meta_cap * sizeof *grown,
                                    (size_t)cap * sizeof *grown);
        if (!grown)
            return NN_ERR_NOMEM;
        m->meta = grown;
        m->meta_cap = cap;
    }
    size_t offset = meta_value_offset(key_len);
    if (size > SIZE_MAX - offset)
        return NN_ERR_NOMEM;
    char *block = nn__alloc(m, NULL, 0, offset + size);
    if (!block)
        return NN_ERR_NOMEM;
    memset(block, 0, offset);
    memcpy(block, key, key_len);
    if (size)
        memcpy(block + offset, value, size);
    nn__meta entry = {.key = block, .value = (uint8_t *)block + offset, .size = size};
    if (old) {
        nn__alloc(m, old->key, meta_block_size(old), 0);
        *old = entry;
    } else {
        m->meta[m->n_meta++] = entry;
    }
    return NN_OK;
}

/* NN_OK if key is a usable key, else the failure, described for the public function fn. */
static nn_status check_key(const nn_model *m, const char *fn, const char *key)
{
    if (!key)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: key is NULL", fn);
    size_t n = strlen(key);
    if (n == 0 || n > NN__META_KEY_MAX)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: key is %zu bytes long; a key is "
                        "1 .. %d bytes", fn, n, NN__META_KEY_MAX);
    return NN_OK;
}

nn_status nn_model_set_meta(nn_model *m, const char *key, const void *value, size_t size)
{
    const char *fn = "nn_model_set_meta";
    if (!m)
        return NN_ERR_INVALID_ARG;
    nn_status s = check_key(m, fn, key);
    if (s != NN_OK)
        return s;
    if (!value && size > 0)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: value is NULL with size %zu; "
                        "remove an entry with NULL and size 0", fn, size);
    if (value) {
        s = nn__meta_set(m, key, strlen(key), value, size);
        return s == NN_OK ? s : nn__fail(m->errmsg, s, "%s: the allocator refused %zu bytes "
                                         "for the value of \"%s\"", fn, size, key);
    }
    nn__meta *e = nn__meta_find(m, key, strlen(key)); /* NULL value: remove */
    if (!e)
        return nn__fail(m->errmsg, NN_ERR_NOT_FOUND, "%s: no entry \"%s\" to remove", fn, key);
    nn__alloc(m, e->key, meta_block_size(e), 0);
    *e = m->meta[--m->n_meta];
    return NN_OK;
}

nn_status nn_model_get_meta(const nn_model *m, const char *key, const void **value, size_t *size)
{
    const char *fn = "nn_model_get_meta";
    if (!m)
        return NN_ERR_INVALID_ARG;
    nn_status s = check_key(m, fn, key);
    if (s != NN_OK)
        return s;
    if (!value || !size)
        return nn__fail(m->errmsg, NN_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                        !value ? "value" : "size");
    const nn__meta *e = nn__meta_find(m, key, strlen(key));
    if (!e)
        return nn__fail(m->errmsg, NN_ERR_NOT_FOUND, "%s: the model has no entry \"%s\"", fn,
                        key);
    *value = e->value;
    *size = e->size;
    return NN_OK;
}
