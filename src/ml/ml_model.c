/* The model: encoder + scaler + PCA + clustering, trained in one call and
 * applied row by row with the very same functions, so that applying a model
 * to its training rows reproduces the training assignments bit for bit. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml_comm.h"
#include "ml/ml_err.h"
#include "netagm/ml.h"
#include "util/clock.h"

void nagm_train_opts_init(nagm_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k_src_port = NAGM_NAGM_DEFAULT_K_SRC_PORT;
    o->k_dst_port = NAGM_NAGM_DEFAULT_K_DST_PORT;
    o->k_flags = NAGM_NAGM_DEFAULT_K_FLAGS;
    o->tcp_only = 1;
    o->pca = NAGM_PCA_DEFAULT;
    nagm_cluster_opts_init(&o->cluster);
}

void nagm_model_free(nagm_model *m)
{
    if (!m)
        return;
    nagm_scaler_clear(&m->scaler);
    nagm_pca_clear(&m->pca);
    nagm_clusters_clear(&m->clu);
    free(m);
}

size_t nagm_model_dim(const nagm_model *m)
{
    return nagm_nagm_dim(&m->enc);
}

static int cmp_addr(const void *a, const void *b)
{
    return nagm_addr_cmp(a, b);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct sources and windows, first and last time. */
int nagm_model_summarize(nagm_train_summary *s, const nagm_agm_row *rows, size_t n)
{
    nagm_addr *a = malloc(n * sizeof *a);
    int64_t *w = malloc(n * sizeof *w);
    if (!a || !w) {
        free(a);
        free(w);
        return -1;
    }
    s->first_ns = rows[0].window_start_ns;
    s->last_ns = rows[0].window_end_ns;
    for (size_t i = 0; i < n; i++) {
        a[i] = rows[i].src;
        w[i] = rows[i].window_start_ns;
        if (rows[i].window_start_ns < s->first_ns)
            s->first_ns = rows[i].window_start_ns;
        if (rows[i].window_end_ns > s->last_ns)
            s->last_ns = rows[i].window_end_ns;
    }
    qsort(a, n, sizeof *a, cmp_addr);
    qsort(w, n, sizeof *w, cmp_i64);
    s->rows = n;
    s->sources = s->windows = 0;
    for (size_t i = 0; i < n; i++) {
        s->sources += i == 0 || nagm_addr_cmp(&a[i - 1], &a[i]) != 0;
        s->windows += i == 0 || w[i - 1] != w[i];
    }
    free(a);
    free(w);
    return 0;
}

int nagm_model_train(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o,
                     nagm_model **out, nagm_assign *assign, double *pcs, double **X_out,
                     char *errbuf)
{
    return nagm_model_train_comm(rows, n, o, NULL, out, assign, pcs, X_out, errbuf);
}

int nagm_model_train_comm(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o,
                          const nagm_ml_comm *comm, nagm_model **out, nagm_assign *assign,
                          double *pcs, double **X_out, char *errbuf)
{
    *out = NULL;
    if (X_out)
        *X_out = NULL;
    if (mlc_n(comm, n) == 0)
        return nagm_ml_fail(errbuf, NAGM_ML_EEMPTY, "no AGM rows to analyze");
    size_t n1 = n ? n : 1; /* this process may hold no rows */
    double t0 = nagm_now_s();
    nagm_model *m = calloc(1, sizeof *m);
    if (!m)
        return mlc_nomem(comm, errbuf, "training");
    m->version = NAGM_MODEL_VERSION;
    m->tcp_only = o->tcp_only;
    m->cluster_on_pcs = o->cluster_on_pcs;
    double *X = NULL, *Y = NULL;
    int32_t *labels = NULL;
    int rc = nagm_nagm_init(&m->enc, o->k_src_port, o->k_dst_port, o->k_flags, errbuf);
    if (rc || (rc = nagm_nagm_fit_comm(&m->enc, rows, n, comm, errbuf)) != 0)
        goto fail;
    size_t d = nagm_nagm_dim(&m->enc);
    size_t ncomp = o->pca < 1 ? 1 : o->pca > d ? d : o->pca;
    X = malloc(n1 * d * sizeof *X);
    Y = malloc(n1 * ncomp * sizeof *Y);
    labels = malloc(n1 * sizeof *labels);
    if (!X || !Y || !labels) {
        if (mlc_multi(comm))
            mlc_nomem(comm, errbuf, "for the encoded matrix");
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory for %zu x %zu matrix", n, d);
        goto fail;
    }
    nagm_nagm_encode(&m->enc, rows, n, X);
    if (X_out) {
        *X_out = malloc(n1 * d * sizeof **X_out);
        if (!*X_out) {
            rc = mlc_nomem(comm, errbuf, "for the encoded matrix");
            goto fail;
        }
        memcpy(*X_out, X, n * d * sizeof *X);
    }
    if ((rc = nagm_scaler_fit_comm(&m->scaler, X, n, d, comm, errbuf)) != 0)
        goto fail;
    nagm_scaler_transform(&m->scaler, X, n);
    if ((rc = nagm_pca_fit_comm(&m->pca, X, n, d, ncomp, comm, errbuf)) != 0)
        goto fail;
    nagm_pca_transform(&m->pca, X, n, Y);
    const double *space = m->cluster_on_pcs ? Y : X;
    size_t sd = m->cluster_on_pcs ? ncomp : d;
    if ((rc = nagm_cluster_fit_comm(space, n, sd, &o->cluster, comm, &m->clu, labels, errbuf)) !=
        0)
        goto fail;
    for (size_t i = 0; assign && i < n; i++) {
        assign[i].cluster = nagm_clusters_predict(&m->clu, space + i * sd, &assign[i].distance);
        if (assign[i].cluster != labels[i]) { /* impossible by construction */
            rc = nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "internal error: labels disagree");
            goto fail;
        }
    }
    if (pcs)
        memcpy(pcs, Y, n * ncomp * sizeof *Y);
    /* Over several processes the caller holding every row summarises. */
    if (!mlc_multi(comm) && nagm_model_summarize(&m->train, rows, n) != 0) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory");
        goto fail;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char ts[NAGM_TS_STRLEN];
    nagm_ts_format((int64_t)now.tv_sec * 1000000000, ts);
    snprintf(m->train.created, sizeof m->train.created, "%.19sZ", ts);
    m->train.seconds = nagm_now_s() - t0;
    free(X);
    free(Y);
    free(labels);
    *out = m;
    return 0;
fail:
    free(X);
    free(Y);
    free(labels);
    if (X_out) {
        free(*X_out);
        *X_out = NULL;
    }
    nagm_model_free(m);
    return rc;
}

void nagm_model_apply_row(const nagm_model *m, const nagm_agm_row *r, double *work,
                          nagm_assign *a, double *pcs)
{
    size_t d = nagm_nagm_dim(&m->enc);
    double *x = work, *y = work + d;
    nagm_nagm_encode_row(&m->enc, r, x);
    nagm_scaler_transform_row(&m->scaler, x);
    if (pcs || m->cluster_on_pcs)
        nagm_pca_transform_row(&m->pca, x, y);
    a->cluster = nagm_clusters_predict(&m->clu, m->cluster_on_pcs ? y : x, &a->distance);
    if (pcs)
        memcpy(pcs, y, m->pca.ncomp * sizeof *pcs);
}

int nagm_model_apply(const nagm_model *m, const nagm_agm_row *rows, size_t n,
                     nagm_assign *assign, double *pcs, char *errbuf)
{
    double *work = malloc(2 * nagm_model_dim(m) * sizeof *work);
    if (!work)
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        nagm_model_apply_row(m, &rows[i], work, &assign[i], pcs ? pcs + i * m->pca.ncomp : NULL);
    free(work);
    return 0;
}
