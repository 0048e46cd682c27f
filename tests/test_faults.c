/* Fault injection in SQLite's way: every allocation and every I/O call that a public function
 * makes is made to fail, at each point k in two modes:
 *   ONCE     the k-th call fails, later ones succeed (a transient shortage);
 *   FOREVER  the k-th call and every later one fail (memory or the disk is gone).
 * After each failure the call must return its status (NN_ERR_NOMEM, NN_ERR_IO), leave what
 * the caller owns as it was (parameters bit for bit, outputs untouched, the file at the
 * target path byte for byte, no temporary file left), leak nothing, and work when called
 * again without faults.
 *
 * The seam is the linker, not the library: this program is linked with -Wl,--wrap for the C
 * library's allocation and stdio functions (tests/CMakeLists.txt), so that every call libnn's
 * objects make to malloc, fopen, fwrite... reaches a __wrap_ function below, which counts it
 * and fails it when the plan says so. libnn reads no global and has no test hook. Models use
 * the default allocator here, which is realloc and free: the same wrappers see it. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fileno */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "test_util.h"

/* ------------------------------------------------------------ the plan */

typedef enum fault_mode { COUNT, ONCE, FOREVER } fault_mode;

/* Which call of a kind fails. calls counts every call made while a plan is armed. */
typedef struct fault_plan {
    fault_mode mode;
    long at;           /* 1-based; ONCE and FOREVER only */
    atomic_long calls; /* the worker threads may allocate too */
    atomic_bool armed;
} fault_plan;

static fault_plan alloc_plan, io_plan;
static atomic_long live_blocks; /* blocks from malloc, calloc, realloc(NULL) not yet freed */

static bool injected(fault_plan *p)
{
    if (!atomic_load(&p->armed))
        return false;
    long n = atomic_fetch_add(&p->calls, 1) + 1;
    return p->mode == ONCE ? n == p->at : p->mode == FOREVER && n >= p->at;
}

static void arm(fault_plan *p, fault_mode mode, long at)
{
    p->mode = mode, p->at = at;
    atomic_store(&p->calls, 0);
    atomic_store(&p->armed, true);
}

static long disarm(fault_plan *p)
{
    atomic_store(&p->armed, false);
    return atomic_load(&p->calls);
}

/* ------------------------------------------------ allocation wrappers */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);

void *__wrap_malloc(size_t size)
{
    void *p = injected(&alloc_plan) ? NULL : __real_malloc(size);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = injected(&alloc_plan) ? NULL : __real_calloc(n, size);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *__wrap_realloc(void *ptr, size_t size)
{
    if (injected(&alloc_plan))
        return NULL; /* ptr stays the caller's, as realloc leaves it */
    void *p = __real_realloc(ptr, size);
    if (p && !ptr)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

void __wrap_free(void *ptr)
{
    if (ptr)
        atomic_fetch_sub(&live_blocks, 1);
    __real_free(ptr);
}

/* ------------------------------------------------------- I/O wrappers */

/* A failed stdio call must leave the stream in error (ferror), as a real one does, because
 * writers may check ferror once at the end. There is no call that sets the flag, but every C
 * library sets it on a read from a write-only stream and a write to a read-only one. */
enum { MAX_STREAMS = 16 };
static struct {
    FILE *f;
    bool writing;
} streams[MAX_STREAMS];

int __real_fputc(int c, FILE *f);

static void put_in_error(FILE *f, int err)
{
    bool writing = true;
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i].f == f)
            writing = streams[i].writing;
    if (writing)
        (void)fgetc(f);
    else
        (void)__real_fputc(0, f);
    errno = err;
}

FILE *__real_fopen(const char *path, const char *mode);
size_t __real_fwrite(const void *p, size_t size, size_t n, FILE *f);
size_t __real_fread(void *p, size_t size, size_t n, FILE *f);
int __real_fputs(const char *s, FILE *f);
int __real_fflush(FILE *f);
int __real_fclose(FILE *f);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
FILE *__wrap_fopen(const char *path, const char *mode);
size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f);
size_t __wrap_fread(void *p, size_t size, size_t n, FILE *f);
size_t __wrap___fread_chk(void *p, size_t room, size_t size, size_t n, FILE *f);
int __wrap_fputs(const char *s, FILE *f);
int __wrap_fputc(int c, FILE *f);
int __wrap_fprintf(FILE *f, const char *format, ...);
int __wrap___fprintf_chk(FILE *f, int flag, const char *format, ...);
int __wrap_fflush(FILE *f);
int __wrap_fclose(FILE *f);
int __wrap_fsync(int fd);
int __wrap_rename(const char *from, const char *to);

FILE *__wrap_fopen(const char *path, const char *mode)
{
    if (injected(&io_plan)) {
        errno = EIO;
        return NULL;
    }
    FILE *f = __real_fopen(path, mode);
    for (int i = 0; f && i < MAX_STREAMS; i++)
        if (!streams[i].f) {
            streams[i].f = f;
            streams[i].writing = mode[0] != 'r';
            break;
        }
    return f;
}

size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    if (injected(&io_plan)) {
        put_in_error(f, ENOSPC);
        return 0;
    }
    return __real_fwrite(p, size, n, f);
}

size_t __wrap_fread(void *p, size_t size, size_t n, FILE *f)
{
    if (injected(&io_plan)) {
        put_in_error(f, EIO);
        return 0;
    }
    return __real_fread(p, size, n, f);
}

/* _FORTIFY_SOURCE (Ubuntu's default) turns fread and fprintf into these. */
size_t __wrap___fread_chk(void *p, size_t room, size_t size, size_t n, FILE *f)
{
    (void)room;
    return __wrap_fread(p, size, n, f);
}

int __wrap_fputs(const char *s, FILE *f)
{
    if (injected(&io_plan)) {
        put_in_error(f, ENOSPC);
        return EOF;
    }
    return __real_fputs(s, f);
}

int __wrap_fputc(int c, FILE *f)
{
    if (injected(&io_plan)) {
        put_in_error(f, ENOSPC);
        return EOF;
    }
    return __real_fputc(c, f);
}

static int injected_vfprintf(FILE *f, const char *format, va_list args)
{
    if (injected(&io_plan)) {
        put_in_error(f, ENOSPC);
        return -1;
    }
    return vfprintf(f, format, args);
}

int __wrap_fprintf(FILE *f, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = injected_vfprintf(f, format, args);
    va_end(args);
    return n;
}

int __wrap___fprintf_chk(FILE *f, int flag, const char *format, ...)
{
    (void)flag;
    va_list args;
    va_start(args, format);
    int n = injected_vfprintf(f, format, args);
    va_end(args);
    return n;
}

int __wrap_fflush(FILE *f)
{
    if (injected(&io_plan)) {
        put_in_error(f, EIO);
        return EOF;
    }
    return __real_fflush(f);
}

int __wrap_fclose(FILE *f)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i].f == f)
            streams[i].f = NULL;
    bool fail = injected(&io_plan);
    int r = __real_fclose(f); /* closed even when it fails, as fclose does */
    if (fail) {
        errno = EIO;
        return EOF;
    }
    return r;
}

int __wrap_fsync(int fd)
{
    if (injected(&io_plan)) {
        errno = EIO;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    if (injected(&io_plan)) {
        errno = EIO;
        return -1;
    }
    return __real_rename(from, to);
}

/* ------------------------------------------------------------ fixtures */

enum { ROWS = 16, IN = 3, OUT = 3, MAX_BYTES = 1 << 20 };

/* What a scenario works on: a model and data, files in a directory of its own, and copies
 * taken before the call that the checks compare with. */
typedef struct fixture {
    nn_model *model;
    nn_quant *quant;
    float x[ROWS * IN], y[ROWS], out[ROWS * OUT];
    nn_mat X, Y, Out;
    nn_mat loaded, loaded_y; /* what a reader's call gives */
    char dir[64], path[128], header[128], input[256];
    float params_before[64];
    size_t n_params;
    unsigned char *file_before; /* the target's bytes before, or NULL if it did not exist */
    long file_before_len;
} fixture;

static nn_model *make_model(int threads, float dropout)
{
    nn_layer_spec specs[] = {{.units = 6, .act = NN_ACT_TANH, .dropout = dropout},
                             {.units = OUT, .act = NN_ACT_SOFTMAX}};
    nn_model_opts opts = {.seed = 3, .threads = threads};
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(IN, specs, 2, &opts, &m), NN_OK);
    return m;
}

static void make_data(fixture *f)
{
    f->X = nn_mat_wrap(f->x, ROWS, IN);
    f->Y = nn_mat_wrap(f->y, ROWS, 1);
    f->Out = nn_mat_wrap(f->out, ROWS, OUT);
    fill_uniform(&f->X, -1.0f, 1.0f, 11);
    for (int r = 0; r < ROWS; r++)
        f->y[r] = (float)(r % OUT);
}

static long read_bytes(const char *path, unsigned char **bytes)
{
    FILE *in = fopen(path, "rb");
    *bytes = NULL;
    if (!in)
        return -1;
    *bytes = malloc(MAX_BYTES);
    assert_non_null(*bytes);
    long n = (long)fread(*bytes, 1, MAX_BYTES, in);
    fclose(in);
    return n;
}

static void snapshot(fixture *f)
{
    if (f->model) {
        float *p;
        f->n_params = nn_model_params(f->model, &p, NULL);
        assert_true(f->n_params <= sizeof f->params_before / sizeof(float));
        memcpy(f->params_before, p, f->n_params * sizeof(float));
    }
    if (f->path[0])
        f->file_before_len = read_bytes(f->path, &f->file_before);
}

/* Every function here: the parameters, the target file and the directory are as they were
 * before the failed call. */
static void assert_unchanged(const fixture *f, const char *what)
{
    if (f->model) {
        float *p;
        nn_model_params(f->model, &p, NULL);
        if (memcmp(p, f->params_before, f->n_params * sizeof(float)) != 0)
            fail_msg("%s: the parameters changed", what);
    }
    if (f->path[0]) {
        unsigned char *now;
        long n = read_bytes(f->path, &now);
        bool same = n == f->file_before_len &&
                    (n < 0 || memcmp(now, f->file_before, (size_t)n) == 0);
        free(now);
        if (!same)
            fail_msg("%s: %s is not as it was (%ld bytes, before %ld)", what, f->path, n,
                     f->file_before_len);
        DIR *d = opendir(f->dir);
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));)
            if (strstr(e->d_name, ".tmp"))
                fail_msg("%s: a temporary file is left: %s", what, e->d_name);
        closedir(d);
    }
    if (f->loaded.data || f->loaded_y.data)
        fail_msg("%s: a failed load gave a matrix", what);
}

static void new_dir(fixture *f)
{
    /* In memory where there is a tmpfs: thousands of saves, each synced to the disk. */
    bool shm = access("/dev/shm", W_OK) == 0;
    snprintf(f->dir, sizeof f->dir, "%s/nn-faults.XXXXXX", shm ? "/dev/shm" : "/tmp");
    assert_non_null(mkdtemp(f->dir));
}

static void remove_dir(fixture *f)
{
    if (!f->dir[0])
        return;
    DIR *d = opendir(f->dir);
    char name[400];
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') {
            snprintf(name, sizeof name, "%s/%s", f->dir, e->d_name);
            remove(name);
        }
    if (d)
        closedir(d);
    rmdir(f->dir);
}

static void teardown(fixture *f)
{
    nn_quant_destroy(f->quant);
    nn_model_destroy(f->model);
    nn_mat_free(&f->loaded);
    nn_mat_free(&f->loaded_y);
    free(f->file_before);
    remove_dir(f);
}

/* --------------------------------------------------------------- scenarios */

typedef struct scenario {
    const char *name;
    void (*setup)(fixture *f); /* what the call needs, built without faults */
    nn_status (*call)(fixture *f);
    bool again; /* the call may be repeated on the same fixture after a failure */
} scenario;

static void setup_model(fixture *f)
{
    make_data(f);
    f->model = make_model(1, 0.0f);
}

static void setup_two_threads(fixture *f)
{
    make_data(f);
    f->model = make_model(2, 0.25f);
}

static void setup_stepped(fixture *f)
{
    setup_model(f);
    assert_int_equal(nn_forward(f->model, &f->X, NULL), NN_OK);
    assert_int_equal(nn_backward(f->model, &f->Y, NN_LOSS_CE, NULL), NN_OK);
}

static void setup_file(fixture *f, const char *name, bool existing)
{
    setup_model(f);
    new_dir(f);
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    snprintf(f->header, sizeof f->header, "%s/model.h", f->dir);
    if (existing) { /* an older file at the path, which a failed write must keep */
        FILE *old = fopen(f->path, "wb");
        assert_non_null(old);
        fputs("the old file\n", old);
        fclose(old);
    }
}

static void setup_new_file(fixture *f) { setup_file(f, "model.nnm", false); }
static void setup_old_file(fixture *f) { setup_file(f, "model.nnm", true); }
static void setup_onnx(fixture *f) { setup_file(f, "model.onnx", true); }
static void setup_c_file(fixture *f) { setup_file(f, "model.c", true); }

/* A model file and a checkpoint to read back: f->input, and no target path to guard. */
static void setup_saved(fixture *f, bool checkpoint)
{
    setup_file(f, "saved.nnm", false);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 1, o.batch_size = 4, o.optim.kind = NN_OPT_ADAM;
    assert_int_equal(nn_train(f->model, &f->X, &f->Y, &o), NN_OK);
    assert_int_equal(nn_model_set_meta(f->model, "name", "faults", 7), NN_OK);
    assert_int_equal((checkpoint ? nn_model_save_checkpoint : nn_model_save)(f->model, f->path),
                     NN_OK);
    snprintf(f->input, sizeof f->input, "%s", f->path);
    f->path[0] = '\0';
    nn_model_destroy(f->model);
    f->model = NULL;
}

static void setup_model_file(fixture *f) { setup_saved(f, false); }
static void setup_checkpoint(fixture *f) { setup_saved(f, true); }

static void setup_data_file(fixture *f, const char *name)
{
    snprintf(f->input, sizeof f->input, "%s/%s", NN_TEST_DATA_DIR, name);
}

static void setup_csv(fixture *f) { setup_data_file(f, "header-crlf.csv.gz"); }
static void setup_idx(fixture *f) { setup_data_file(f, "images-u8.idx"); }
static void setup_idx_gz(fixture *f) { setup_data_file(f, "images-u8.idx.gz"); }

static void setup_quantized(fixture *f)
{
    setup_model(f);
    assert_int_equal(nn_quantize(f->model, &f->X, NULL, &f->quant), NN_OK);
}

static nn_status call_create(fixture *f)
{
    nn_layer_spec specs[] = {{.units = 6, .act = NN_ACT_RELU}, {.units = 2, .act = NN_ACT_SIGMOID}};
    nn_model *m = NULL;
    nn_status s = nn_model_create(IN, specs, 2, &(nn_model_opts){.threads = 2}, &m);
    if (s == NN_OK)
        nn_model_destroy(m);
    else if (m)
        fail_msg("nn_model_create failed and gave a model");
    (void)f;
    return s;
}

static nn_status call_forward(fixture *f) { return nn_forward(f->model, &f->X, NULL); }
static nn_status call_predict(fixture *f) { return nn_predict(f->model, &f->X, &f->Out); }

static nn_status call_evaluate(fixture *f)
{
    double loss, accuracy;
    return nn_evaluate(f->model, &f->X, &f->Y, NN_LOSS_AUTO, &loss, &accuracy);
}

static nn_status call_train_sgd(fixture *f)
{
    nn_train_opts o = nn_train_defaults();
    o.epochs = 2, o.batch_size = 4, o.learning_rate = 0.1f;
    return nn_train(f->model, &f->X, &f->Y, &o);
}

/* Everything nn_train can allocate for: Adam's state, a validation split and the best
 * epoch's weights (patience), dropout masks, class weights, two threads. */
static nn_status call_train_full(fixture *f)
{
    static const float weights[OUT] = {1.0f, 2.0f, 0.5f};
    nn_train_opts o = nn_train_defaults();
    o.epochs = 3, o.batch_size = 4, o.optim.kind = NN_OPT_ADAM;
    o.val_split = 0.25f, o.patience = 2;
    o.class_weights = weights, o.n_class_weights = OUT;
    return nn_train(f->model, &f->X, &f->Y, &o);
}

static nn_status call_optim_adam(fixture *f)
{
    return nn_optim_step(f->model, &(nn_optim_opts){.kind = NN_OPT_ADAM}, 0.01f);
}

static nn_status call_grad_check(fixture *f)
{
    nn_grad_check_result r;
    nn_status s = nn_grad_check(f->model, &f->X, &f->Y, NN_LOSS_CE, NULL, &r);
    if (s == NN_OK && !r.passed)
        fail_msg("nn_grad_check: the gradient failed its check");
    return s;
}

static nn_status call_set_meta(fixture *f)
{
    nn_status s = nn_model_set_meta(f->model, "trained on", "16 rows", 8);
    if (s == NN_OK)
        s = nn_model_set_meta(f->model, "trained on", "16 rows, twice", 15); /* replaced */
    return s;
}

static nn_status call_load(fixture *f)
{
    nn_model *m = NULL;
    nn_error e;
    nn_status s = nn_model_load(f->input, &(nn_model_opts){.error = &e}, &m);
    if (s != NN_OK && (m || !e.message[0]))
        fail_msg("nn_model_load failed with a model or without a message (\"%s\")", e.message);
    nn_model_destroy(m);
    return s;
}

static nn_status call_save(fixture *f) { return nn_model_save(f->model, f->path); }

static nn_status call_checkpoint(fixture *f)
{
    return nn_model_save_checkpoint(f->model, f->path);
}

static nn_status call_onnx(fixture *f) { return nn_model_export_onnx(f->model, f->path); }

static nn_status call_export_c(fixture *f)
{
    nn_mat rows = nn_mat_wrap(f->x, 4, IN);
    nn_export_c_opts o = {.selftest = &rows, .header_path = f->header};
    return nn_model_export_c(f->model, f->path, &o, NULL);
}

static nn_status call_quantize(fixture *f)
{
    nn_quant *q = NULL;
    nn_status s = nn_quantize(f->model, &f->X, NULL, &q);
    nn_quant_destroy(q);
    return s;
}

static nn_status call_quant_predict(fixture *f) { return nn_quant_predict(f->quant, &f->X, &f->Out); }

static nn_status call_quant_evaluate(fixture *f)
{
    nn_quant_report r;
    return nn_quant_evaluate(f->model, f->quant, &f->X, &f->Y, &r);
}

static nn_status call_summary(fixture *f)
{
    char text[1024];
    return nn_model_summary(f->model, text, sizeof text, NULL);
}

static nn_status call_backward(fixture *f)
{
    nn_status s = nn_forward(f->model, &f->X, NULL);
    return s == NN_OK ? nn_backward(f->model, &f->Y, NN_LOSS_CE, NULL) : s;
}

static nn_status call_mat_alloc(fixture *f) { return nn_mat_alloc(&f->loaded, 300, 7); }

static nn_status call_csv(fixture *f)
{
    nn_csv_error e;
    nn_status s = nn_csv_load(f->input, &(nn_csv_opts){.header = true}, &f->loaded,
                              &f->loaded_y, &e);
    if (s != NN_OK && !e.message[0])
        fail_msg("nn_csv_load failed without a message");
    return s;
}

static nn_status call_idx(fixture *f)
{
    nn_error e;
    nn_status s = nn_idx_load(f->input, NULL, &f->loaded, &e);
    if (s != NN_OK && !e.message[0])
        fail_msg("nn_idx_load failed without a message");
    return s;
}

/* ---------------------------------------------------------------- the driver */

typedef struct tally {
    long points; /* failure points tried, both modes */
    long calls;  /* faultable calls, summed over the scenarios */
} tally;

/* Runs s once counting plan's calls, then fails each of them in both modes. */
static void run_faults(const scenario *s, fault_plan *plan, nn_status expect, tally *t)
{
    long live = atomic_load(&live_blocks);
    fixture f = {0};
    s->setup(&f);
    arm(plan, COUNT, 0);
    nn_status st = s->call(&f);
    long n = disarm(plan);
    if (st != NN_OK)
        fail_msg("%s: %s without faults", s->name, nn_status_message(st));
    teardown(&f);
    t->calls += n;
    static const char *mode_name[] = {"count", "once", "forever"};
    for (fault_mode mode = ONCE; mode <= FOREVER; mode++)
        for (long k = 1; k <= n; k++) {
            long live_before = atomic_load(&live_blocks);
            memset(&f, 0, sizeof f);
            s->setup(&f);
            snapshot(&f);
            arm(plan, mode, k);
            st = s->call(&f);
            disarm(plan);
            char what[160];
            snprintf(what, sizeof what, "%s, call %ld of %ld failing %s", s->name, k, n,
                     mode_name[mode]);
            if (st != expect)
                fail_msg("%s: returned \"%s\", not \"%s\"", what, nn_status_message(st),
                         nn_status_message(expect));
            assert_unchanged(&f, what);
            if (s->again && (st = s->call(&f)) != NN_OK)
                fail_msg("%s: called again without faults: %s", what, nn_status_message(st));
            teardown(&f); /* a model may keep what it grew before the failure, until then */
            if (atomic_load(&live_blocks) != live_before)
                fail_msg("%s: %ld blocks leaked", what, atomic_load(&live_blocks) - live_before);
            t->points++;
        }
    if (atomic_load(&live_blocks) != live)
        fail_msg("%s: %ld blocks leaked", s->name, atomic_load(&live_blocks) - live);
}

static const scenario allocating[] = {
    {"nn_model_create (2 threads)", NULL, call_create, false},
    {"nn_forward (first)", setup_model, call_forward, true},
    {"nn_predict (first)", setup_model, call_predict, true},
    {"nn_evaluate (first)", setup_model, call_evaluate, true},
    {"nn_train (SGD)", setup_model, call_train_sgd, true},
    {"nn_train (Adam, validation, patience, class weights, dropout, 2 threads)",
     setup_two_threads, call_train_full, true},
    {"nn_optim_step (Adam, first)", setup_stepped, call_optim_adam, true},
    {"nn_grad_check", setup_stepped, call_grad_check, true},
    {"nn_model_set_meta (new, then replaced)", setup_model, call_set_meta, true},
    {"nn_model_load (model file)", setup_model_file, call_load, true},
    {"nn_model_load (checkpoint)", setup_checkpoint, call_load, true},
    {"nn_quantize", setup_model, call_quantize, true},
    {"nn_quant_predict", setup_quantized, call_quant_predict, true},
    {"nn_model_export_c (self-test, header)", setup_c_file, call_export_c, true},
    {"nn_quant_evaluate", setup_quantized, call_quant_evaluate, true},
    {"nn_backward", setup_model, call_backward, true},
    {"nn_mat_alloc", setup_model, call_mat_alloc, false},
    {"nn_csv_load (gzip)", setup_csv, call_csv, false},
    {"nn_idx_load", setup_idx, call_idx, false},
    {"nn_idx_load (gzip)", setup_idx_gz, call_idx, false},
};

static void setup_nothing(fixture *f) { (void)f; }

/* Every allocation of every allocating entry point, failed once and for ever. */
static void test_allocation_faults(void **state)
{
    (void)state;
    tally t = {0};
    for (size_t i = 0; i < sizeof allocating / sizeof allocating[0]; i++) {
        scenario s = allocating[i];
        if (!s.setup)
            s.setup = setup_nothing;
        long before = t.calls;
        run_faults(&s, &alloc_plan, NN_ERR_NOMEM, &t);
        if (t.calls == before)
            fail_msg("%s allocated nothing: the scenario tests no failure", s.name);
    }
    print_message("allocation: %zu entry points, %ld allocations, %ld failure points "
                  "(once and for ever), 0 leaks\n",
                  sizeof allocating / sizeof allocating[0], t.calls, t.points);
}

/* Writing allocates nothing (the temporary name is on the stack), nor does the summary: a
 * full memory cannot fail them. */
static void test_writers_allocate_nothing(void **state)
{
    (void)state;
    static const scenario writers[] = {
        {"nn_model_summary", setup_model, call_summary, true},
        {"nn_model_save", setup_old_file, call_save, true},
        {"nn_model_save_checkpoint", setup_old_file, call_checkpoint, true},
        {"nn_model_export_onnx", setup_onnx, call_onnx, true},
    };
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        fixture f = {0};
        writers[i].setup(&f);
        arm(&alloc_plan, COUNT, 0);
        assert_int_equal(writers[i].call(&f), NN_OK);
        long n = disarm(&alloc_plan);
        if (n != 0)
            fail_msg("%s made %ld allocations", writers[i].name, n);
        teardown(&f);
    }
}

/* A size no machine has is refused before any allocation is tried. */
static void test_absurd_sizes_refused_without_allocating(void **state)
{
    (void)state;
    static const int sizes[][2] = {{INT_MAX, INT_MAX}, {INT_MAX, INT_MAX / 2 + 2}, {INT_MAX / 2 + 2, INT_MAX}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        nn_mat m = {0};
        arm(&alloc_plan, COUNT, 0);
        assert_int_equal(nn_mat_alloc(&m, sizes[i][0], sizes[i][1]), NN_ERR_NOMEM);
        assert_int_equal(disarm(&alloc_plan), 0);
        assert_null(m.data);
    }
}

/* The readers given an allocator take every block from it, the C library's none; each of
 * its allocations failed once and for ever is NN_ERR_NOMEM with nothing left allocated. */
static void test_readers_use_the_callers_allocator(void **state)
{
    (void)state;
    static const char *files[] = {"header-crlf.csv.gz", "semicolon.csv", "images-u8.idx",
                                  "images-u8.idx.gz", "labels-u8.idx"};
    long points = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", NN_TEST_DATA_DIR, files[i]);
        bool csv = strstr(files[i], ".csv") != NULL;
        long n = 0;
        for (long k = 0; k == 0 || k <= 2 * n; k++) {
            counting_alloc c = {.fail_at = k > n ? k - n : k, .forever = k > n};
            if (k == 0)
                c.fail_at = 0;
            nn_mat X = {0}, Y = {0};
            nn_status s;
            arm(&alloc_plan, COUNT, 0);
            if (csv) {
                nn_csv_opts o = {.header = strstr(files[i], "header") != NULL,
                                 .delimiter = strstr(files[i], "semicolon") ? ';' : 0,
                                 .alloc = counting_alloc_fn, .alloc_user = &c};
                s = nn_csv_load(path, &o, &X, &Y, NULL);
            } else {
                nn_idx_opts o = {.alloc = counting_alloc_fn, .alloc_user = &c};
                s = nn_idx_load(path, &o, &X, NULL);
            }
            /* counting_alloc_fn's own realloc calls are the only ones the wrapper may see */
            long libc_calls = disarm(&alloc_plan);
            if (libc_calls > c.calls || (k == 0 && libc_calls != c.calls))
                fail_msg("%s: %ld calls to the C library's allocator, %ld through opts.alloc",
                         files[i], libc_calls, c.calls);
            if (k == 0) {
                assert_int_equal(s, NN_OK);
                n = c.calls;
                assert_true(n > 0);
                assert_int_equal(c.live_blocks, csv ? 2 : 1); /* the matrices, nothing else */
            } else {
                if (s != NN_ERR_NOMEM)
                    fail_msg("%s: allocation %ld of %ld failing %s: %s", files[i], c.fail_at, n,
                             c.forever ? "for ever" : "once", nn_status_message(s));
                assert_null(X.data);
                assert_null(Y.data);
                points++;
            }
            nn_mat_free_with(&X, counting_alloc_fn, &c);
            nn_mat_free_with(&Y, counting_alloc_fn, &c);
            assert_int_equal(c.live_blocks, 0);
            assert_int_equal(c.live_bytes, 0);
        }
    }
    print_message("readers with an allocator: %ld failure points, 0 leaks\n", points);
}

/* Every I/O call of every writer and reader, failed once and for ever: NN_ERR_IO, the old
 * file (or none) at the path, no temporary file. */
static void test_io_faults(void **state)
{
    (void)state;
    static const scenario io[] = {
        {"nn_model_save (new file)", setup_new_file, call_save, true},
        {"nn_model_save (over a file)", setup_old_file, call_save, true},
        {"nn_model_save_checkpoint", setup_old_file, call_checkpoint, true},
        {"nn_model_export_onnx", setup_onnx, call_onnx, true},
        {"nn_model_export_c (self-test, header)", setup_c_file, call_export_c, true},
        {"nn_model_load (model file)", setup_model_file, call_load, true},
        {"nn_model_load (checkpoint)", setup_checkpoint, call_load, true},
        {"nn_csv_load (gzip)", setup_csv, call_csv, false},
        {"nn_idx_load (gzip)", setup_idx_gz, call_idx, false},
    };
    tally t = {0};
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++) {
        long before = t.calls;
        run_faults(&io[i], &io_plan, NN_ERR_IO, &t);
        if (t.calls == before)
            fail_msg("%s made no I/O call the wrappers saw", io[i].name);
    }
    print_message("I/O: %zu entry points, %ld calls, %ld failure points (once and for ever), "
                  "0 files lost\n", sizeof io / sizeof io[0], t.calls, t.points);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocation_faults),
        cmocka_unit_test(test_writers_allocate_nothing),
        cmocka_unit_test(test_absurd_sizes_refused_without_allocating),
        cmocka_unit_test(test_readers_use_the_callers_allocator),
        cmocka_unit_test(test_io_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
