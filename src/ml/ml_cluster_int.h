/* Internals of the clustering methods; the public entry is nagm_cluster_fit
 * (ml_cluster.c), which resolves defaults, then renumbers the clusters. */
#ifndef NETAGM_ML_CLUSTER_INT_H
#define NETAGM_ML_CLUSTER_INT_H

#include "netagm/ml.h"

struct nagm_ml_comm;

/* Each fills c->k, c->centers (k x dim) and method-specific fields; sizes,
 * sse and labels are computed afterwards from nagm_clusters_predict.
 * o has its defaults resolved. X holds this process's n rows; comm (NULL:
 * one process) joins them to the other processes' rows (ml_comm.h).
 * Return 0 or a negative NAGM_ML_E* code, the same on every process. */
int nagm_bisect_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                    const struct nagm_ml_comm *comm, nagm_clusters *c, char *errbuf);
int nagm_meanshift_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                       const struct nagm_ml_comm *comm, nagm_clusters *c, char *errbuf);

#endif
