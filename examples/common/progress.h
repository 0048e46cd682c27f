/* A one-line progress bar for a training epoch, redrawn in place on a terminal:
 *
 *   epoch  3/15 [########............]  412/938  loss 0.3921  48213 samples/s  ETA 4.2s
 *
 * When stdout is not a terminal (a log, a pipe) only each epoch's finished line is printed.
 * Uses POSIX clock_gettime and isatty: define _POSIX_C_SOURCE 200809L before any #include. */
#ifndef NN_EXAMPLES_PROGRESS_H
#define NN_EXAMPLES_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

typedef struct progress {
    int epoch, epochs, batches;
    double start, last_draw; /* seconds */
    bool tty;
} progress;

static inline double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void progress_begin(progress *p, int epoch, int epochs, int batches)
{
    *p = (progress){.epoch = epoch, .epochs = epochs, .batches = batches,
                    .start = progress_now(), .tty = isatty(fileno(stdout))};
}

static inline void progress_print(const progress *p, int done, long samples, double loss,
                                  double elapsed)
{
    enum { WIDTH = 20 };
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < (long)WIDTH * done / p->batches ? '#' : '.';
    bar[WIDTH] = '\0';
    double rate = elapsed > 0 ? samples / elapsed : 0;
    printf("epoch %2d/%d [%s] %5d/%d  loss %.4f  %6.0f samples/s", p->epoch, p->epochs, bar,
           done, p->batches, loss, rate);
}

/* After batch number done (1-based) of the epoch, samples seen so far, their mean loss.
 * Redraws at most ten times a second. */
static inline void progress_update(progress *p, int done, long samples, double loss)
{
    double now = progress_now();
    if (!p->tty || (now - p->last_draw < 0.1 && done < p->batches))
        return;
    p->last_draw = now;
    double elapsed = now - p->start, eta = elapsed / done * (p->batches - done);
    printf("\r");
    progress_print(p, done, samples, loss, elapsed);
    printf("  ETA %.1fs\033[K", eta);
    fflush(stdout);
}

/* Ends the epoch's line: the final figures, the epoch's time, then note (may be ""). */
static inline void progress_end(progress *p, long samples, double loss, const char *note)
{
    double elapsed = progress_now() - p->start;
    printf("\r");
    progress_print(p, p->batches, samples, loss, elapsed);
    printf("  %.1fs%s%s\n", elapsed, p->tty ? "\033[K" : "", note);
    fflush(stdout);
}

#endif /* NN_EXAMPLES_PROGRESS_H */
