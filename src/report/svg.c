/* Inline SVG charts (see svg.h). Coordinates are written with one decimal:
 * enough for the eye, and it keeps a 4,000-point scatter plot small. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

/* Tableau 10: distinct for most colour-vision deficiencies, prints well. */
static const char *const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

const char *nagm_svg_color(int i)
{
    return palette[(unsigned)i % 10];
}

void nagm_html_escape(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", fp);
            break;
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        default:
            fputc(*s, fp);
        }
    }
}

#define W 760.0
#define H 380.0

static void svg_open(FILE *fp, const char *aria, double h)
{
    fprintf(fp,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
            "height=\"%.0f\" role=\"img\" aria-label=\"",
            W, h, W, h);
    nagm_html_escape(fp, aria);
    fputs("\" font-family=\"sans-serif\" font-size=\"12\">\n", fp);
    fprintf(fp, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", W, h);
}

static void fmt_count(double v, char *buf, size_t len)
{
    if (v >= 1e9)
        snprintf(buf, len, "%gG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%gM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%gk", v / 1e3);
    else
        snprintf(buf, len, "%g", v);
}

void nagm_svg_bars_log(FILE *fp, const char *aria, const char *xlabel, const char *ylabel,
                       const char *const *labels, const char *const *tips,
                       const uint64_t *values, size_t n, const char *color)
{
    const double ml = 70, mr = 20, mt = 20, mb = 95;
    const double pw = W - ml - mr, ph = H - mt - mb;
    uint64_t vmax = 1;
    for (size_t i = 0; i < n; i++)
        if (values[i] > vmax)
            vmax = values[i];
    /* Decades from 1 to the first power of ten >= the largest bar. */
    int dec = 1;
    while (pow(10, dec) < (double)vmax)
        dec++;
    svg_open(fp, aria, H);
    /* grid and y ticks */
    for (int d = 0; d <= dec; d++) {
        double y = mt + ph - ph * d / dec;
        char lab[16];
        fmt_count(pow(10, d), lab, sizeof lab);
        fprintf(fp,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                ml, y, ml + pw, y, ml - 6, y + 4, lab);
        for (int s = 2; d < dec && s <= 9; s++) {
            double ys = mt + ph - ph * (d + log10(s)) / dec;
            fprintf(fp,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n",
                    ml - 3, ys, ml, ys);
        }
    }
    double slot = n ? pw / (double)n : pw;
    double bw = slot * 0.75;
    for (size_t i = 0; i < n; i++) {
        double v = values[i] ? log10((double)values[i]) : 0;
        /* A bar of 1 has zero height on a log axis: show it as a sliver. */
        double h = values[i] ? fmax(ph * v / dec, 2.0) : 0;
        double x = ml + slot * (double)i + (slot - bw) / 2;
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                x, mt + ph - h, bw, h, color);
        fputs("<title>", fp);
        nagm_html_escape(fp, tips && tips[i] ? tips[i] : labels[i]);
        fputs("</title></rect>\n", fp);
        double cx = x + bw / 2, ly = mt + ph + 8;
        fprintf(fp,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
                "transform=\"rotate(-55 %.1f %.1f)\">",
                cx + 3, ly, cx + 3, ly);
        nagm_html_escape(fp, labels[i]);
        fputs("</text>\n", fp);
    }
    fprintf(fp,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
            ml, mt, ml, mt + ph, ml, mt + ph, ml + pw, mt + ph);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", ml + pw / 2, H - 6);
    nagm_html_escape(fp, xlabel);
    fprintf(fp,
            "</text>\n<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 16 %.1f)\">",
            mt + ph / 2, mt + ph / 2);
    nagm_html_escape(fp, ylabel);
    fputs("</text>\n</svg>\n", fp);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about 6 ticks. */
static double nice_step(double span)
{
    if (!(span > 0))
        return 1;
    double raw = span / 6, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void axis_range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
    if (!(n > 0) || !isfinite(*lo) || !isfinite(*hi)) {
        *lo = -1;
        *hi = 1;
    }
    if (*hi - *lo < 1e-9) {
        *lo -= 1;
        *hi += 1;
    }
    double pad = (*hi - *lo) * 0.04;
    *lo -= pad;
    *hi += pad;
}

void nagm_svg_scatter(FILE *fp, const char *aria, const char *xlabel, const char *ylabel,
                      const double *x, const double *y, const int32_t *group,
                      const char *const *tips, size_t n, int ngroups,
                      const char *const *names)
{
    const double ml = 70, mr = 250, mt = 20, mb = 50, h = 440;
    const double pw = W - ml - mr, ph = h - mt - mb;
    double x0, x1, y0, y1;
    axis_range(x, n, &x0, &x1);
    axis_range(y, n, &y0, &y1);
    svg_open(fp, aria, h);
#define PX(v) (ml + pw * ((v) - x0) / (x1 - x0))
#define PY(v) (mt + ph - ph * ((v) - y0) / (y1 - y0))
    double sx = nice_step(x1 - x0), sy = nice_step(y1 - y0);
    for (double t = ceil(x0 / sx) * sx; t <= x1; t += sx) {
        double px = PX(t);
        fprintf(fp,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                px, mt, px, mt + ph, px, mt + ph + 16, fabs(t) < sx / 1e6 ? 0.0 : t);
    }
    for (double t = ceil(y0 / sy) * sy; t <= y1; t += sy) {
        double py = PY(t);
        fprintf(fp,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ml, py, ml + pw, py, ml - 6, py + 4, fabs(t) < sy / 1e6 ? 0.0 : t);
    }
    fprintf(fp,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#333\"/>\n",
            ml, mt, pw, ph);
    /* Larger groups first, so small clusters stay visible on top. */
    for (int g = 0; g < ngroups; g++) {
        fprintf(fp, "<g fill=\"%s\" fill-opacity=\"0.7\">\n", nagm_svg_color(g));
        for (size_t i = 0; i < n; i++) {
            if (group[i] != g)
                continue;
            fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\">", PX(x[i]), PY(y[i]));
            if (tips && tips[i]) {
                fputs("<title>", fp);
                nagm_html_escape(fp, tips[i]);
                fputs("</title>", fp);
            }
            fputs("</circle>\n", fp);
        }
        fputs("</g>\n", fp);
    }
#undef PX
#undef PY
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", ml + pw / 2, h - 10);
    nagm_html_escape(fp, xlabel);
    fprintf(fp,
            "</text>\n<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 16 %.1f)\">",
            mt + ph / 2, mt + ph / 2);
    nagm_html_escape(fp, ylabel);
    fputs("</text>\n", fp);
    /* legend */
    double lx = ml + pw + 16;
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">Cluster</text>\n", lx, mt + 10);
    for (int g = 0; g < ngroups && g < 24; g++) {
        double ly = mt + 30 + 20 * g;
        fprintf(fp,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">",
                lx + 5, ly - 4, nagm_svg_color(g), lx + 15, ly);
        char nm[40];
        /* The full name is in the tables; keep the legend inside the picture. */
        if (strlen(names[g]) > 36)
            snprintf(nm, sizeof nm, "%.34s...", names[g]);
        else
            snprintf(nm, sizeof nm, "%s", names[g]);
        nagm_html_escape(fp, nm);
        fputs("</text>\n", fp);
    }
    if (ngroups > 24)
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">... %d more</text>\n", lx,
                mt + 30 + 20 * 24, ngroups - 24);
    fputs("</svg>\n", fp);
}
