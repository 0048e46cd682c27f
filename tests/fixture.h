/* Fixture files for the data tests: tests/data, made by tests/data/make_fixtures.py.
 * NN_TEST_DATA_DIR is the folder's absolute path, set by tests/CMakeLists.txt. */
#ifndef NN_TEST_FIXTURE_H
#define NN_TEST_FIXTURE_H

#include <stdio.h>

#include "test_util.h"

#ifndef NN_TEST_DATA_DIR
#error "NN_TEST_DATA_DIR must name the tests/data folder"
#endif

/* The path of a fixture (a static buffer: use it before the next call). */
static inline const char *fixture(const char *name)
{
    static char path[1024];
    int n = snprintf(path, sizeof path, "%s/%s", NN_TEST_DATA_DIR, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    return path;
}

/* A fixture's bytes, read with stdio (not with the code under test); free() them. */
static inline uint8_t *fixture_bytes(const char *name, size_t *len)
{
    FILE *f = fopen(fixture(name), "rb");
    assert_non_null(f);
    size_t cap = 1024, n = 0;
    uint8_t *data = malloc(cap);
    assert_non_null(data);
    for (size_t got; (got = fread(data + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap);
            assert_non_null(data);
        }
    }
    fclose(f);
    *len = n;
    return data;
}

#endif /* NN_TEST_FIXTURE_H */
