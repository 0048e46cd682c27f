/* Line and scatter charts as SVG files, for the examples' training curves and results.
 * One file holds one or more panels side by side; each panel has its own axes (linear, or
 * logarithmic in x), grid, tick labels, legend and any number of series.
 *
 *     double epoch[] = {1, 2, 3}, loss[] = {0.9, 0.5, 0.4};
 *     chart_series s = chart_line("training loss", epoch, loss, 3);
 *     chart_panel p = {.title = "loss", .x_label = "epoch", .y_label = "loss", .series = &s,
 *                      .n_series = 1};
 *     chart_svg("loss.svg", "my network", &p, 1);
 *
 * And the same furniture drawn into an RGB image (for a PNG, see png.h): a frame with ticks
 * and tick labels around a plot area the caller has painted, a title, axis labels and a
 * legend, in a 5x9 bitmap font of our own.
 *
 *     chart_image img = {rgb, W, H};
 *     chart_image_plot p = {.left = 80, .top = 40, .width = 400, .height = 400,
 *                           .x0 = -1, .x1 = 1, .y0 = -1, .y1 = 1, .title = "regions"};
 *     chart_image_axes(&img, &p);
 */
#ifndef NN_EXAMPLES_CHART_H
#define NN_EXAMPLES_CHART_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
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

/* ---- Charts drawn into RGB images --------------------------------------------------------- */

typedef struct chart_image {
    uint8_t *rgb; /* (h, w, 3), the top row first */
    int w, h;
} chart_image;

/* Text is drawn at twice the font's size: 10x18 pixels per character, 12 apart. */
enum { CHART_FONT_W = 5, CHART_FONT_H = 9, CHART_SCALE = 2, CHART_ADVANCE = 6 * CHART_SCALE,
       CHART_TICK = 5 };

/* The characters the examples' pictures need. Row r of a glyph is rows[r], its bit 4 the
 * leftmost column; rows 0-6 stand on the baseline, rows 7-8 are descenders. */
typedef struct chart_glyph {
    char c;
    uint8_t rows[CHART_FONT_H];
} chart_glyph;

static const chart_glyph CHART_FONT[] = {
    {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
    {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
    {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
    {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
    {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
    {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
    {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
    {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
    {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
    {':', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}},
    {'a', {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}},
    {'c', {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e}},
    {'d', {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f}},
    {'e', {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}},
    {'g', {0x00, 0x00, 0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e}},
    {'i', {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}},
    {'l', {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'o', {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}},
    {'p', {0x00, 0x00, 0x1e, 0x11, 0x11, 0x11, 0x1e, 0x10, 0x10}},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'s', {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e}},
    {'t', {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}},
    {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}},
    {'x', {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}},
    {'y', {0x00, 0x00, 0x11, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e}},
};

/* A character without a glyph shows as a hollow box, so that it is noticed. */
static const chart_glyph CHART_MISSING = {'?', {0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f}};

static inline const chart_glyph *chart_glyph_of(char c)
{
    for (size_t i = 0; i < sizeof CHART_FONT / sizeof CHART_FONT[0]; i++)
        if (CHART_FONT[i].c == c)
            return &CHART_FONT[i];
    return &CHART_MISSING;
}

/* Paints the w x h pixels from (x, y), the part inside the image. */
static inline void chart_image_fill(chart_image *img, int x, int y, int w, int h,
                                    const uint8_t color[3])
{
    for (int r = y < 0 ? 0 : y; r < y + h && r < img->h; r++)
        for (int c = x < 0 ? 0 : x; c < x + w && c < img->w; c++)
            memcpy(img->rgb + 3 * ((size_t)r * img->w + c), color, 3);
}

/* A dot of radius 3 with a white rim, centred on pixel (cx, cy): a scatter plot's marker. */
static inline void chart_image_dot(chart_image *img, int cx, int cy, const uint8_t color[3])
{
    static const uint8_t white[3] = {255, 255, 255};
    for (int dy = -4; dy <= 4; dy++)
        for (int dx = -4; dx <= 4; dx++) {
            int d2 = dx * dx + dy * dy;
            if (d2 <= 16)
                chart_image_fill(img, cx + dx, cy + dy, 1, 1, d2 <= 9 ? color : white);
        }
}

static inline int chart_image_text_width(const char *s)
{
    int n = (int)strlen(s);
    return n == 0 ? 0 : n * CHART_ADVANCE - CHART_SCALE; /* no gap after the last */
}

/* Draws s with the top left of its first character at (x, y); a space is only a gap. */
static inline void chart_image_text(chart_image *img, int x, int y, const char *s,
                                    const uint8_t color[3])
{
    for (; *s; s++, x += CHART_ADVANCE) {
        if (*s == ' ')
            continue;
        const chart_glyph *g = chart_glyph_of(*s);
        for (int r = 0; r < CHART_FONT_H; r++)
            for (int c = 0; c < CHART_FONT_W; c++)
                if (g->rows[r] >> (CHART_FONT_W - 1 - c) & 1)
                    chart_image_fill(img, x + c * CHART_SCALE, y + r * CHART_SCALE, CHART_SCALE,
                                     CHART_SCALE, color);
    }
}

/* A plot area of an image and the data range it shows: x0 at its left edge, x1 at its right,
 * y0 at its bottom, y1 at its top. */
typedef struct chart_image_plot {
    int left, top, width, height; /* pixels */
    double x0, x1, y0, y1;
    const char *title, *x_label, *y_label; /* each may be NULL */
} chart_image_plot;

static const uint8_t CHART_INK[3] = {51, 51, 51};

/* The ticks of one axis, every round step (chart_step) inside [v0, v1], on both sides of
 * the plot, with their labels below it (x) or left of it (y). Returns the widest label's
 * width. */
static inline int chart_image_ticks(chart_image *img, const chart_image_plot *p, bool y_axis)
{
    double v0 = y_axis ? p->y0 : p->x0, v1 = y_axis ? p->y1 : p->x1, step = chart_step(v1 - v0);
    int bottom = p->top + p->height, right = p->left + p->width, widest = 0;
    for (double k = ceil(v0 / step - 1e-9); k * step <= v1 + step * 1e-9; k++) {
        double v = fabs(k) < 0.5 ? 0.0 : k * step; /* no "-0" */
        char label[32];
        snprintf(label, sizeof label, "%g", v);
        int w = chart_image_text_width(label);
        widest = w > widest ? w : widest;
        if (y_axis) {
            int py = bottom - (int)floor((v - v0) / (v1 - v0) * p->height + 0.5);
            chart_image_fill(img, p->left - 1 - CHART_TICK, py, CHART_TICK, 1, CHART_INK);
            chart_image_fill(img, right + 1, py, CHART_TICK, 1, CHART_INK);
            chart_image_text(img, p->left - 1 - CHART_TICK - 4 - w, py - 7, label, CHART_INK);
        } else {
            int px = p->left + (int)floor((v - v0) / (v1 - v0) * p->width + 0.5);
            chart_image_fill(img, px, bottom + 1, 1, CHART_TICK, CHART_INK);
            chart_image_fill(img, px, p->top - 1 - CHART_TICK, 1, CHART_TICK, CHART_INK);
            chart_image_text(img, px - w / 2, bottom + 1 + CHART_TICK + 4, label, CHART_INK);
        }
    }
    return widest;
}

/* A frame just outside the plot area, ticks on all four sides with labels left and below,
 * the title centred above, and the axis labels beyond the tick labels (the y label is not
 * turned: keep it short). The plot area itself is not touched. Text runs into the margins,
 * so leave about 90 pixels left of the plot, 50 above and 70 below. */
static inline void chart_image_axes(chart_image *img, const chart_image_plot *p)
{
    int l = p->left - 1, t = p->top - 1, r = p->left + p->width, b = p->top + p->height;
    chart_image_fill(img, l, t, r - l + 1, 1, CHART_INK);
    chart_image_fill(img, l, b, r - l + 1, 1, CHART_INK);
    chart_image_fill(img, l, t, 1, b - t + 1, CHART_INK);
    chart_image_fill(img, r, t, 1, b - t + 1, CHART_INK);
    chart_image_ticks(img, p, false);
    int y_labels = chart_image_ticks(img, p, true);
    int mid_x = p->left + p->width / 2, mid_y = p->top + p->height / 2;
    int text_h = CHART_FONT_H * CHART_SCALE;
    if (p->title)
        chart_image_text(img, mid_x - chart_image_text_width(p->title) / 2,
                         t - CHART_TICK - 8 - text_h, p->title, CHART_INK);
    if (p->x_label)
        chart_image_text(img, mid_x - chart_image_text_width(p->x_label) / 2,
                         b + CHART_TICK + 8 + text_h, p->x_label, CHART_INK);
    if (p->y_label)
        chart_image_text(img, l - CHART_TICK - 4 - y_labels - 12 -
                         chart_image_text_width(p->y_label), mid_y - 7, p->y_label, CHART_INK);
}

/* One line of a legend: a marker or a colour swatch, or nothing (a note), then the label. */
typedef enum chart_key_shape { CHART_KEY_DOT, CHART_KEY_BOX, CHART_KEY_NOTE } chart_key_shape;

typedef struct chart_key {
    const char *label;
    const uint8_t *color; /* 3 bytes; unused for a note */
    chart_key_shape shape;
} chart_key;

enum { CHART_KEY_LINE = 24, CHART_KEY_INDENT = 28 };

/* The legend's size: the longest label sets the width. */
static inline void chart_image_legend_size(const chart_key *keys, int n, int *w, int *h)
{
    int widest = 0;
    for (int i = 0; i < n; i++) {
        int lw = chart_image_text_width(keys[i].label);
        widest = lw > widest ? lw : widest;
    }
    *w = 8 + CHART_KEY_INDENT + widest + 8;
    *h = 8 + n * CHART_KEY_LINE + 2;
}

/* The keys one under another in a white box with a grey border, its top left at (x, y). */
static inline void chart_image_legend(chart_image *img, int x, int y, const chart_key *keys,
                                      int n)
{
    static const uint8_t border[3] = {204, 204, 204}, white[3] = {255, 255, 255};
    int w, h;
    chart_image_legend_size(keys, n, &w, &h);
    chart_image_fill(img, x, y, w, h, border);
    chart_image_fill(img, x + 1, y + 1, w - 2, h - 2, white);
    for (int i = 0; i < n; i++) {
        int ty = y + 8 + i * CHART_KEY_LINE, mx = x + 8 + 8; /* the marker's centre column */
        if (keys[i].shape == CHART_KEY_DOT)
            chart_image_dot(img, mx, ty + 8, keys[i].color);
        else if (keys[i].shape == CHART_KEY_BOX)
            chart_image_fill(img, mx - 7, ty + 2, 14, 14, keys[i].color);
        chart_image_text(img, x + 8 + CHART_KEY_INDENT, ty, keys[i].label, CHART_INK);
    }
}

#endif /* NN_EXAMPLES_CHART_H */
