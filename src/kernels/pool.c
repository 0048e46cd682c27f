/* A model's worker threads, and the matrix product and loops of independent items split
 * across them.
 *
 * Shape letters: M, N, K the dimensions of a product, as in nn_internal.h.
 *
 * A pool of T threads is the caller plus T - 1 workers started once, in nn_model_create, and
 * joined in nn_model_destroy. The products of one training step take 5–80 µs each, so handing
 * one out must cost far less than that. A job is published in one atomic word (its number,
 * its parts, the next part not yet taken); workers spin on that word with a pause instruction
 * and start within a cache-line transfer. A worker that has seen no job for SPIN_NS blocks on
 * a condition variable instead, so an idle model costs no CPU.
 *
 * Parts are not assigned but claimed, by compare-and-swap on that word, by the caller as well
 * as the workers. On a machine busier than its cores a worker may not run for milliseconds;
 * the caller then claims that worker's part itself rather than wait for it, so a job is never
 * slower than the caller alone by more than the hand-off. The caller waits only for parts
 * that a worker has claimed: it spins, then blocks.
 *
 * Waking a sleeper without losing the wake-up: the sleeper announces itself and then reads
 * the value it waits on; the waker writes that value and then reads the announcement. Both are
 * sequentially consistent, so at least one of them sees the other's write: either the sleeper
 * sees the new value and does not sleep, or the waker sees the announcement and signals under
 * the mutex, which the sleeper holds from before its check until it is inside
 * pthread_cond_wait. */
#define _POSIX_C_SOURCE 200809L /* pthread_sigmask, clock_gettime */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kernels/gemm_internal.h"

/* How long a thread spins before it blocks. Longer than the gaps between the jobs of a
 * training step: the element-wise passes (bias and activation, loss, the gradient check, the
 * optimizer step, the next batch's gather) are jobs of the pool themselves or take a few µs,
 * so a training run never sleeps, and no step's first product waits for a wake-up. A spinning
 * thread takes CPU time from every other, so an idle model must not spin for long. It never
 * yields while it spins: sched_yield hands the core to any runnable task, even a nice 19 one,
 * for a whole time slice. docs/PERFORMANCE.md has the measurements behind both. */
static const long SPIN_NS = 100000;

/* Bytes between fields that different threads write, so that they sit on different cache
 * lines whatever the allocator's alignment (only 16 bytes are promised). */
enum { PAD = 128 };

/* The job word: bits 32-63 the job's number, 16-31 its parts, 0-15 the next part to take. */
static uint64_t job_word(uint32_t number, int parts, int next)
{
    return (uint64_t)number << 32 | (uint64_t)parts << 16 | (uint64_t)next;
}
static uint32_t word_number(uint64_t w)
{
    return (uint32_t)(w >> 32);
}

struct nn__pool {
    nn_alloc_fn alloc;
    void *alloc_user;
    size_t bytes;
    int threads;              /* T, the caller included */
    int started;              /* workers whose thread runs */
    uint32_t number;          /* the last job's number (the caller's copy) */
    bool lock_ok, wake_ok, done_ok;
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* workers wait here for a job */
    pthread_cond_t done;      /* the caller waits here for claimed parts */
    /* The job: fn and ctx are written before word publishes them. */
    nn__pool_fn *fn;
    void *ctx;
    char pad0[PAD];
    _Atomic uint64_t word;    /* the caller publishes, everyone claims */
    char pad1[PAD];
    atomic_int finished;      /* parts done of the current job */
    atomic_int sleepers;      /* workers blocked, or about to be, on wake */
    atomic_int caller_sleeping; /* the caller is blocked, or about to be, on done */
    atomic_bool stop;
    atomic_int ids;           /* workers that have taken their thread number */
    char pad2[PAD];
    pthread_t workers[];      /* (T - 1) */
};

/* ------------------------------------------------------------- waiting */

static void cpu_pause(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) && defined(__GNUC__)
    __asm__ __volatile__("yield");
#endif
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A spin that gives up after SPIN_NS: spin_turn returns false when it is time to block. The
 * clock is read every 64 turns only (a pause is 10–150 cycles, depending on the CPU). */
typedef struct spinner {
    unsigned turns;
    long long start;
} spinner;

static bool spin_turn(spinner *s)
{
    cpu_pause();
    if (++s->turns % 64 != 0)
        return true;
    long long t = now_ns();
    if (s->start == 0)
        s->start = t;
    return t - s->start < SPIN_NS;
}

/* Claims the next part of job `number`; -1 if it has none left or another job came. */
static int claim(nn__pool *p, uint32_t number, int *parts)
{
    uint64_t w = atomic_load(&p->word);
    for (;;) {
        int np = (int)(w >> 16 & 0xffff), next = (int)(w & 0xffff);
        if (word_number(w) != number || next >= np)
            return -1;
        if (atomic_compare_exchange_weak(&p->word, &w, w + 1)) {
            *parts = np;
            return next;
        }
    }
}

/* Runs parts of job `number` on thread `thread` until none is left to claim. */
static void run_parts(nn__pool *p, uint32_t number, int thread)
{
    int part, parts;
    while ((part = claim(p, number, &parts)) >= 0) {
        p->fn(p->ctx, part, parts, thread);
        atomic_fetch_add(&p->finished, 1);
        if (atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Waits for a job after job `seen`, spinning first, then asleep; returns its number. */
static uint32_t worker_wait(nn__pool *p, uint32_t seen)
{
    spinner s = {0, 0};
    uint32_t n;
    while ((n = word_number(atomic_load_explicit(&p->word, memory_order_acquire))) == seen)
        if (!spin_turn(&s))
            break;
    if (n != seen)
        return n;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    while ((n = word_number(atomic_load(&p->word))) == seen)
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void *worker_main(void *arg)
{
    nn__pool *p = arg;
    int thread = atomic_fetch_add(&p->ids, 1) + 1; /* the caller is thread 0 */
    uint32_t seen = 0;
    for (;;) {
        seen = worker_wait(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        run_parts(p, seen, thread);
    }
}

/* Publishes job word w (fn and ctx already written) and wakes the sleeping workers. */
static void publish(nn__pool *p, uint64_t w)
{
    atomic_store(&p->word, w);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Waits until all `parts` parts are finished, spinning first, then asleep. */
static void caller_wait(nn__pool *p, int parts)
{
    spinner s = {0, 0};
    while (atomic_load_explicit(&p->finished, memory_order_acquire) != parts)
        if (!spin_turn(&s))
            break;
    if (atomic_load(&p->finished) == parts)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->caller_sleeping, 1);
    while (atomic_load(&p->finished) != parts)
        pthread_cond_wait(&p->done, &p->lock);
    atomic_store(&p->caller_sleeping, 0);
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------- the pool */

void nn__pool_run(nn__pool *p, int parts, nn__pool_fn *fn, void *ctx)
{
    if (!p || parts <= 1) {
        fn(ctx, 0, 1, 0);
        return;
    }
    if (parts > p->threads)
        parts = p->threads;
    /* No worker touches fn, ctx or finished until it has claimed a part of the new job, and
     * every part of the last one is finished: these plain writes race with nothing. */
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
    uint32_t number = ++p->number;
    publish(p, job_word(number, parts, 0));
    run_parts(p, number, 0);
    caller_wait(p, parts);
}

int nn__pool_threads(const nn__pool *p)
{
    return p ? p->threads : 1;
}

void nn__pool_destroy(nn__pool *p)
{
    if (!p)
        return;
    if (p->started > 0) {
        atomic_store(&p->stop, true);
        publish(p, job_word(++p->number, 0, 0)); /* a job of no parts: they see stop */
        for (int i = 0; i < p->started; i++)
            pthread_join(p->workers[i], NULL);
    }
    if (p->done_ok)
        pthread_cond_destroy(&p->done);
    if (p->wake_ok)
        pthread_cond_destroy(&p->wake);
    if (p->lock_ok)
        pthread_mutex_destroy(&p->lock);
    p->alloc(p->alloc_user, p, p->bytes, 0);
}

/* Starts the workers with every signal blocked (a library's threads must not take the
 * program's signals); returns how many started. */
static int start_workers(nn__pool *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int n = 0;
    while (n < p->threads - 1 && pthread_create(&p->workers[n], NULL, worker_main, p) == 0)
        n++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n;
}

nn_status nn__pool_create(nn_alloc_fn alloc, void *user, int threads, nn__pool **out)
{
    *out = NULL;
    if (threads <= 1)
        return NN_OK;
    size_t bytes = sizeof(nn__pool) + (size_t)(threads - 1) * sizeof(pthread_t);
    nn__pool *p = alloc(user, NULL, 0, bytes);
    if (!p)
        return NN_ERR_NOMEM;
    memset(p, 0, bytes);
    p->alloc = alloc;
    p->alloc_user = user;
    p->bytes = bytes;
    p->threads = threads;
    atomic_init(&p->word, job_word(0, 0, 0));
    atomic_init(&p->finished, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeping, 0);
    atomic_init(&p->stop, false);
    atomic_init(&p->ids, 0);
    p->lock_ok = pthread_mutex_init(&p->lock, NULL) == 0;
    p->wake_ok = p->lock_ok && pthread_cond_init(&p->wake, NULL) == 0;
    p->done_ok = p->wake_ok && pthread_cond_init(&p->done, NULL) == 0;
    if (p->done_ok)
        p->started = start_workers(p);
    if (p->started < threads - 1) {
        nn__pool_destroy(p);
        return NN_ERR_NOMEM;
    }
    *out = p;
    return NN_OK;
}

/* ------------------------------------------------------------- the split loop */

typedef struct for_job {
    nn__range_fn *fn;
    void *ctx;
    size_t n, unit;
} for_job;

static void for_part(void *ctx, int part, int parts, int thread)
{
    (void)thread;
    const for_job *j = ctx;
    /* Units q or q + 1 to a part, the first `extra` parts taking one more (no overflow). */
    size_t units = (j->n + j->unit - 1) / j->unit, q = units / (size_t)parts;
    size_t extra = units % (size_t)parts, p = (size_t)part;
    size_t lo = (q * p + (p < extra ? p : extra)) * j->unit;
    size_t hi = lo + (q + (p < extra)) * j->unit;
    if (hi > j->n)
        hi = j->n;
    if (lo < hi)
        j->fn(j->ctx, lo, hi);
}

void nn__pool_for_split(nn__pool *pool, size_t n, size_t unit, size_t min_part,
                        nn__range_fn *fn, void *ctx)
{
    if (unit < 1)
        unit = 1;
    size_t parts = (size_t)pool->threads, units = (n + unit - 1) / unit;
    if (min_part > 0 && n / min_part < parts)
        parts = n / min_part;
    if (parts > units)
        parts = units;
    if (parts <= 1) {
        if (n > 0)
            fn(ctx, 0, n);
        return;
    }
    for_job job = {fn, ctx, n, unit};
    nn__pool_run(pool, (int)parts, for_part, &job);
}

/* ------------------------------------------------------------- the split product */

/* Splits are made of whole tiles of the micro-kernels (gemm_internal.h): units of ROW_UNIT
 * rows or COL_UNIT columns. A remainder of fewer than ROW_UNIT rows joins the last unit
 * rather than being one: a part of so few rows could take gemm.c's few-rows path, which the
 * whole product does not. */
enum { ROW_UNIT = NN__SPLIT_ROW_UNIT, COL_UNIT = NN__SPLIT_COL_UNIT };
_Static_assert(ROW_UNIT % NN__GEMM_MR == 0 && COL_UNIT % NN__GEMM_NR_MAX == 0,
               "parts must be cut along the tiles' edges");
_Static_assert((int)ROW_UNIT > (int)NN__GEMM_FEW_ROWS,
               "a part's rows must not take the few-rows path");

/* Below this many multiply-adds per part (about 2 µs at one core's speed) a product is not
 * split: the hand-off, the extra packing (each part packs its own copy of the operand that is
 * not split) and the risk of waiting for a preempted worker outweigh the µs it would save.
 * The MLP's last layer (64×10×128) stays whole; everything larger is split. */
static const double MIN_PART_MACS = NN__SPLIT_MIN_PART_MACS;

typedef struct gemm_job {
    nn__gemm_kernel k;
    bool ta, tb, by_cols;
    int M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B;
    float *C;
    float *ws; /* the threads' workspaces, or NULL */
} gemm_job;

/* The units n rows or columns are split into: ROW_UNIT rows, the last with the remainder;
 * COL_UNIT columns, the last ragged. */
static int split_units(int n, bool by_cols)
{
    if (by_cols)
        return (n + COL_UNIT - 1) / COL_UNIT;
    return n < ROW_UNIT ? 1 : n / ROW_UNIT;
}

static void gemm_part(void *ctx, int part, int parts, int thread)
{
    const gemm_job *j = ctx;
    float *ws = j->ws ? j->ws + (size_t)thread * nn__gemm_ws_floats() : NULL;
    int n = j->by_cols ? j->N : j->M, unit = j->by_cols ? COL_UNIT : ROW_UNIT;
    int units = split_units(n, j->by_cols);
    int lo = (int)((long)units * part / parts) * unit;
    int hi = part == parts - 1 ? n : (int)((long)units * (part + 1) / parts) * unit;
    if (lo >= hi)
        return;
    if (j->by_cols) /* columns lo..hi of op(B) and of C */
        nn__gemm(j->k, ws, j->ta, j->tb, j->M, hi - lo, j->K, j->alpha, j->A, j->lda,
                 j->B + (j->tb ? (size_t)lo * j->ldb : (size_t)lo), j->ldb, j->beta, j->C + lo,
                 j->ldc);
    else /* rows lo..hi of op(A) and of C */
        nn__gemm(j->k, ws, j->ta, j->tb, hi - lo, j->N, j->K, j->alpha,
                 j->A + (j->ta ? (size_t)lo : (size_t)lo * j->lda), j->lda, j->B, j->ldb,
                 j->beta, j->C + (size_t)lo * j->ldc, j->ldc);
}

void nn__gemm_mt(nn__pool *pool, float *ws, nn__gemm_kernel k, bool ta, bool tb, int M, int N,
                 int K, float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc)
{
    if (!pool) { /* one thread: nothing to decide (the common case, and tiny products' path) */
        nn__gemm(k, ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int threads = nn__pool_threads(pool);
    double macs = (double)M * N * (K > 0 ? K : 1);
    int parts = threads;
    while (parts > 1 && macs / parts < MIN_PART_MACS)
        parts--;
    /* Splitting the columns makes every part pack all of op(A) (M, K), splitting the rows all
     * of op(B) (K, N): copy the smaller one twice. */
    int col_units = split_units(N, true), row_units = split_units(M, false);
    bool by_cols = M <= N ? col_units >= 2 : row_units < 2;
    int units = by_cols ? col_units : row_units;
    if (parts > units)
        parts = units;
    if (parts <= 1 || M <= 0 || N <= 0) {
        nn__gemm(k, ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_job job = {k, ta, tb, by_cols, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C, ws};
    nn__pool_run(pool, parts, gemm_part, &job);
}
