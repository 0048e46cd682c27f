/* Detail messages: the mistakes a newcomer makes, each held to the facts its message must
 * name (the function, the argument or field, the numbers), not to its exact wording; and
 * the rule that bad data is NN_ERR_DATA, found before any weight changes, while
 * NN_ERR_DIVERGED means training itself went non-finite. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "nn_internal.h"

/* Fails, showing the message, unless msg contains every one of the NULL-ended strings. */
static void expect_mentions_(const char *msg, const char *const *facts)
{
    for (int i = 0; facts[i]; i++)
        if (!strstr(msg, facts[i]))
            fail_msg("message \"%s\" does not mention \"%s\"", msg, facts[i]);
}
#define expect_mentions(msg, ...) expect_mentions_(msg, (const char *const[]){__VA_ARGS__, NULL})

/* 2 inputs, 4 tanh units, then `out_units` of `out_act`. */
static nn_model *small_model(nn_act out_act, int out_units)
{
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = out_units, .act = out_act}};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(2, specs, 2, NULL, &m), NN_OK);
    assert_string_equal(nn_model_errmsg(m), ""); /* nothing has failed yet */
    return m;
}

static float xs[16] = {0, 0, 0, 1, 1, 0, 1, 1, 0.5f, 0.5f, 0.2f, 0.8f, 0.9f, 0.1f, 0.3f, 0.3f};

/* Row 1 of the table: one-hot targets of the wrong width for a softmax output. */
static void test_targets_of_the_wrong_shape(void **state)
{
    (void)state;
    nn_model *m = small_model(NN_ACT_SOFTMAX, 3);
    float y[16] = {0};
    nn_mat X = nn_mat_wrap(xs, 8, 2), Y = nn_mat_wrap(y, 8, 2);
    assert_int_equal(nn_train(m, &X, &Y, NULL), NN_ERR_SHAPE);
    expect_mentions(nn_model_errmsg(m), "nn_train", "Y", "(8, 2)", "(8, 3)", "(8, 1)", "softmax");
    nn_model_destroy(m);
}

/* Row 2: prediction on inputs of the wrong width. */
static void test_predict_with_wrong_columns(void **state)
{
    (void)state;
    nn_model *m = small_model(NN_ACT_SIGMOID, 1);
    float x[9] = {0}, out[3];
    nn_mat X = nn_mat_wrap(x, 3, 3), Out = nn_mat_wrap(out, 3, 1);
    assert_int_equal(nn_predict(m, &X, &Out), NN_ERR_SHAPE);
    expect_mentions(nn_model_errmsg(m), "nn_predict", "X", "3 columns", "2 inputs");
    /* The message stays until the next failure: a call that succeeds leaves it. */
    X = nn_mat_wrap(x, 3, 2);
    assert_int_equal(nn_predict(m, &X, &Out), NN_OK);
    expect_mentions(nn_model_errmsg(m), "nn_predict", "3 columns");
    Out = nn_mat_wrap(out, 1, 3);
    assert_int_equal(nn_predict(m, &X, &Out), NN_ERR_SHAPE);
    expect_mentions(nn_model_errmsg(m), "Out", "(1, 3)", "(3, 1)");
    nn_model_destroy(m);
}

/* Row 3: a NaN or an infinity in X is bad data, named by row and column, and found before any
 * weight changes, by nn_train, nn_evaluate and nn_backward alike. */
static void test_nonfinite_inputs_are_data_errors(void **state)
{
    (void)state;
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        nn_model *m = small_model(NN_ACT_SIGMOID, 1);
        float x[16], y[8] = {0, 1, 1, 0, 1, 0, 1, 0};
        memcpy(x, xs, sizeof x);
        x[5 * 2 + 1] = bad[k]; /* row 5, column 1 */
        nn_mat X = nn_mat_wrap(x, 8, 2), Y = nn_mat_wrap(y, 8, 1);
        float *params;
        size_t P = nn_model_params(m, &params, NULL);
        float before[64];
        assert_true(P <= 64);
        memcpy(before, params, P * sizeof(float));
        nn_train_opts o = nn_train_defaults();
        o.batch_size = 2; /* the bad row would be reached in the third step of an epoch */
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_DATA);
        expect_mentions(nn_model_errmsg(m), "nn_train", "X[5][1]", "must be finite");
        assert_null(strstr(nn_model_errmsg(m), "diverged"));
        assert_memory_equal(before, params, P * sizeof(float));

        assert_int_equal(nn_evaluate(m, &X, &Y, NN_LOSS_AUTO, NULL, NULL), NN_ERR_DATA);
        expect_mentions(nn_model_errmsg(m), "nn_evaluate", "X[5][1]");

        assert_int_equal(nn_forward(m, &X, NULL), NN_OK); /* forward only computes */
        assert_int_equal(nn_backward(m, &Y, NN_LOSS_AUTO, NULL), NN_ERR_DATA);
        expect_mentions(nn_model_errmsg(m), "nn_backward", "[5][1]");

        /* The validation set is data too. */
        x[5 * 2 + 1] = 0.5f;
        float xv[4] = {0, 1, 2, bad[k]}, yv[2] = {0, 1};
        nn_mat Xv = nn_mat_wrap(xv, 2, 2), Yv = nn_mat_wrap(yv, 2, 1);
        o.X_val = &Xv, o.Y_val = &Yv;
        assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_DATA);
        expect_mentions(nn_model_errmsg(m), "opts.X_val[1][1]");
        assert_memory_equal(before, params, P * sizeof(float));
        nn_model_destroy(m);
    }
}

/* Row 4: a NaN target, for BCE and for CE's class indices: bad data, not a bad label. */
static void test_nonfinite_targets_are_data_errors(void **state)
{
    (void)state;
    nn_model *m = small_model(NN_ACT_SIGMOID, 1);
    float y[8] = {0, 1, 1, 0, 1, 0, 1, 0};
    y[6] = NAN;
    nn_mat X = nn_mat_wrap(xs, 8, 2), Y = nn_mat_wrap(y, 8, 1);
    assert_int_equal(nn_train(m, &X, &Y, NULL), NN_ERR_DATA);
    expect_mentions(nn_model_errmsg(m), "nn_train", "Y[6][0]", "must be finite");
    y[6] = 2.0f; /* finite, but no probability */
    assert_int_equal(nn_train(m, &X, &Y, NULL), NN_ERR_LABEL);
    expect_mentions(nn_model_errmsg(m), "Y[6][0]", "2", "[0, 1]");
    nn_model_destroy(m);

    m = small_model(NN_ACT_SOFTMAX, 3);
    float labels[8] = {0, 1, 2, 0, 1, 2, 0, 1};
    labels[3] = 3.0f;
    Y = nn_mat_wrap(labels, 8, 1);
    assert_int_equal(nn_evaluate(m, &X, &Y, NN_LOSS_AUTO, NULL, NULL), NN_ERR_LABEL);
    expect_mentions(nn_model_errmsg(m), "nn_evaluate", "Y[3][0]", "3", "0 .. 2");
    nn_model_destroy(m);
}

/* Row 5: options and specs, each failure naming its field and value. */
static void test_bad_options_name_their_field(void **state)
{
    (void)state;
    nn_model *m = small_model(NN_ACT_SIGMOID, 1);
    float y[8] = {0, 1, 1, 0, 1, 0, 1, 0};
    nn_mat X = nn_mat_wrap(xs, 8, 2), Y = nn_mat_wrap(y, 8, 1);
    nn_train_opts o = nn_train_defaults();
    o.val_split = 0.05f; /* 0.4 of a row */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    expect_mentions(nn_model_errmsg(m), "nn_train", "val_split", "0.05", "8 rows");

    o = nn_train_defaults();
    o.patience = 3;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    expect_mentions(nn_model_errmsg(m), "opts.patience", "3", "validation");

    o = nn_train_defaults();
    o.optim = (nn_optim_opts){.kind = NN_OPT_ADAM, .momentum = 0.9f};
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    expect_mentions(nn_model_errmsg(m), "opts.optim.momentum", "0.9", "Adam");

    o = nn_train_defaults();
    o.learning_rate = -1.0f;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_INVALID_ARG);
    expect_mentions(nn_model_errmsg(m), "opts.learning_rate", "-1");

    o = nn_train_defaults();
    o.loss = NN_LOSS_CE; /* a sigmoid output */
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_LOSS_ACT);
    expect_mentions(nn_model_errmsg(m), "cross-entropy", "softmax", "sigmoid");
    nn_model_destroy(m);

    nn_error err;
    nn_model_opts mo = {.error = &err};
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 0}};
    assert_int_equal(nn_model_create(2, specs, 2, &mo, &m), NN_ERR_INVALID_ARG);
    assert_int_equal(err.status, NN_ERR_INVALID_ARG);
    expect_mentions(err.message, "nn_model_create", "layers[1].units", "0");
    specs[1] = (nn_layer_spec){.units = 1, .act = (nn_act)42};
    assert_int_equal(nn_model_create(2, specs, 2, &mo, &m), NN_ERR_INVALID_ARG);
    expect_mentions(err.message, "layers[1].act", "42");
    specs[1].act = NN_ACT_SIGMOID;
    specs[1].dropout = 0.5f;
    assert_int_equal(nn_model_create(2, specs, 2, &mo, &m), NN_ERR_INVALID_ARG);
    expect_mentions(err.message, "layers[1].dropout", "last layer");
    mo.threads = 1000;
    specs[1].dropout = 0.0f;
    assert_int_equal(nn_model_create(2, specs, 2, &mo, &m), NN_ERR_INVALID_ARG);
    expect_mentions(err.message, "threads", "1000");
    mo.threads = 0;
    assert_int_equal(nn_model_create(2, specs, 2, &mo, &m), NN_OK);
    assert_int_equal(err.status, NN_OK);
    assert_string_equal(err.message, ""); /* written on every return */
    nn_model_destroy(m);
}

/* Row 6: files, with the path and the C library's reason. */
static void test_file_errors_name_path_and_reason(void **state)
{
    (void)state;
    const char *missing = "/nonexistent-dir/model.nn";
    nn_error err;
    nn_model_opts mo = {.error = &err};
    nn_model *m = NULL;
    assert_int_equal(nn_model_load(missing, &mo, &m), NN_ERR_IO);
    assert_null(m);
    expect_mentions(err.message, "nn_model_load", missing, strerror(ENOENT));

    assert_int_equal(nn_model_load(NN_TEST_DATA_DIR, &mo, &m), NN_ERR_IO); /* a folder */
    expect_mentions(err.message, NN_TEST_DATA_DIR, "not a regular file");

    assert_int_equal(nn_model_load(fixture("images-u8.idx"), &mo, &m), NN_ERR_FORMAT);
    expect_mentions(err.message, "images-u8.idx", "not a libnn model");

    m = small_model(NN_ACT_SIGMOID, 1);
    assert_int_equal(nn_model_save(m, missing), NN_ERR_IO);
    expect_mentions(nn_model_errmsg(m), "nn_model_save", missing, strerror(ENOENT));
    assert_int_equal(nn_model_export_onnx(m, missing), NN_ERR_IO);
    expect_mentions(nn_model_errmsg(m), "nn_model_export_onnx", missing);
    nn_model_destroy(m);

    nn_mat M;
    assert_int_equal(nn_idx_load("/nonexistent-dir/x.idx", NULL, &M, &err), NN_ERR_IO);
    assert_int_equal(err.status, NN_ERR_IO);
    expect_mentions(err.message, "nn_idx_load", "/nonexistent-dir/x.idx", strerror(ENOENT));
    assert_int_equal(nn_idx_load(fixture("bad-crc.idx.gz"), NULL, &M, &err), NN_ERR_FORMAT);
    expect_mentions(err.message, "bad-crc.idx.gz", "CRC");

    nn_csv_error ce;
    assert_int_equal(nn_csv_load("/nonexistent-dir/x.csv", NULL, &M, NULL, &ce), NN_ERR_IO);
    expect_mentions(ce.message, "nn_csv_load", "/nonexistent-dir/x.csv", strerror(ENOENT));
}

/* A CSV cell that is no number: the place and the text. */
static void test_csv_message_names_the_cell(void **state)
{
    (void)state;
    const char *text = "1,2,3\n4,x5,6\n";
    nn_mat X, Y;
    nn_csv_error ce;
    assert_int_equal(nn__csv_parse(text, strlen(text), NULL, &X, &Y, &ce), NN_ERR_FORMAT);
    assert_int_equal(ce.line, 2);
    assert_int_equal(ce.column, 2);
    expect_mentions(ce.message, "line 2", "field 2", "x5");
    const int cols[] = {7};
    nn_csv_opts opts = {.n_targets = 1, .target_cols = cols};
    text = "1,2,3\n";
    assert_int_equal(nn__csv_parse(text, strlen(text), &opts, &X, &Y, &ce), NN_ERR_SHAPE);
    expect_mentions(ce.message, "target_cols[0]", "7", "0 .. 2");
}

/* The step's own failures: divergence, backward without forward, a changed optimizer. */
static void test_state_and_divergence_messages(void **state)
{
    (void)state;
    nn_layer_spec spec = {.units = 1, .act = NN_ACT_LINEAR};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(1, &spec, 1, NULL, &m), NN_OK);
    float x[] = {1, 2, 3, 4}, y[] = {1e3f, 2e3f, 3e3f, 4e3f};
    nn_mat X = nn_mat_wrap(x, 4, 1), Y = nn_mat_wrap(y, 4, 1);
    assert_int_equal(nn_backward(m, &Y, NN_LOSS_MSE, NULL), NN_ERR_STATE);
    expect_mentions(nn_model_errmsg(m), "nn_backward", "nn_forward");

    nn_train_opts o = nn_train_defaults();
    o.epochs = 1000;
    o.batch_size = 4;
    o.learning_rate = 1.0f;
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_ERR_DIVERGED);
    expect_mentions(nn_model_errmsg(m), "nn_train", "epoch", "learning_rate", "1");

    float *params;
    size_t P = nn_model_params(m, &params, NULL);
    memset(params, 0, P * sizeof(float)); /* away from the edge of divergence */
    o.learning_rate = 1e-6f;
    o.epochs = 1;
    o.optim = (nn_optim_opts){.kind = NN_OPT_ADAM};
    assert_int_equal(nn_train(m, &X, &Y, &o), NN_OK);
    nn_optim_opts sgd = {.kind = NN_OPT_SGD, .momentum = 0.9f};
    assert_int_equal(nn_optim_step(m, &sgd, 0.1f), NN_ERR_INVALID_ARG);
    expect_mentions(nn_model_errmsg(m), "nn_optim_step", "Adam", "SGD", "nn_optim_reset");

    nn_layer_view view;
    assert_int_equal(nn_model_layer(m, 3, &view), NN_ERR_INVALID_ARG);
    expect_mentions(nn_model_errmsg(m), "layer is 3", "0 .. 0");
    const void *value;
    size_t size;
    assert_int_equal(nn_model_get_meta(m, "absent", &value, &size), NN_ERR_NOT_FOUND);
    expect_mentions(nn_model_errmsg(m), "nn_model_get_meta", "absent");
    nn_model_destroy(m);
}

/* Out of memory says what could not be had. */
static void test_out_of_memory_message(void **state)
{
    (void)state;
    counting_alloc counter = {.fail_at = 1};
    nn_error err;
    nn_model_opts mo = {.alloc = counting_alloc_fn, .alloc_user = &counter, .error = &err};
    nn_layer_spec specs[] = {{.units = 4, .act = NN_ACT_TANH}, {.units = 1, .act = NN_ACT_SIGMOID}};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(2, specs, 2, &mo, &m), NN_ERR_NOMEM);
    expect_mentions(err.message, "nn_model_create", "allocator");
    assert_null(m);
}

/* Every status has a message of its own, NN_ERR_DATA included. */
static void test_data_status_message(void **state)
{
    (void)state;
    assert_int_equal(NN_ERR_DATA, 12);
    expect_mentions(nn_status_message(NN_ERR_DATA), "not finite");
    assert_string_not_equal(nn_status_message(NN_ERR_DATA), nn_status_message(NN_ERR_DIVERGED));
    expect_mentions(nn_model_errmsg(NULL), "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets_of_the_wrong_shape),
        cmocka_unit_test(test_predict_with_wrong_columns),
        cmocka_unit_test(test_nonfinite_inputs_are_data_errors),
        cmocka_unit_test(test_nonfinite_targets_are_data_errors),
        cmocka_unit_test(test_bad_options_name_their_field),
        cmocka_unit_test(test_file_errors_name_path_and_reason),
        cmocka_unit_test(test_csv_message_names_the_cell),
        cmocka_unit_test(test_state_and_divergence_messages),
        cmocka_unit_test(test_out_of_memory_message),
        cmocka_unit_test(test_data_status_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
