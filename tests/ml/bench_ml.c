/* Benchmark (not a test) of the analysis on synthetic data: encoding,
 * scaling, PCA and clustering of N sources (default 1,000,000) as one
 * nagm_model_train call, then applying the model to every row.
 * Build and run with tests/ml/bench_ml.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_rng.h"
#include "netagm/ml.h"
#include "util/clock.h"

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const char *method = argc > 2 ? argv[2] : "bisecting";
    nagm_agm_row *rows = calloc(n, sizeof *rows);
    nagm_assign *a = malloc(n * sizeof *a);
    double *pcs = malloc(n * NAGM_PCA_DEFAULT * sizeof *pcs);
    if (!rows || !a || !pcs)
        return 1;
    /* Four kinds of source with random counts, ports, TTLs and lengths:
     * almost every row is distinct, the hardest case for the clustering. */
    static const uint16_t svc[] = {22, 23, 80, 443, 445, 3389, 8080, 25, 53, 110, 143, 993};
    nagm_rng r;
    nagm_rng_seed(&r, 1, 2);
    for (size_t i = 0; i < n; i++) {
        nagm_agm_row *w = &rows[i];
        int kind = (int)nagm_rng_below(&r, 4);
        w->src = nagm_addr_v4((uint32_t)i);
        w->dst_ip_mode = nagm_addr_v4(1);
        uint64_t pk = 1 + nagm_rng_below(&r, kind == 0 ? 3 : 400);
        w->pkts = pk;
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            w->uniq[f] = 1 + nagm_rng_below(&r, pk);
            w->mode_pkts[f] = 1 + nagm_rng_below(&r, pk);
        }
        w->mode[NAGM_F_PROTO] = 6;
        w->mode[NAGM_F_TTL] = 30 + (uint32_t)nagm_rng_below(&r, 220);
        w->mode[NAGM_F_SRC_PORT] =
            kind == 2 ? svc[nagm_rng_below(&r, 12)] : 1024 + (uint32_t)nagm_rng_below(&r, 60000);
        w->mode[NAGM_F_DST_PORT] =
            kind != 2 ? svc[nagm_rng_below(&r, 12)] : 1024 + (uint32_t)nagm_rng_below(&r, 60000);
        w->mode[NAGM_F_FLAGS] = (uint32_t)nagm_rng_below(&r, 32);
        w->mode[NAGM_F_LEN] = 40 + (uint32_t)nagm_rng_below(&r, 1460);
    }
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    int m = nagm_cluster_method_parse(method);
    if (m < 0) {
        fprintf(stderr, "unknown method %s\n", method);
        return 2;
    }
    o.cluster.method = (nagm_cluster_method)m;
    nagm_model *model;
    char err[NAGM_ML_ERRBUF];
    double t0 = nagm_now_s();
    if (nagm_model_train(rows, n, &o, &model, a, pcs, NULL, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t1 = nagm_now_s();
    nagm_model_apply(model, rows, n, a, pcs, err);
    double t2 = nagm_now_s();
    printf("%zu sources x %zu features, %s k=%d: train (encode, scale, PCA, cluster) %.2f s, "
           "apply %.2f s\n",
           n, nagm_model_dim(model), method, model->clu.k, t1 - t0, t2 - t1);
    nagm_model_free(model);
    free(rows);
    free(a);
    free(pcs);
    return 0;
}
