/* Bisecting k-means. Start with every point in one cluster; while there are
 * fewer than k clusters, split the leaf with the largest SSE (sum of squared
 * distances to its centre; ties to the older leaf) into two with 2-means
 * (best of n_init k-means++ runs). A leaf whose points all coincide cannot be
 * split; when no leaf can, the fit stops with fewer clusters and says so.
 * The tree is kept: a new point walks from the root to the nearer child at
 * each level, which reproduces the training assignment exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_cluster_int.h"
#include "ml/ml_comm.h"
#include "ml/ml_err.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_par.h"

/* Sums over points go by chunks of NAGM_PAR_CHUNK rows whose partials are
 * added in chunk order (ml_comm.h), so that the tree is the same on one
 * process or spread over several. */

/* The root: centre (the mean) and SSE of this process's n rows, over every
 * process. parts: nchunks(n) x dim. */
static void root_stats(const double *X, size_t n, size_t dim, size_t nall,
                       const nagm_ml_comm *comm, double *parts, double *root, double *sse)
{
    size_t nch = nagm_par_nchunks(n);
    for (size_t t = 0; t < nch; t++) {
        size_t b = t * NAGM_PAR_CHUNK, e = b + NAGM_PAR_CHUNK < n ? b + NAGM_PAR_CHUNK : n;
        double *acc = parts + t * dim;
        memset(acc, 0, dim * sizeof *acc);
        for (size_t i = b; i < e; i++)
            for (size_t j = 0; j < dim; j++)
                acc[j] += X[i * dim + j];
    }
    mlc_sum_ordered(comm, parts, nch, dim, root);
    for (size_t j = 0; j < dim; j++)
        root[j] /= (double)nall;
    for (size_t t = 0; t < nch; t++) {
        size_t b = t * NAGM_PAR_CHUNK, e = b + NAGM_PAR_CHUNK < n ? b + NAGM_PAR_CHUNK : n;
        double acc = 0;
        for (size_t i = b; i < e; i++)
            acc += nagm_sqdist(X + i * dim, root, dim);
        parts[t] = acc;
    }
    mlc_sum_ordered(comm, parts, nch, 1, sse);
}

int nagm_bisect_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                    const nagm_ml_comm *comm, nagm_clusters *c, char *errbuf)
{
    int k = o->k;
    size_t maxnodes = 2 * (size_t)k - 1, nall = mlc_n(comm, n), n1 = n ? n : 1;
    size_t nch = nagm_par_nchunks(n);
    c->nodes = calloc(maxnodes, sizeof *c->nodes);
    c->node_centers = calloc(maxnodes * dim, sizeof *c->node_centers);
    size_t **pts = calloc(maxnodes, sizeof *pts); /* this process's points of each leaf */
    size_t *npts = calloc(maxnodes, sizeof *npts);  /* how many */
    int32_t *lab = malloc(n1 * sizeof *lab);
    char *stuck = calloc(maxnodes, 1);
    double *parts = malloc((nch ? nch : 1) * (dim > 2 ? dim : 2) * sizeof *parts);
    int rc = 0;
    if (!c->nodes || !c->node_centers || !pts || !npts || !lab || !stuck || !parts) {
        rc = mlc_nomem(comm, errbuf, "in bisecting k-means");
        goto out;
    }
    nagm_rng rng;
    nagm_rng_seed(&rng, o->seed, 0);

    /* The root: every point, centred on the mean. */
    pts[0] = malloc(n1 * sizeof **pts);
    if (!pts[0]) {
        rc = mlc_nomem(comm, errbuf, "in bisecting k-means");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        pts[0][i] = i;
    npts[0] = n;
    double *root = c->node_centers, sse;
    root_stats(X, n, dim, nall, comm, parts, root, &sse);
    c->nodes[0] = (nagm_bnode){-1, -1, -1, -1, nall, sse, root};
    c->nnodes = 1;
    int leaves = 1;

    while (leaves < k) {
        int pick = -1;
        for (size_t v = 0; v < c->nnodes; v++) {
            nagm_bnode *nd = &c->nodes[v];
            if (nd->left >= 0 || stuck[v] || nd->size < 2 || !(nd->sse > 0))
                continue;
            if (pick < 0 || nd->sse > c->nodes[pick].sse)
                pick = (int)v;
        }
        if (pick < 0) {
            snprintf(c->note, sizeof c->note,
                     "found %d of %d clusters: the remaining clusters hold identical points",
                     leaves, k);
            break;
        }
        nagm_bnode *p = &c->nodes[pick];
        size_t m = npts[pick];
        nagm_km_data d = {.X = X, .dim = dim, .idx = pts[pick], .m = m, .nrows = n,
                          .threads = o->threads, .comm = comm};
        double cent[2 * 1024];
        double *cc = dim <= 1024 ? cent : malloc(2 * dim * sizeof *cc);
        if (!cc || nagm_km_fit(&d, 2, o->n_init, o->max_iter, o->tol, &rng, cc, lab, NULL, NULL)) {
            if (cc != cent)
                free(cc);
            rc = mlc_nomem(comm, errbuf, "in bisecting k-means");
            goto out;
        }
        size_t lcnt[2] = {0, 0};
        for (size_t i = 0; i < m; i++)
            lcnt[lab[i]]++;
        uint64_t cnt[2] = {lcnt[0], lcnt[1]};
        mlc_sum_u64(comm, cnt, 2);
        if (cnt[0] == 0 || cnt[1] == 0) {
            stuck[pick] = 1; /* cannot happen with distinct points; be safe */
            if (cc != cent)
                free(cc);
            continue;
        }
        size_t *side[2] = {malloc((lcnt[0] ? lcnt[0] : 1) * sizeof(size_t)),
                           malloc((lcnt[1] ? lcnt[1] : 1) * sizeof(size_t))};
        if (!side[0] || !side[1]) {
            free(side[0]);
            free(side[1]);
            if (cc != cent)
                free(cc);
            rc = mlc_nomem(comm, errbuf, "in bisecting k-means");
            goto out;
        }
        /* Each side's SSE by chunks of rows (parts: nch x 2). */
        size_t fill[2] = {0, 0};
        memset(parts, 0, (nch ? nch : 1) * 2 * sizeof *parts);
        for (size_t i = 0; i < m; i++) {
            int l = lab[i];
            size_t r = pts[pick][i];
            side[l][fill[l]++] = r;
            parts[(r / NAGM_PAR_CHUNK) * 2 + (size_t)l] +=
                nagm_sqdist(X + r * dim, cc + (size_t)l * dim, dim);
        }
        double s[2];
        mlc_sum_ordered(comm, parts, nch, 2, s);
        for (int l = 0; l < 2; l++) {
            size_t v = c->nnodes++;
            double *ctr = c->node_centers + v * dim;
            memcpy(ctr, cc + (size_t)l * dim, dim * sizeof *ctr);
            c->nodes[v] = (nagm_bnode){pick, -1, -1, -1, cnt[l], s[l], ctr};
            pts[v] = side[l];
            npts[v] = lcnt[l];
        }
        p = &c->nodes[pick];
        p->left = (int32_t)(c->nnodes - 2);
        p->right = (int32_t)(c->nnodes - 1);
        free(pts[pick]);
        pts[pick] = NULL;
        leaves++;
        if (cc != cent)
            free(cc);
    }

    /* Leaves become clusters in node order (renumbered by size later). */
    c->k = leaves;
    c->centers = malloc((size_t)leaves * dim * sizeof *c->centers);
    if (!c->centers) {
        rc = mlc_nomem(comm, errbuf, "in bisecting k-means");
        goto out;
    }
    int id = 0;
    for (size_t v = 0; v < c->nnodes; v++) {
        c->nodes[v].cluster = -1;
        if (c->nodes[v].left < 0) {
            c->nodes[v].cluster = id;
            memcpy(c->centers + (size_t)id * dim, c->nodes[v].center, dim * sizeof(double));
            id++;
        }
    }
out:
    if (pts)
        for (size_t v = 0; v < maxnodes; v++)
            free(pts[v]);
    free(pts);
    free(npts);
    free(lab);
    free(stuck);
    free(parts);
    return rc;
}
