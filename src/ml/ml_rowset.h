/* Distinct rows of a matrix, with multiplicities: used to count distinct
 * points (fewer than k?) and to run mean shift on weighted unique points. */
#ifndef NETAGM_ML_ROWSET_H
#define NETAGM_ML_ROWSET_H

#include <stddef.h>

typedef struct nagm_rowset {
    size_t n;        /* distinct rows found */
    size_t *rep;     /* n: index in X of the first row of each distinct value */
    double *weight;  /* n: how many rows have that value */
} nagm_rowset;

/* Find the distinct rows of X (m x dim; rows listed in idx, or 0..m-1 when
 * idx is NULL), in order of first appearance. Rows compare by value
 * (-0.0 == 0.0). With stop_at > 0 the scan ends as soon as stop_at distinct
 * rows are seen (weights are then partial). Returns 0 or -1 on ENOMEM. */
int nagm_rowset_build(nagm_rowset *s, const double *X, const size_t *idx, size_t m, size_t dim,
                      size_t stop_at);

/* The same, each row counting w[i] times (w[i] for the i-th row scanned)
 * instead of once: merges rowsets built on parts of the data. */
int nagm_rowset_build_w(nagm_rowset *s, const double *X, const size_t *idx, size_t m, size_t dim,
                        size_t stop_at, const double *w);
void nagm_rowset_free(nagm_rowset *s);

#endif
