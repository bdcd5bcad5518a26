/* Distinct rows through an open-addressing hash table of row indices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_rowset.h"
#include "util/hash.h"

static uint64_t row_hash(const double *x, size_t dim)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (size_t j = 0; j < dim; j++) {
        double v = x[j] + 0.0; /* -0.0 hashes as 0.0 */
        uint64_t u;
        memcpy(&u, &v, sizeof u);
        h = nagm_mix64(h ^ u) + j;
    }
    return h;
}

static int row_eq(const double *a, const double *b, size_t dim)
{
    for (size_t j = 0; j < dim; j++)
        if (a[j] != b[j])
            return 0;
    return 1;
}

int nagm_rowset_build(nagm_rowset *s, const double *X, const size_t *idx, size_t m, size_t dim,
                      size_t stop_at)
{
    return nagm_rowset_build_w(s, X, idx, m, dim, stop_at, NULL);
}

int nagm_rowset_build_w(nagm_rowset *s, const double *X, const size_t *idx, size_t m, size_t dim,
                        size_t stop_at, const double *w)
{
    memset(s, 0, sizeof *s);
    size_t want = stop_at ? (stop_at < m ? stop_at : m) : m;
    size_t cap = 16;
    while (cap < 2 * want + 2)
        cap *= 2;
    size_t *slot = malloc(cap * sizeof *slot);
    s->rep = malloc((want ? want : 1) * sizeof *s->rep);
    s->weight = malloc((want ? want : 1) * sizeof *s->weight);
    if (!slot || !s->rep || !s->weight) {
        free(slot);
        nagm_rowset_free(s);
        return -1;
    }
    for (size_t i = 0; i < cap; i++)
        slot[i] = SIZE_MAX;
    for (size_t i = 0; i < m; i++) {
        size_t r = idx ? idx[i] : i;
        const double *x = X + r * dim;
        size_t h = (size_t)row_hash(x, dim) & (cap - 1);
        for (;;) {
            size_t u = slot[h];
            if (u == SIZE_MAX) {
                slot[h] = s->n;
                s->rep[s->n] = r;
                s->weight[s->n] = w ? w[i] : 1;
                s->n++;
                break;
            }
            if (row_eq(X + s->rep[u] * dim, x, dim)) {
                s->weight[u] += w ? w[i] : 1;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        if (stop_at && s->n >= stop_at)
            break;
    }
    free(slot);
    return 0;
}

void nagm_rowset_free(nagm_rowset *s)
{
    free(s->rep);
    free(s->weight);
    memset(s, 0, sizeof *s);
}
