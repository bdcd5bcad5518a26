/* Inline SVG charts for the HTML report: a bar chart on a log scale and a
 * scatter plot coloured by group. Every chart has a title, labelled axes
 * with ticks, and a legend where colours carry meaning. */
#ifndef NETAGM_REPORT_SVG_H
#define NETAGM_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Colour of group i (a colour-blind-safe palette, cycled). Static string. */
const char *nagm_svg_color(int i);

/* Write s with &, <, >, " escaped. */
void nagm_html_escape(FILE *fp, const char *s);

/* Bars with a logarithmic y axis (1, 10, 100, ...). labels[i] is shown
 * under bar i (rotated), tips[i] (may be NULL) is its hover text. */
void nagm_svg_bars_log(FILE *fp, const char *aria, const char *xlabel, const char *ylabel,
                       const char *const *labels, const char *const *tips,
                       const uint64_t *values, size_t n, const char *color);

/* Points (x[i], y[i]) coloured by group[i] (0..ngroups-1), with a legend of
 * names[g]; tips[i] (may be NULL) is each point's hover text. */
void nagm_svg_scatter(FILE *fp, const char *aria, const char *xlabel, const char *ylabel,
                      const double *x, const double *y, const int32_t *group,
                      const char *const *tips, size_t n, int ngroups,
                      const char *const *names);

#endif
