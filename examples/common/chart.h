/* Line and scatter charts as SVG files, for the examples' training curves and results.
 * One file holds one or more panels side by side; each panel has its own axes (linear, or
 * logarithmic in x), grid, tick labels, legend and any number of series.
 *
 *     double epoch[] = {1, 2, 3}, loss[] = {0.9, 0.5, 0.4};
 *     chart_series s = chart_line("training loss", epoch, loss, 3);
 *     chart_panel p = {.title = "loss", .x_label = "epoch", .y_label = "loss", .series = &s,
 *                      .n_series = 1};
 *     chart_svg("loss.svg", "my network", &p, 1);
 */
#ifndef NN_EXAMPLES_CHART_H
#define NN_EXAMPLES_CHART_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct chart_series {
    const char *name;
    const double *x, *y; /* (n) points; those with a non-finite coordinate are skipped */
    int n;
    bool points;         /* markers only, no line: a scatter plot */
} chart_series;

/* A series drawn as a line through its points, or as dots only. */
static inline chart_series chart_line(const char *name, const double *x, const double *y, int n)
{
    return (chart_series){.name = name, .x = x, .y = y, .n = n};
}

static inline chart_series chart_dots(const char *name, const double *x, const double *y, int n)
{
    return (chart_series){.name = name, .x = x, .y = y, .n = n, .points = true};
}

typedef struct chart_panel {
    const char *title, *x_label, *y_label;
    const chart_series *series;
    int n_series;
    bool log_x;    /* x on a log scale (points with x <= 0 are skipped) */
    bool diagonal; /* draw the line y = x (predictions against true values) */
    const double *y_rule; /* a dashed horizontal line at this height (a target), or NULL */
} chart_panel;

enum { CHART_W = 460, CHART_H = 340, CHART_LEFT = 70, CHART_RIGHT = 18, CHART_TOP = 34,
       CHART_BOTTOM = 50, CHART_TITLE = 34 };

static const char *const CHART_COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                           "#9467bd", "#8c564b", "#e377c2", "#17becf"};

/* Text with the characters XML reserves escaped. */
static inline void chart_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

/* A tick label: 800k, 1.2M rather than 800000, 1.2e+06. */
static inline void chart_number(FILE *f, double v)
{
    if (fabs(v) >= 1e6)
        fprintf(f, "%gM", v / 1e6);
    else if (fabs(v) >= 1e4)
        fprintf(f, "%gk", v / 1e3);
    else
        fprintf(f, "%g", v);
}

/* A round step (1, 2 or 5 times a power of ten) giving about five ticks over span. */
static inline double chart_step(double span)
{
    double raw = span / 5, magnitude = pow(10, floor(log10(raw))), f = raw / magnitude;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * magnitude;
}

static inline bool chart_usable(const chart_panel *p, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!p->log_x || x > 0);
}

/* The data range of a panel, in axis units (log10 x on a log axis), widened to round ticks. */
static inline void chart_range(const chart_panel *p, double *x0, double *x1, double *y0,
                               double *y1, double *ystep)
{
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            if (!chart_usable(p, x, y))
                continue;
            x = p->log_x ? log10(x) : x;
            xl = fmin(xl, x), xh = fmax(xh, x), yl = fmin(yl, y), yh = fmax(yh, y);
        }
    if (p->diagonal) { /* the same range on both axes, so that y = x is the diagonal */
        xl = yl = fmin(xl, yl);
        xh = yh = fmax(xh, yh);
    }
    if (!(xl <= xh)) /* no points at all */
        xl = 0, xh = 1, yl = 0, yh = 1;
    if (xh - xl < 1e-12)
        xl -= 0.5, xh += 0.5;
    if (yh - yl < 1e-12 * fmax(1.0, fabs(yh)))
        yl -= fmax(0.5, fabs(yl) * 0.1), yh += fmax(0.5, fabs(yh) * 0.1);
    *ystep = chart_step(yh - yl);
    *y0 = floor(yl / *ystep) * *ystep;
    *y1 = ceil(yh / *ystep) * *ystep;
    if (p->log_x) {
        *x0 = floor(xl);
        *x1 = ceil(xh);
    } else {
        double xstep = chart_step(xh - xl);
        *x0 = p->diagonal ? *y0 : floor(xl / xstep) * xstep;
        *x1 = p->diagonal ? *y1 : ceil(xh / xstep) * xstep;
    }
}

/* Where a panel's plot area is on the page and which data range it shows. */
typedef struct chart_axes {
    double left, right, top, bottom; /* pixels */
    double x0, x1, y0, y1;           /* axis units */
    bool log_x;
} chart_axes;

static inline double chart_px(const chart_axes *a, double x)
{
    return a->left + ((a->log_x ? log10(x) : x) - a->x0) / (a->x1 - a->x0) * (a->right - a->left);
}

static inline double chart_py(const chart_axes *a, double y)
{
    return a->bottom - (y - a->y0) / (a->y1 - a->y0) * (a->bottom - a->top);
}

/* The legend's size: the widest name sets its width. */
static inline int chart_named(const chart_panel *p, double *w, double *h)
{
    int named = 0;
    size_t longest = 0;
    for (int s = 0; s < p->n_series; s++)
        if (p->series[s].name) {
            named++;
            longest = strlen(p->series[s].name) > longest ? strlen(p->series[s].name) : longest;
        }
    *w = 34 + 7.0 * (double)longest;
    *h = 8 + 18.0 * named;
    return named;
}

/* Up to CHART_LEGEND_INSIDE series the legend goes in the corner of the plot that hides the
 * fewest points; a longer one goes to the right of the plot, which widens the panel. */
enum { CHART_LEGEND_INSIDE = 3 };

static inline double chart_panel_width(const chart_panel *p)
{
    double w, h;
    return chart_named(p, &w, &h) > CHART_LEGEND_INSIDE ? CHART_W + w + 8 : CHART_W;
}

static inline void chart_legend(FILE *f, const chart_panel *p, const chart_axes *a)
{
    double w, h;
    int named = chart_named(p, &w, &h);
    if (named == 0)
        return;
    double bx = a->right + 12, by = a->top;
    for (int corner = 0, fewest = -1; named <= CHART_LEGEND_INSIDE && corner < 4; corner++) {
        double cx = corner % 2 ? a->right - 8 - w : a->left + 8;
        double cy = corner / 2 ? a->bottom - 8 - h : a->top + 8;
        int inside = 0;
        for (int s = 0; s < p->n_series; s++)
            for (int i = 0; i < p->series[s].n; i++) {
                double x = p->series[s].x[i], y = p->series[s].y[i];
                if (!chart_usable(p, x, y))
                    continue;
                double px = chart_px(a, x), py = chart_py(a, y);
                inside += px >= cx - 4 && px <= cx + w + 4 && py >= cy - 4 && py <= cy + h + 4;
            }
        if (fewest < 0 || inside < fewest)
            fewest = inside, bx = cx, by = cy;
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
               "fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n", bx, by, w, h);
    for (int s = 0, row = 0; s < p->n_series; s++) {
        if (!p->series[s].name)
            continue;
        double ly = by + 18 + 18.0 * row++;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"4\" fill=\"%s\"/>\n",
                bx + 8, ly - 6, CHART_COLORS[s % 8]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", bx + 30, ly);
        chart_text(f, p->series[s].name);
        fputs("</text>\n", f);
    }
}

static inline void chart_panel_svg(FILE *f, const chart_panel *p, double left)
{
    chart_axes a = {.left = left + CHART_LEFT, .right = left + CHART_W - CHART_RIGHT,
                    .top = CHART_TITLE + CHART_TOP, .bottom = CHART_TITLE + CHART_H - CHART_BOTTOM,
                    .log_x = p->log_x};
    double ystep;
    chart_range(p, &a.x0, &a.x1, &a.y0, &a.y1, &ystep);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\">",
            (a.left + a.right) / 2, CHART_TITLE + 22);
    chart_text(f, p->title);
    fputs("</text>\n", f);

    /* Grid and tick labels: y every ystep, x every round step or every decade. */
    for (double y = a.y0; y <= a.y1 + ystep * 1e-6; y += ystep) {
        double py = chart_py(&a, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n",
                a.left, py, a.right, py);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", a.left - 6, py + 4);
        chart_number(f, fabs(y) < ystep * 1e-6 ? 0.0 : y);
        fputs("</text>\n", f);
    }
    double xstep = p->log_x ? 1 : chart_step(a.x1 - a.x0);
    for (double x = a.x0; x <= a.x1 + xstep * 1e-6; x += xstep) {
        double value = p->log_x ? pow(10, x) : fabs(x) < xstep * 1e-6 ? 0.0 : x;
        double px = chart_px(&a, value);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n",
                px, a.top, px, a.bottom);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px, a.bottom + 16);
        chart_number(f, value);
        fputs("</text>\n", f);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#333\"/>\n", a.left, a.top, a.right - a.left, a.bottom - a.top);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (a.left + a.right) / 2,
            a.bottom + 38);
    chart_text(f, p->x_label);
    fprintf(f, "</text>\n<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
               "text-anchor=\"middle\">", left + 18, (a.top + a.bottom) / 2);
    chart_text(f, p->y_label);
    fputs("</text>\n", f);
    if (p->y_rule && *p->y_rule >= a.y0 && *p->y_rule <= a.y1)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
                   "stroke-dasharray=\"6 4\"/>\n", a.left, chart_py(&a, *p->y_rule), a.right,
                chart_py(&a, *p->y_rule));
    if (p->diagonal)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                   "stroke-dasharray=\"4 4\"/>\n", a.left, a.bottom, a.right, a.top);

    for (int s = 0; s < p->n_series; s++) {
        const chart_series *se = &p->series[s];
        const char *color = CHART_COLORS[s % 8];
        if (!se->points) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
            for (int i = 0; i < se->n; i++)
                if (chart_usable(p, se->x[i], se->y[i]))
                    fprintf(f, "%.1f,%.1f ", chart_px(&a, se->x[i]), chart_py(&a, se->y[i]));
            fputs("\"/>\n", f);
        }
        if (se->points || se->n <= 60)
            for (int i = 0; i < se->n; i++)
                if (chart_usable(p, se->x[i], se->y[i]))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"%s/>\n",
                            chart_px(&a, se->x[i]), chart_py(&a, se->y[i]),
                            se->points ? "2" : "3", color,
                            se->points ? " fill-opacity=\"0.5\"" : "");
    }
    chart_legend(f, p, &a);
}

/* Writes the panels side by side under a title; returns 0, or -1 if the file could not be
 * written. */
static inline int chart_svg(const char *path, const char *title, const chart_panel *panels,
                            int n_panels)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    double width = 0;
    int height = CHART_TITLE + CHART_H;
    for (int i = 0; i < n_panels; i++)
        width += chart_panel_width(&panels[i]);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%d\" "
               "viewBox=\"0 0 %.0f %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%.0f\" y=\"24\" font-size=\"16\" font-weight=\"bold\" "
               "text-anchor=\"middle\">",
            ceil(width), height, ceil(width), height, width / 2);
    chart_text(f, title);
    fputs("</text>\n", f);
    double left = 0;
    for (int i = 0; i < n_panels; i++) {
        chart_panel_svg(f, &panels[i], left);
        left += chart_panel_width(&panels[i]);
    }
    fputs("</svg>\n", f);
    int failed = ferror(f);
    return fclose(f) != 0 || failed ? -1 : 0;
}

#endif /* NN_EXAMPLES_CHART_H */
