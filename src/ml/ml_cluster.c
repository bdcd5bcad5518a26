/* Clustering entry point: defaults, the fewer-points-than-k rule, the
 * methods, then clusters renumbered by size and labels taken from
 * nagm_clusters_predict so that training and applying agree exactly.
 * With a comm the points are spread over processes (ml_comm.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_cluster_int.h"
#include "ml/ml_comm.h"
#include "ml/ml_err.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_par.h"
#include "ml/ml_rowset.h"

static const char *const method_names[] = {"bisecting", "kmeans", "meanshift"};

const char *nagm_cluster_method_name(nagm_cluster_method m)
{
    return (unsigned)m < 3 ? method_names[m] : "?";
}

int nagm_cluster_method_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, method_names[i]))
            return i;
    if (s && (!strcmp(s, "bisecting-kmeans") || !strcmp(s, "bkmeans")))
        return NAGM_CLU_BISECTING;
    if (s && (!strcmp(s, "k-means") || !strcmp(s, "mean-shift")))
        return s[0] == 'k' ? NAGM_CLU_KMEANS : NAGM_CLU_MEANSHIFT;
    return -1;
}

void nagm_cluster_opts_init(nagm_cluster_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method = NAGM_CLU_BISECTING;
    o->k = 4;
    o->tol = -1;
}

void nagm_clusters_clear(nagm_clusters *c)
{
    free(c->centers);
    free(c->sizes);
    free(c->sse);
    free(c->nodes);
    free(c->node_centers);
    free(c->labels);
    memset(c, 0, sizeof *c);
}

int32_t nagm_clusters_predict(const nagm_clusters *c, const double *x, double *dist)
{
    double d2;
    int32_t l;
    if (c->nnodes) {
        const nagm_bnode *nd = &c->nodes[0];
        while (nd->left >= 0) {
            const nagm_bnode *a = &c->nodes[nd->left], *b = &c->nodes[nd->right];
            double da = nagm_sqdist(x, a->center, c->dim);
            double db = nagm_sqdist(x, b->center, c->dim);
            nd = da <= db ? a : b;
        }
        l = nd->cluster;
        d2 = nagm_sqdist(x, c->centers + (size_t)l * c->dim, c->dim);
    } else {
        l = nagm_km_nearest(x, c->centers, c->k, c->dim, &d2);
    }
    if (dist)
        *dist = sqrt(d2);
    return l;
}

typedef struct pred_ctx {
    const nagm_clusters *c;
    const double *X;
    size_t n;
    int32_t *labels;
    double *d2;
} pred_ctx;

static void pred_task(void *ctx, size_t t)
{
    pred_ctx *p = ctx;
    size_t b = t * NAGM_PAR_CHUNK, e = b + NAGM_PAR_CHUNK < p->n ? b + NAGM_PAR_CHUNK : p->n;
    for (size_t i = b; i < e; i++) {
        double d;
        p->labels[i] = nagm_clusters_predict(p->c, p->X + i * p->c->dim, &d);
        p->d2[i] = d * d;
    }
}

typedef struct order_ref {
    uint64_t size;
    const double *center;
    size_t dim;
    int id;
} order_ref;

static int cmp_order(const void *a, const void *b)
{
    const order_ref *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    for (size_t j = 0; j < x->dim; j++)
        if (x->center[j] != y->center[j])
            return x->center[j] < y->center[j] ? -1 : 1;
    return x->id - y->id;
}

/* Predict every point; sizes and SSE per cluster over every process. The
 * SSE are summed by chunks (parts: nchunks x (k + 1), the last column the
 * inertia), added in chunk order. Returns 0 or -1 on ENOMEM. */
static int tally(nagm_clusters *c, const double *X, size_t n, int threads,
                 const nagm_ml_comm *comm, int32_t *labels, double *d2)
{
    size_t k = (size_t)c->k, nch = nagm_par_nchunks(n);
    double *parts = calloc((nch ? nch : 1) * (k + 1), sizeof *parts);
    double *acc = malloc((k + 1) * sizeof *acc);
    if (!parts || !acc) {
        free(parts);
        free(acc);
        return -1;
    }
    pred_ctx p = {c, X, n, labels, d2};
    nagm_par_for(threads, nch, pred_task, &p);
    memset(c->sizes, 0, k * sizeof *c->sizes);
    for (size_t i = 0; i < n; i++) {
        double *pt = parts + (i / NAGM_PAR_CHUNK) * (k + 1);
        c->sizes[labels[i]]++;
        pt[labels[i]] += d2[i];
        pt[k] += d2[i];
    }
    mlc_sum_u64(comm, c->sizes, k);
    mlc_sum_ordered(comm, parts, nch, k + 1, acc);
    memcpy(c->sse, acc, k * sizeof *c->sse);
    c->inertia = acc[k];
    free(parts);
    free(acc);
    return 0;
}

/* Number of distinct points over every process, counting up to stop_at:
 * each process offers its first stop_at distinct points to process 0, which
 * counts the distinct ones among them. Returns the count, or (size_t)-1 on
 * ENOMEM. */
static size_t distinct_upto(const double *X, size_t n, size_t dim, size_t stop_at,
                            const nagm_ml_comm *comm)
{
    nagm_rowset u;
    if (nagm_rowset_build(&u, X, NULL, n, dim, stop_at) != 0)
        return (size_t)-1;
    if (!mlc_multi(comm)) {
        size_t nu = u.n;
        nagm_rowset_free(&u);
        return nu;
    }
    size_t p = (size_t)comm->size;
    double *mine = malloc((u.n ? u.n : 1) * dim * sizeof *mine);
    size_t *len = calloc(p, sizeof *len), *off = calloc(p, sizeof *off);
    uint8_t *all = NULL;
    uint64_t count = 0;
    if (!mine || !len || !off) {
        comm->abort(comm->ctx, "out of memory clustering");
    } else {
        for (size_t q = 0; q < u.n; q++)
            memcpy(mine + q * dim, X + u.rep[q] * dim, dim * sizeof *mine);
        comm->gather(comm->ctx, mine, u.n * dim * sizeof *mine, &all, len, off);
        if (comm->rank == 0) {
            size_t total = 0;
            for (size_t s = 0; s < p; s++)
                total += len[s] / (dim * sizeof *mine);
            nagm_rowset g;
            if (nagm_rowset_build(&g, (const double *)(const void *)all, NULL, total, dim,
                                  stop_at) != 0)
                count = (uint64_t)-1;
            else
                count = g.n;
            nagm_rowset_free(&g);
        }
    }
    /* Out of memory anywhere ends the job below; the count is process 0's. */
    mlc_bcast(comm, &count, sizeof count, 0);
    nagm_rowset_free(&u);
    free(mine);
    free(len);
    free(off);
    free(all);
    return (size_t)count;
}

int nagm_cluster_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *opts,
                     nagm_clusters *c, int32_t *labels, char *errbuf)
{
    return nagm_cluster_fit_comm(X, n, dim, opts, NULL, c, labels, errbuf);
}

int nagm_cluster_fit_comm(const double *X, size_t n, size_t dim, const nagm_cluster_opts *opts,
                          const nagm_ml_comm *comm, nagm_clusters *c, int32_t *labels,
                          char *errbuf)
{
    memset(c, 0, sizeof *c);
    if (mlc_n(comm, n) == 0)
        return nagm_ml_fail(errbuf, NAGM_ML_EEMPTY, "no points to cluster");
    if (dim == 0)
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "points have no dimensions");
    nagm_cluster_opts o = *opts;
    if ((unsigned)o.method > NAGM_CLU_MEANSHIFT)
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "unknown clustering method %d", o.method);
    if (o.method != NAGM_CLU_MEANSHIFT && (o.k < 1 || o.k > 100000))
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "k must be 1..100000, got %d", o.k);
    if (o.n_init < 0 || o.n_init > 1000)
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "n_init must be 1..1000, got %d", o.n_init);
    if (o.n_init == 0)
        o.n_init = o.method == NAGM_CLU_KMEANS ? 10 : 3;
    if (o.max_iter <= 0)
        o.max_iter = 300;
    if (!(o.tol >= 0))
        o.tol = 1e-4;
    if (o.bandwidth < 0 || !isfinite(o.bandwidth))
        return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "bandwidth must be positive");
    if (!(o.quantile > 0 && o.quantile <= 1))
        o.quantile = 0.3;
    if (o.min_bin_freq < 1)
        o.min_bin_freq = 1;
    if (o.threads < 1)
        o.threads = 2;

    c->method = o.method;
    c->dim = dim;
    c->k_requested = o.method == NAGM_CLU_MEANSHIFT ? 0 : o.k;
    c->n_init = o.method == NAGM_CLU_MEANSHIFT ? 0 : o.n_init;
    c->seed = o.seed;

    int32_t *lab = labels ? labels : malloc((n ? n : 1) * sizeof *lab);
    double *d2 = malloc((n ? n : 1) * sizeof *d2);
    int rc = 0;
    if (!lab || !d2) {
        rc = mlc_nomem(comm, errbuf, "clustering");
        goto out;
    }

    if (o.method == NAGM_CLU_KMEANS) {
        /* k-means++ cannot place k distinct centres on fewer distinct points. */
        size_t nu = distinct_upto(X, n, dim, (size_t)o.k, comm);
        if (nu == (size_t)-1) {
            rc = mlc_nomem(comm, errbuf, "clustering");
            goto out;
        }
        int k = o.k;
        if (nu < (size_t)k) {
            snprintf(c->note, sizeof c->note,
                     "found %zu of %d clusters: the input has only %zu distinct points", nu,
                     o.k, nu);
            k = (int)nu;
        }
        c->k = k;
        c->centers = malloc((size_t)k * dim * sizeof *c->centers);
        nagm_rng rng;
        nagm_rng_seed(&rng, o.seed, 0);
        nagm_km_data d = {.X = X, .dim = dim, .idx = NULL, .m = n, .nrows = n,
                          .threads = o.threads, .comm = comm};
        if (!c->centers ||
            nagm_km_fit(&d, k, o.n_init, o.max_iter, o.tol, &rng, c->centers, NULL, NULL,
                        &c->n_iter) != 0) {
            rc = mlc_nomem(comm, errbuf, "in k-means");
            goto out;
        }
    } else if (o.method == NAGM_CLU_BISECTING) {
        rc = nagm_bisect_fit(X, n, dim, &o, comm, c, errbuf);
    } else {
        rc = nagm_meanshift_fit(X, n, dim, &o, comm, c, errbuf);
    }
    if (rc)
        goto out;
    c->dim = dim;
    c->sizes = calloc((size_t)c->k, sizeof *c->sizes);
    c->sse = calloc((size_t)c->k, sizeof *c->sse);
    order_ref *ord = malloc((size_t)c->k * sizeof *ord);
    double *nc = malloc((size_t)c->k * dim * sizeof *nc);
    int *newid = malloc((size_t)c->k * sizeof *newid);
    if (!c->sizes || !c->sse || !ord || !nc || !newid ||
        tally(c, X, n, o.threads, comm, lab, d2) != 0) {
        free(ord);
        free(nc);
        free(newid);
        rc = mlc_nomem(comm, errbuf, "clustering");
        goto out;
    }
    /* Number clusters by decreasing size, then predict again with the new
     * numbering: the labels returned are exactly what apply computes. */
    for (int l = 0; l < c->k; l++)
        ord[l] = (order_ref){c->sizes[l], c->centers + (size_t)l * dim, dim, l};
    qsort(ord, (size_t)c->k, sizeof *ord, cmp_order);
    for (int l = 0; l < c->k; l++) {
        memcpy(nc + (size_t)l * dim, ord[l].center, dim * sizeof *nc);
        newid[ord[l].id] = l;
    }
    memcpy(c->centers, nc, (size_t)c->k * dim * sizeof *nc);
    for (size_t v = 0; v < c->nnodes; v++)
        if (c->nodes[v].cluster >= 0)
            c->nodes[v].cluster = newid[c->nodes[v].cluster];
    free(ord);
    free(nc);
    free(newid);
    if (tally(c, X, n, o.threads, comm, lab, d2) != 0)
        rc = mlc_nomem(comm, errbuf, "clustering");
out:
    if (lab != labels)
        free(lab);
    free(d2);
    if (rc)
        nagm_clusters_clear(c);
    return rc;
}
