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
#include "ml/ml_err.h"
#include "ml/ml_kmeans.h"

int nagm_bisect_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                    nagm_clusters *c, char *errbuf)
{
    int k = o->k;
    size_t maxnodes = 2 * (size_t)k - 1;
    c->nodes = calloc(maxnodes, sizeof *c->nodes);
    c->node_centers = calloc(maxnodes * dim, sizeof *c->node_centers);
    size_t **pts = calloc(maxnodes, sizeof *pts); /* points of each leaf */
    int32_t *lab = malloc(n * sizeof *lab);
    char *stuck = calloc(maxnodes, 1);
    int rc = 0;
    if (!c->nodes || !c->node_centers || !pts || !lab || !stuck) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in bisecting k-means");
        goto out;
    }
    nagm_rng rng;
    nagm_rng_seed(&rng, o->seed, 0);

    /* The root: every point, centred on the mean. */
    pts[0] = malloc(n * sizeof **pts);
    if (!pts[0]) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in bisecting k-means");
        goto out;
    }
    double *root = c->node_centers;
    for (size_t i = 0; i < n; i++) {
        pts[0][i] = i;
        for (size_t j = 0; j < dim; j++)
            root[j] += X[i * dim + j];
    }
    for (size_t j = 0; j < dim; j++)
        root[j] /= (double)n;
    double sse = 0;
    for (size_t i = 0; i < n; i++)
        sse += nagm_sqdist(X + i * dim, root, dim);
    c->nodes[0] = (nagm_bnode){-1, -1, -1, -1, n, sse, root};
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
        size_t m = p->size;
        nagm_km_data d = {X, dim, pts[pick], m, o->threads};
        double cent[2 * 1024];
        double *cc = dim <= 1024 ? cent : malloc(2 * dim * sizeof *cc);
        if (!cc || nagm_km_fit(&d, 2, o->n_init, o->max_iter, o->tol, &rng, cc, lab, NULL, NULL)) {
            if (cc != cent)
                free(cc);
            rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in bisecting k-means");
            goto out;
        }
        size_t cnt[2] = {0, 0};
        for (size_t i = 0; i < m; i++)
            cnt[lab[i]]++;
        if (cnt[0] == 0 || cnt[1] == 0) {
            stuck[pick] = 1; /* cannot happen with distinct points; be safe */
            if (cc != cent)
                free(cc);
            continue;
        }
        size_t *side[2] = {malloc(cnt[0] * sizeof(size_t)), malloc(cnt[1] * sizeof(size_t))};
        if (!side[0] || !side[1]) {
            free(side[0]);
            free(side[1]);
            if (cc != cent)
                free(cc);
            rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in bisecting k-means");
            goto out;
        }
        double s[2] = {0, 0};
        size_t fill[2] = {0, 0};
        for (size_t i = 0; i < m; i++) {
            int l = lab[i];
            side[l][fill[l]++] = pts[pick][i];
            s[l] += nagm_sqdist(X + pts[pick][i] * dim, cc + (size_t)l * dim, dim);
        }
        for (int l = 0; l < 2; l++) {
            size_t v = c->nnodes++;
            double *ctr = c->node_centers + v * dim;
            memcpy(ctr, cc + (size_t)l * dim, dim * sizeof *ctr);
            c->nodes[v] = (nagm_bnode){pick, -1, -1, -1, cnt[l], s[l], ctr};
            pts[v] = side[l];
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
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory in bisecting k-means");
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
    free(lab);
    free(stuck);
    return rc;
}
