/* Mean shift with a flat kernel and bin seeding, following scikit-learn's
 * MeanShift (bin_seeding=True, cluster_all=True):
 *  1. seeds: the points rounded to a grid of cell size bandwidth, one seed
 *     per cell holding >= min_bin_freq points (all points if every cell
 *     holds one, or if no grid seed has a point within reach, which happens
 *     in many dimensions and where scikit-learn gives up);
 *  2. each seed moves to the mean of the points within bandwidth until it
 *     moves less than 1e-3 * bandwidth (at most max_iter times);
 *  3. the converged modes are sorted by how many points they hold (then by
 *     value, descending) and a mode within bandwidth of a stronger one is
 *     dropped;
 *  4. every point joins its nearest mode.
 * Identical points are merged first and carry a weight, which changes
 * nothing in the result and saves most of the work on real AGM data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_cluster_int.h"
#include "ml/ml_err.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_par.h"
#include "ml/ml_rng.h"
#include "ml/ml_rowset.h"
#include "util/hash.h"
#include "util/select.h"

/* ---- bandwidth estimate ------------------------------------------------------ */


typedef struct bw_ctx {
    const double *X;
    size_t dim;
    const size_t *ref;
    size_t nref, nq, kth;
    double *out; /* nq */
} bw_ctx;

static void bw_task(void *ctx, size_t q)
{
    bw_ctx *b = ctx;
    double *dist = malloc(b->nref * sizeof *dist);
    if (!dist) {
        b->out[q] = NAN;
        return;
    }
    const double *x = b->X + b->ref[q] * b->dim;
    for (size_t r = 0; r < b->nref; r++)
        dist[r] = sqrt(nagm_sqdist(x, b->X + b->ref[r] * b->dim, b->dim));
    b->out[q] = nagm_kth_smallest(dist, b->nref, b->kth);
    free(dist);
}

double nagm_meanshift_bandwidth(const double *X, size_t n, size_t dim, double quantile,
                                uint64_t seed)
{
    if (n == 0)
        return 0;
    if (!(quantile > 0) || quantile > 1)
        quantile = 0.3;
    size_t nref = n < 10000 ? n : 10000;
    size_t nq = nref < 1000 ? nref : 1000;
    size_t *idx = malloc(n * sizeof *idx);
    double *out = malloc(nq * sizeof *out);
    if (!idx || !out) {
        free(idx);
        free(out);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if (nref < n) {
        /* Partial Fisher-Yates: a seeded sample without replacement. */
        nagm_rng rng;
        nagm_rng_seed(&rng, seed, 0xba9d);
        for (size_t i = 0; i < nref; i++) {
            size_t j = i + (size_t)nagm_rng_below(&rng, n - i);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    }
    size_t nn = (size_t)((double)nref * quantile);
    if (nn < 1)
        nn = 1;
    /* The nn nearest include the point itself, as in scikit-learn. */
    bw_ctx b = {X, dim, idx, nref, nq, nn - 1, out};
    nagm_par_for(2, nq, bw_task, &b);
    double s = 0;
    for (size_t q = 0; q < nq; q++)
        s += out[q];
    free(idx);
    free(out);
    return isfinite(s) ? s / (double)nq : 0;
}

/* ---- seeds -------------------------------------------------------------------- */

typedef struct bin_tab {
    size_t cap, n;
    int64_t *keys;   /* n x dim */
    double *count;   /* n */
    size_t *slot;    /* cap */
} bin_tab;

static int bins_build(bin_tab *t, const double *X, const nagm_rowset *u, size_t dim, double bw)
{
    memset(t, 0, sizeof *t);
    t->cap = 16;
    while (t->cap < 2 * u->n + 2)
        t->cap *= 2;
    t->keys = malloc((u->n ? u->n : 1) * dim * sizeof *t->keys);
    t->count = malloc((u->n ? u->n : 1) * sizeof *t->count);
    t->slot = malloc(t->cap * sizeof *t->slot);
    if (!t->keys || !t->count || !t->slot)
        return -1;
    for (size_t i = 0; i < t->cap; i++)
        t->slot[i] = SIZE_MAX;
    int64_t *key = t->keys + t->n * dim;
    for (size_t p = 0; p < u->n; p++) {
        const double *x = X + u->rep[p] * dim;
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (size_t j = 0; j < dim; j++) {
            /* numpy.round: half to even, which nearbyint does in the default
             * rounding mode. */
            double r = nearbyint(x[j] / bw);
            key[j] = r > 9e18 ? INT64_MAX : r < -9e18 ? INT64_MIN : (int64_t)r;
            h = nagm_mix64(h ^ (uint64_t)key[j]) + j;
        }
        size_t s = (size_t)h & (t->cap - 1);
        for (;;) {
            if (t->slot[s] == SIZE_MAX) {
                t->slot[s] = t->n;
                t->count[t->n] = u->weight[p];
                t->n++;
                key = t->keys + t->n * dim;
                break;
            }
            if (!memcmp(t->keys + t->slot[s] * dim, key, dim * sizeof *key)) {
                t->count[t->slot[s]] += u->weight[p];
                break;
            }
            s = (s + 1) & (t->cap - 1);
        }
    }
    return 0;
}

static void bins_free(bin_tab *t)
{
    free(t->keys);
    free(t->count);
    free(t->slot);
}

/* ---- the shift ---------------------------------------------------------------- */

typedef struct ms_ctx {
    const double *X;
    size_t dim;
    const nagm_rowset *u;
    double bw, bw2;
    int max_iter;
    double *modes;    /* nseeds x dim: seeds in, converged modes out */
    double *weight;   /* nseeds: points within bandwidth at the end (0: none) */
    int fail;
} ms_ctx;

static void ms_task(void *ctx, size_t s)
{
    ms_ctx *c = ctx;
    size_t dim = c->dim;
    double *mean = c->modes + s * dim;
    double *acc = malloc(dim * sizeof *acc);
    if (!acc) {
        c->fail = 1;
        return;
    }
    double stop = 1e-3 * c->bw;
    double w = 0;
    for (int it = 0;; it++) {
        memset(acc, 0, dim * sizeof *acc);
        w = 0;
        for (size_t p = 0; p < c->u->n; p++) {
            const double *x = c->X + c->u->rep[p] * dim;
            if (nagm_sqdist(x, mean, dim) <= c->bw2) {
                double wp = c->u->weight[p];
                for (size_t j = 0; j < dim; j++)
                    acc[j] += wp * x[j];
                w += wp;
            }
        }
        if (w == 0)
            break;
        double shift = 0;
        for (size_t j = 0; j < dim; j++) {
            double v = acc[j] / w;
            shift += (v - mean[j]) * (v - mean[j]);
            mean[j] = v;
        }
        if (sqrt(shift) <= stop || it == c->max_iter)
            break;
    }
    c->weight[s] = w;
    free(acc);
}

typedef struct mode_ref {
    const double *x;
    double w;
    size_t dim;
} mode_ref;

static int cmp_mode(const void *a, const void *b)
{
    const mode_ref *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    for (size_t j = 0; j < x->dim; j++)
        if (x->x[j] != y->x[j])
            return x->x[j] > y->x[j] ? -1 : 1;
    return 0;
}

int nagm_meanshift_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                       nagm_clusters *c, char *errbuf)
{
    nagm_rowset u;
    if (nagm_rowset_build(&u, X, NULL, n, dim, 0) != 0)
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
    double bw = o->bandwidth;
    if (!(bw > 0)) {
        bw = nagm_meanshift_bandwidth(X, n, dim, o->quantile, o->seed);
        if (!(bw > 0) && u.n > 1) {
            /* Over a quantile of the points coincide: widen to all of them. */
            bw = nagm_meanshift_bandwidth(X, n, dim, 1.0, o->seed);
            snprintf(c->note, sizeof c->note,
                     "bandwidth estimated with quantile 1: most points coincide");
        }
    }
    c->bandwidth = bw;
    if (!(bw > 0)) {
        /* Every point is the same: one cluster there. */
        c->k = 1;
        c->centers = malloc(dim * sizeof *c->centers);
        nagm_rowset_free(&u);
        if (!c->centers)
            return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        memcpy(c->centers, X, dim * sizeof *c->centers);
        return 0;
    }

    bin_tab bins;
    ms_ctx m = {X, dim, &u, bw, bw * bw, o->max_iter, NULL, NULL, 0};
    mode_ref *ref = NULL;
    char *keep = NULL;
    int rc = 0;
    if (bins_build(&bins, X, &u, dim, bw) != 0) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        goto out;
    }
    size_t nseeds = 0;
    for (size_t b = 0; b < bins.n; b++)
        nseeds += bins.count[b] >= o->min_bin_freq;
    int use_points = nseeds == n; /* as scikit-learn: binning bought nothing */
    size_t cap = nseeds > u.n ? nseeds : u.n;
    m.modes = malloc(cap * dim * sizeof *m.modes);
    m.weight = malloc(cap * sizeof *m.weight);
    ref = malloc(cap * sizeof *ref);
    keep = malloc(cap);
    if (!m.modes || !m.weight || !ref || !keep) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        goto out;
    }
    size_t nm = 0;
    for (;;) {
        if (nseeds == 0)
            use_points = 1;
        if (use_points) {
            nseeds = u.n;
            for (size_t s = 0; s < nseeds; s++)
                memcpy(m.modes + s * dim, X + u.rep[s] * dim, dim * sizeof *m.modes);
        } else {
            size_t s = 0;
            for (size_t b = 0; b < bins.n; b++) {
                if (bins.count[b] < o->min_bin_freq)
                    continue;
                /* scikit-learn computes seeds in single precision. */
                for (size_t j = 0; j < dim; j++)
                    m.modes[s * dim + j] = (double)((float)bins.keys[b * dim + j] * (float)bw);
                s++;
            }
        }
        nagm_par_for(o->threads, nseeds, ms_task, &m);
        if (m.fail) {
            rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
            goto out;
        }
        for (size_t s = 0; s < nseeds; s++)
            if (m.weight[s] > 0)
                ref[nm++] = (mode_ref){m.modes + s * dim, m.weight[s], dim};
        if (nm > 0 || use_points)
            break;
        /* In many dimensions a grid corner can be farther than the bandwidth
         * from every point (scikit-learn stops with an error here). Every
         * distinct point then seeds: slower, but always finds the modes. */
        snprintf(c->note, sizeof c->note,
                 "no grid seed had a point within the bandwidth; every distinct point was "
                 "used as a seed");
        use_points = 1;
    }
    if (nm == 0) { /* cannot happen: a point seed has itself within reach */
        rc = nagm_ml_fail(errbuf, NAGM_ML_EINVAL,
                          "mean shift: no point within bandwidth %g of any seed", bw);
        goto out;
    }
    qsort(ref, nm, sizeof *ref, cmp_mode);
    /* Equal modes are one mode (scikit-learn keys them by value). */
    size_t w = 0;
    for (size_t i = 0; i < nm; i++)
        if (w == 0 || memcmp(ref[w - 1].x, ref[i].x, dim * sizeof(double)) != 0)
            ref[w++] = ref[i];
    nm = w;
    memset(keep, 1, nm);
    int k = 0;
    for (size_t i = 0; i < nm; i++) {
        if (!keep[i])
            continue;
        k++;
        for (size_t j = i + 1; j < nm; j++)
            if (keep[j] && nagm_sqdist(ref[i].x, ref[j].x, dim) <= m.bw2)
                keep[j] = 0;
    }
    c->k = k;
    c->centers = malloc((size_t)k * dim * sizeof *c->centers);
    if (!c->centers) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        goto out;
    }
    k = 0;
    for (size_t i = 0; i < nm; i++)
        if (keep[i])
            memcpy(c->centers + (size_t)(k++) * dim, ref[i].x, dim * sizeof(double));
out:
    bins_free(&bins);
    nagm_rowset_free(&u);
    free(m.modes);
    free(m.weight);
    free(ref);
    free(keep);
    return rc;
}
