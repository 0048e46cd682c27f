/* The raster half of the examples' charts (examples/common/chart.h): glyphs against the
 * same characters drawn here as text, ticks at the pixels worked out by hand, and drawing
 * clipped at the image's edges. */
#include "test_util.h"

#include "../examples/common/chart.h"

static const uint8_t WHITE[3] = {255, 255, 255};

static chart_image blank(int w, int h)
{
    chart_image img = {malloc((size_t)w * h * 3), w, h};
    memset(img.rgb, 255, (size_t)w * h * 3);
    return img;
}

static bool inked(const chart_image *img, int x, int y)
{
    return memcmp(img->rgb + 3 * ((size_t)y * img->w + x), CHART_INK, 3) == 0;
}

static bool white(const chart_image *img, int x, int y)
{
    return memcmp(img->rgb + 3 * ((size_t)y * img->w + x), WHITE, 3) == 0;
}

/* The image must show the picture ('#' ink, '.' white), each character as a 2x2 block,
 * with its top left at (x, y). */
static void assert_drawn(const chart_image *img, int x, int y, const char *const rows[], int n)
{
    for (int r = 0; r < n; r++)
        for (int c = 0; rows[r][c]; c++)
            for (int k = 0; k < 4; k++) {
                int px = x + 2 * c + k % 2, py = y + 2 * r + k / 2;
                assert_true(rows[r][c] == '#' ? inked(img, px, py) : white(img, px, py));
            }
}

static void test_glyphs(void **state)
{
    (void)state;
    chart_image img = blank(40, 30);
    chart_image_text(&img, 3, 4, "1", CHART_INK);
    const char *const one[] = {".......", "...#...", "..##...", "...#...", "...#...",
                               "...#...", "...#...", "..###..", ".......", ".......", "......."};
    assert_drawn(&img, 1, 2, one, 11); /* with a white border of one font pixel */

    memset(img.rgb, 255, 40 * 30 * 3);
    chart_image_text(&img, 3, 4, "g", CHART_INK); /* a descender: rows 7 and 8 */
    const char *const g[] = {".....", ".....", ".####", "#...#", "#...#",
                             "#...#", ".####", "....#", ".###."};
    assert_drawn(&img, 3, 4, g, 9);

    memset(img.rgb, 255, 40 * 30 * 3);
    chart_image_text(&img, 3, 4, "Q", CHART_INK); /* no glyph: a hollow box */
    const char *const box[] = {"#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####"};
    assert_drawn(&img, 3, 4, box, 7);

    assert_int_equal(chart_image_text_width(""), 0);
    assert_int_equal(chart_image_text_width("-0.5"), 4 * 12 - 2);
    /* Every glyph is listed once. */
    for (size_t i = 0; i < sizeof CHART_FONT / sizeof CHART_FONT[0]; i++)
        assert_ptr_equal(chart_glyph_of(CHART_FONT[i].c), &CHART_FONT[i]);
    free(img.rgb);
}

/* x from -1.2 to 1.2 over 480 pixels from column 100: a step of 0.5 (chart_step of 2.4),
 * ticks at -1, -0.5, 0, 0.5 and 1, that is 40, 140, 240, 340 and 440 pixels into the plot.
 * y from 0 to 10 over 240 pixels: a step of 2, ticks every 48 pixels from the bottom. */
static void test_ticks(void **state)
{
    (void)state;
    chart_image img = blank(700, 400);
    chart_image_plot p = {.left = 100, .top = 50, .width = 480, .height = 240,
                          .x0 = -1.2, .x1 = 1.2, .y0 = 0, .y1 = 10};
    chart_image_axes(&img, &p);
    for (int x = p.left; x < p.left + p.width; x++) {
        bool tick = x == 140 || x == 240 || x == 340 || x == 440 || x == 540;
        assert_int_equal(inked(&img, x, 290 + 3), tick); /* below the frame's bottom, 290 */
        assert_int_equal(inked(&img, x, 49 - 3), tick);  /* above its top, 49 */
    }
    for (int y = p.top; y <= p.top + p.height; y++) {
        bool tick = (290 - y) % 48 == 0;
        assert_int_equal(inked(&img, 99 - 3, y), tick);
        assert_int_equal(inked(&img, 580 + 3, y), tick);
    }
    /* The frame is just outside the plot area, which stays untouched. */
    assert_true(inked(&img, 99, 49) && inked(&img, 580, 290));
    for (int y = p.top; y < p.top + p.height; y++)
        for (int x = p.left; x < p.left + p.width; x++)
            assert_true(white(&img, x, y));
    /* Label "0" of the x axis: 10 pixels wide, centred on its tick at column 340, its top
     * 4 pixels below the tick's end (row 300); the glyph's second row is #...# . */
    const char *const zero_row[] = {"#...#"};
    assert_drawn(&img, 335, 302, zero_row, 1);
    assert_true(white(&img, 335, 298) && white(&img, 345, 302));
    free(img.rgb);
}

/* Anything partly outside the image is drawn where it is inside; nothing is written
 * outside (the sanitizer build would see it). */
static void test_clipping(void **state)
{
    (void)state;
    static const uint8_t red[3] = {255, 0, 0};
    chart_image img = blank(20, 10);
    chart_image_text(&img, -5, -3, "8888", CHART_INK);
    chart_image_dot(&img, 19, 9, red);
    chart_image_fill(&img, -100, -100, 1000, 1000, red);
    for (int i = 0; i < 20 * 10; i++)
        assert_memory_equal(img.rgb + 3 * i, red, 3);
    chart_key key = {"class", red, CHART_KEY_BOX};
    chart_image_legend(&img, 15, 5, &key, 1);
    assert_true(white(&img, 16, 6)); /* the legend's white inside, from its 1-pixel border */
    free(img.rgb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glyphs),
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_clipping),
    };
    return cmocka_run_group_tests_name("chart images", tests, NULL, NULL);
}
