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
 * nothing in the result and saves most of the work on real AGM data.
 *
 * Over several processes (ml_comm.h), process 0 runs it: every process
 * sends its distinct points with their weights, and the rows of the
 * bandwidth sample it holds; process 0 merges them into the distinct points
 * of all the rows (in order of first appearance, as one process finds them),
 * runs the steps above and sends the modes to the others. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_cluster_int.h"
#include "ml/ml_comm.h"
#include "ml/ml_err.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_par.h"
#include "ml/ml_rng.h"
#include "ml/ml_rowset.h"
#include "util/hash.h"
#include "util/select.h"

/* ---- bandwidth estimate ------------------------------------------------------ */


typedef struct bw_ctx {
    const double *S; /* the sample, nref x dim */
    size_t dim;
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
    const double *x = b->S + q * b->dim;
    for (size_t r = 0; r < b->nref; r++)
        dist[r] = sqrt(nagm_sqdist(x, b->S + r * b->dim, b->dim));
    b->out[q] = nagm_kth_smallest(dist, b->nref, b->kth);
    free(dist);
}

/* Which points the estimate looks at: idx[0..nref) (nref = min(n, 10000)),
 * the first nref of a seeded partial Fisher-Yates shuffle of 0..n-1 (all of
 * them in order when n <= 10000). Only the positions the shuffle touches
 * are kept (a small hash map), not an array of n. *idx is malloc'd.
 * Returns 0 or -1 on ENOMEM. */
static int bw_sample(size_t n, uint64_t seed, size_t **idx, size_t *nref)
{
    size_t nr = n < 10000 ? n : 10000;
    *nref = nr;
    *idx = malloc((nr ? nr : 1) * sizeof **idx);
    if (!*idx)
        return -1;
    if (nr == n) {
        for (size_t i = 0; i < n; i++)
            (*idx)[i] = i;
        return 0;
    }
    size_t cap = 16;
    while (cap < 4 * nr)
        cap *= 2;
    size_t *key = malloc(cap * sizeof *key), *val = malloc(cap * sizeof *val);
    if (!key || !val) {
        free(key);
        free(val);
        free(*idx);
        *idx = NULL;
        return -1;
    }
    for (size_t i = 0; i < cap; i++)
        key[i] = SIZE_MAX;
    /* The slot of position q: where it is, or where it goes. */
#define SLOT(q, h)                                                                                   for (h = (size_t)nagm_mix64((uint64_t)(q)) & (cap - 1); key[h] != SIZE_MAX && key[h] != (q);          h = (h + 1) & (cap - 1))
    nagm_rng rng;
    nagm_rng_seed(&rng, seed, 0xba9d);
    for (size_t i = 0; i < nr; i++) {
        size_t j = i + (size_t)nagm_rng_below(&rng, n - i), hi, hj;
        SLOT(i, hi);
        size_t vi = key[hi] == i ? val[hi] : i;
        SLOT(j, hj);
        size_t vj = key[hj] == j ? val[hj] : j;
        key[hj] = j;
        val[hj] = vi;
        /* Position i is never drawn again: its value is final. */
        (*idx)[i] = vj;
    }
#undef SLOT
    free(key);
    free(val);
    return 0;
}

/* The estimate on a sample S (nref x dim, in sample order). */
static double bw_on_sample(const double *S, size_t nref, size_t dim, double quantile)
{
    if (nref == 0)
        return 0;
    if (!(quantile > 0) || quantile > 1)
        quantile = 0.3;
    size_t nq = nref < 1000 ? nref : 1000;
    double *out = malloc(nq * sizeof *out);
    if (!out)
        return 0;
    size_t nn = (size_t)((double)nref * quantile);
    if (nn < 1)
        nn = 1;
    /* The nn nearest include the point itself, as in scikit-learn. */
    bw_ctx b = {S, dim, nref, nq, nn - 1, out};
    nagm_par_for(2, nq, bw_task, &b);
    double s = 0;
    for (size_t q = 0; q < nq; q++)
        s += out[q];
    free(out);
    return isfinite(s) ? s / (double)nq : 0;
}

/* The sample rows of X (n rows) into *S (malloc'd). Returns 0 or -1. */
static int bw_sample_rows(const double *X, size_t n, size_t dim, uint64_t seed, double **S,
                          size_t *nref)
{
    size_t *idx;
    *S = NULL;
    if (bw_sample(n, seed, &idx, nref) != 0)
        return -1;
    *S = malloc((*nref ? *nref : 1) * dim * sizeof **S);
    if (*S)
        for (size_t q = 0; q < *nref; q++)
            memcpy(*S + q * dim, X + idx[q] * dim, dim * sizeof **S);
    free(idx);
    return *S ? 0 : -1;
}

double nagm_meanshift_bandwidth(const double *X, size_t n, size_t dim, double quantile,
                                uint64_t seed)
{
    if (n == 0)
        return 0;
    double *S;
    size_t nref;
    if (bw_sample_rows(X, n, dim, seed, &S, &nref) != 0)
        return 0;
    double bw = bw_on_sample(S, nref, dim, quantile);
    free(S);
    return bw;
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

/* Mean shift over n points whose distinct values are u (rows of X with
 * weights). S (nref x dim) is the bandwidth sample, unused when
 * o->bandwidth is given. */
static int ms_core(const double *X, const nagm_rowset *u, size_t n, size_t dim,
                   const nagm_cluster_opts *o, const double *S, size_t nref, nagm_clusters *c,
                   char *errbuf)
{
    double bw = o->bandwidth;
    if (!(bw > 0)) {
        bw = bw_on_sample(S, nref, dim, o->quantile);
        if (!(bw > 0) && u->n > 1) {
            /* Over a quantile of the points coincide: widen to all of them. */
            bw = bw_on_sample(S, nref, dim, 1.0);
            snprintf(c->note, sizeof c->note,
                     "bandwidth estimated with quantile 1: most points coincide");
        }
    }
    c->bandwidth = bw;
    if (!(bw > 0)) {
        /* Every point is the same: one cluster there. */
        c->k = 1;
        c->centers = malloc(dim * sizeof *c->centers);
        if (!c->centers)
            return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        memcpy(c->centers, X + u->rep[0] * dim, dim * sizeof *c->centers);
        return 0;
    }

    bin_tab bins;
    ms_ctx m = {X, dim, u, bw, bw * bw, o->max_iter, NULL, NULL, 0};
    mode_ref *ref = NULL;
    char *keep = NULL;
    int rc = 0;
    if (bins_build(&bins, X, u, dim, bw) != 0) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        goto out;
    }
    size_t nseeds = 0;
    for (size_t b = 0; b < bins.n; b++)
        nseeds += bins.count[b] >= o->min_bin_freq;
    int use_points = nseeds == n; /* as scikit-learn: binning bought nothing */
    size_t cap = nseeds > u->n ? nseeds : u->n;
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
            nseeds = u->n;
            for (size_t s = 0; s < nseeds; s++)
                memcpy(m.modes + s * dim, X + u->rep[s] * dim, dim * sizeof *m.modes);
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
    free(m.modes);
    free(m.weight);
    free(ref);
    free(keep);
    return rc;
}

/* Process 0's mean shift over the distinct points of every process. */
static int meanshift_dist(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                          const nagm_ml_comm *comm, const nagm_rowset *u, nagm_clusters *c,
                          char *errbuf)
{
    size_t p = (size_t)comm->size, w = dim + 1, nall = comm->n;
    size_t *len = calloc(p, sizeof *len), *off = calloc(p, sizeof *off);
    size_t *sidx = NULL, nref = 0, nmine = 0;
    double *mine = calloc((u->n ? u->n : 1) * w, sizeof *mine);
    double *smine = NULL;
    uint8_t *all = NULL, *sall = NULL;
    int sample = !(o->bandwidth > 0);
    if (!len || !off || !mine || (sample && bw_sample(nall, o->seed, &sidx, &nref) != 0))
        comm->abort(comm->ctx, "out of memory in mean shift");
    /* Distinct points, each followed by its weight. */
    for (size_t q = 0; q < u->n; q++) {
        memcpy(mine + q * w, X + u->rep[q] * dim, dim * sizeof *mine);
        mine[q * w + dim] = u->weight[q];
    }
    comm->gather(comm->ctx, mine, u->n * w * sizeof *mine, &all, len, off);
    /* The sample rows this process holds, each after its place in the sample. */
    if (sample) {
        if (!(smine = calloc((nref ? nref : 1) * w, sizeof *smine)))
            comm->abort(comm->ctx, "out of memory in mean shift");
        for (size_t q = 0; q < nref; q++) {
            if (sidx[q] < comm->row0 || sidx[q] - comm->row0 >= n)
                continue;
            smine[nmine * w] = (double)q;
            memcpy(smine + nmine * w + 1, X + (sidx[q] - comm->row0) * dim, dim * sizeof *smine);
            nmine++;
        }
        size_t *slen = calloc(p, sizeof *slen), *soff = calloc(p, sizeof *soff);
        if (!slen || !soff)
            comm->abort(comm->ctx, "out of memory in mean shift");
        comm->gather(comm->ctx, smine, nmine * w * sizeof *smine, &sall, slen, soff);
        free(slen);
        free(soff);
    }
    int32_t rc = 0;
    char err[NAGM_ML_ERRBUF] = "";
    if (comm->rank == 0) {
        size_t total = 0;
        for (size_t s = 0; s < p; s++)
            total += len[s] / (w * sizeof(double));
        const double *rows = (const double *)(const void *)all;
        double *Xg = malloc((total ? total : 1) * dim * sizeof *Xg);
        double *wg = malloc((total ? total : 1) * sizeof *wg);
        double *S = sample ? malloc((nref ? nref : 1) * dim * sizeof *S) : NULL;
        nagm_rowset g;
        memset(&g, 0, sizeof g);
        if (!Xg || !wg || (sample && !S))
            comm->abort(comm->ctx, "out of memory in mean shift");
        for (size_t q = 0; q < total; q++) {
            memcpy(Xg + q * dim, rows + q * w, dim * sizeof *Xg);
            wg[q] = rows[q * w + dim];
        }
        if (sample) {
            /* Every sample position is held by exactly one process. */
            const double *sr = (const double *)(const void *)sall;
            for (size_t q = 0; q < nref; q++)
                memcpy(S + (size_t)sr[q * w] * dim, sr + q * w + 1, dim * sizeof *S);
        }
        if (nagm_rowset_build_w(&g, Xg, NULL, total, dim, 0, wg) != 0)
            comm->abort(comm->ctx, "out of memory in mean shift");
        rc = ms_core(Xg, &g, nall, dim, o, S, nref, c, err);
        nagm_rowset_free(&g);
        free(Xg);
        free(wg);
        free(S);
    }
    free(len);
    free(off);
    free(sidx);
    free(mine);
    free(smine);
    free(all);
    free(sall);
    /* The result, from process 0. */
    comm->bcast(comm->ctx, &rc, sizeof rc, 0);
    if (rc) {
        comm->bcast(comm->ctx, err, sizeof err, 0);
        if (errbuf)
            memcpy(errbuf, err, NAGM_ML_ERRBUF);
        return rc;
    }
    int32_t k = c->k;
    comm->bcast(comm->ctx, &k, sizeof k, 0);
    comm->bcast(comm->ctx, &c->bandwidth, sizeof c->bandwidth, 0);
    comm->bcast(comm->ctx, c->note, sizeof c->note, 0);
    if (comm->rank != 0) {
        c->k = k;
        if (!(c->centers = malloc((size_t)k * dim * sizeof *c->centers)))
            comm->abort(comm->ctx, "out of memory in mean shift");
    }
    comm->bcast(comm->ctx, c->centers, (size_t)k * dim * sizeof *c->centers, 0);
    return 0;
}

int nagm_meanshift_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                       const nagm_ml_comm *comm, nagm_clusters *c, char *errbuf)
{
    nagm_rowset u;
    if (nagm_rowset_build(&u, X, NULL, n, dim, 0) != 0)
        return mlc_nomem(comm, errbuf, "in mean shift");
    int rc;
    if (mlc_multi(comm)) {
        rc = meanshift_dist(X, n, dim, o, comm, &u, c, errbuf);
    } else {
        double *S = NULL;
        size_t nref = 0;
        if (!(o->bandwidth > 0) && bw_sample_rows(X, n, dim, o->seed, &S, &nref) != 0)
            rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in mean shift");
        else
            rc = ms_core(X, &u, n, dim, o, S, nref, c, errbuf);
        free(S);
    }
    nagm_rowset_free(&u);
    return rc;
}
