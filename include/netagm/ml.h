/* netagm: the analysis half. AGM rows -> Numerical AGM vectors (docs/agm.md,
 * "Numerical AGM") -> z-score scaler -> PCA (LAPACK) -> clustering
 * (bisecting k-means, k-means, mean shift) -> a model that can be saved as
 * JSON and applied to new rows. See docs/analysis.md for every rule.
 *
 * Matrices are dense, row-major doubles: row i of an n x d matrix X starts at
 * X + i*d. Every fit is deterministic for a given input and seed.
 * Functions return 0 or a negative error code (NAGM_ML_E*) and write a
 * message into errbuf (NAGM_ML_ERRBUF bytes) when errbuf is not NULL.
 */
#ifndef NETAGM_ML_H
#define NETAGM_ML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netagm/agm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NAGM_ML_ERRBUF 512

enum nagm_ml_err {
    NAGM_ML_EINVAL = 1, /* bad argument or option */
    NAGM_ML_ENOMEM,
    NAGM_ML_EEMPTY,     /* no rows to work on */
    NAGM_ML_ELAPACK,    /* the eigensolver failed */
    NAGM_ML_EIO,        /* cannot read or write a file */
    NAGM_ML_EFORMAT,    /* a model file is damaged or inconsistent */
    NAGM_ML_EVERSION    /* a model file of an unsupported version */
};

/* ---- Numerical AGM encoding ------------------------------------------------ */

/* The 15 numeric columns, then the one-hot fields in this order. */
#define NAGM_NAGM_NNUM 15
enum nagm_onehot { NAGM_OH_SRC_PORT = 0, NAGM_OH_DST_PORT, NAGM_OH_FLAGS, NAGM_OH_N };
#define NAGM_NAGM_MAX_K 1024
#define NAGM_NAGM_DEFAULT_K_SRC_PORT 10
#define NAGM_NAGM_DEFAULT_K_DST_PORT 10
#define NAGM_NAGM_DEFAULT_K_FLAGS 16
/* Dimension with the default K (15 + 10 + 10 + 16). */
#define NAGM_NAGM_DIM 51

/* The encoding: K columns per one-hot field, and the categories chosen on
 * the training data. A field always takes k[f] columns; when the training
 * data had fewer distinct modes than k[f], the last k[f] - ncat[f] columns
 * stand for no value and are always 0. */
typedef struct nagm_encoder {
    int k[NAGM_OH_N];                      /* columns per field */
    int ncat[NAGM_OH_N];                   /* categories chosen (<= k) */
    uint32_t cat[NAGM_OH_N][NAGM_NAGM_MAX_K]; /* in column order */
} nagm_encoder;

/* Set K per field (1..NAGM_NAGM_MAX_K each) with no categories yet.
 * Returns 0 or -NAGM_ML_EINVAL. */
int nagm_nagm_init(nagm_encoder *e, int k_src_port, int k_dst_port, int k_flags, char *errbuf);

/* Choose each field's categories on rows: the k values that are the mode of
 * the most rows, ties to the smaller value. Returns 0 or -NAGM_ML_ENOMEM. */
int nagm_nagm_fit(nagm_encoder *e, const nagm_agm_row *rows, size_t n, char *errbuf);

/* Number of columns: 15 + sum of k. */
size_t nagm_nagm_dim(const nagm_encoder *e);

/* Name of column i into buf ("pkts", "dst_port_mode=443",
 * "flags_mode=unused3", ...). Returns buf. buf must hold 48 bytes. */
const char *nagm_nagm_col_name(const nagm_encoder *e, size_t i, char *buf);

/* Encode one row into out[nagm_nagm_dim(e)]. Pure; thread-safe. */
void nagm_nagm_encode_row(const nagm_encoder *e, const nagm_agm_row *r, double *out);

/* Encode n rows into X (n x dim, caller-allocated). */
void nagm_nagm_encode(const nagm_encoder *e, const nagm_agm_row *rows, size_t n, double *X);

/* TCP-only filter for rows read back from an AGM table (docs/analysis.md):
 * 1 if the row keeps a TCP-only analysis meaningful, i.e. unless the source
 * sent only non-TCP packets (proto_uniq == 1 and proto_mode != 6). */
int nagm_nagm_row_has_tcp(const nagm_agm_row *r);

/* ---- scaler ------------------------------------------------------------------ */

/* Z-score with the sample standard deviation (n - 1). A column whose
 * deviation is 0 (or n < 2) maps to 0. */
typedef struct nagm_scaler {
    size_t dim;
    double *mean; /* owned, dim */
    double *std;  /* owned, dim; 0 = constant column */
} nagm_scaler;

/* Fit on X (n x dim). Allocates s->mean and s->std (free with
 * nagm_scaler_clear). n == 0 gives means 0 and std 0. */
int nagm_scaler_fit(nagm_scaler *s, const double *X, size_t n, size_t dim, char *errbuf);

/* Scale one row in place. Pure; thread-safe. */
void nagm_scaler_transform_row(const nagm_scaler *s, double *x);

/* Scale n rows in place. */
void nagm_scaler_transform(const nagm_scaler *s, double *X, size_t n);

void nagm_scaler_clear(nagm_scaler *s);

/* ---- PCA -------------------------------------------------------------------- */

/* PCA from the sample covariance matrix (n - 1), eigendecomposed with
 * LAPACKE_dsyevr. Components are sorted by decreasing variance; each has its
 * largest absolute loading positive (the first such loading on ties). */
typedef struct nagm_pca {
    size_t dim;         /* input dimension */
    size_t ncomp;       /* components kept (1..dim) */
    double *mean;       /* owned, dim: the column means subtracted */
    double *components; /* owned, ncomp x dim, row-major */
    double *variance;   /* owned, dim: explained variance of every component */
    double *ratio;      /* owned, dim: explained variance ratio (0 if total is 0) */
} nagm_pca;

/* Fit on X (n x dim), keeping ncomp components (clamped to dim).
 * Returns 0, -NAGM_ML_EINVAL, -NAGM_ML_ENOMEM or -NAGM_ML_ELAPACK. */
int nagm_pca_fit(nagm_pca *p, const double *X, size_t n, size_t dim, size_t ncomp, char *errbuf);

/* Project one row: out[j] = (x - mean) . component_j, j < ncomp. Pure. */
void nagm_pca_transform_row(const nagm_pca *p, const double *x, double *out);

/* Project n rows into Y (n x ncomp, caller-allocated). */
void nagm_pca_transform(const nagm_pca *p, const double *X, size_t n, double *Y);

void nagm_pca_clear(nagm_pca *p);

/* ---- clustering ------------------------------------------------------------- */

typedef enum nagm_cluster_method {
    NAGM_CLU_BISECTING = 0, /* bisecting k-means (default; the paper's method) */
    NAGM_CLU_KMEANS,        /* k-means, k-means++ seeding, best of n_init */
    NAGM_CLU_MEANSHIFT      /* flat-kernel mean shift with bin seeding */
} nagm_cluster_method;

/* Name ("bisecting", "kmeans", "meanshift") and parse (-1 if unknown). */
const char *nagm_cluster_method_name(nagm_cluster_method m);
int nagm_cluster_method_parse(const char *s);

typedef struct nagm_cluster_opts {
    nagm_cluster_method method;
    int k;              /* clusters wanted (k-means, bisecting); default 4 */
    int n_init;         /* k-means runs (best inertia wins); 0 = default
                           (10 for k-means, 3 per split for bisecting) */
    int max_iter;       /* Lloyd iterations per run; 0 = 300 */
    double tol;         /* relative tolerance on centre movement; <0 = 1e-4 */
    uint64_t seed;
    double bandwidth;   /* mean shift: 0 = estimate */
    double quantile;    /* mean shift bandwidth estimate; 0 = 0.3 */
    int min_bin_freq;   /* mean shift bin seeding; 0 = 1 */
    int threads;        /* 0 = 2; results do not depend on it */
} nagm_cluster_opts;

/* Defaults: bisecting, k 4, seed 0. */
void nagm_cluster_opts_init(nagm_cluster_opts *o);

/* A node of the bisecting tree. Node 0 is the root. A split node has two
 * children with larger indices; a leaf has left == right == -1 and a
 * cluster id. Points are assigned by walking down to the nearer child. */
typedef struct nagm_bnode {
    int32_t parent, left, right;
    int32_t cluster;   /* leaf: cluster id; inner node: -1 */
    uint64_t size;     /* training points below */
    double sse;        /* their squared distance to this node's centre */
    double *center;    /* dim values (points into nagm_clusters.node_centers) */
} nagm_bnode;

/* A fitted clustering in some space of dimension dim. */
typedef struct nagm_clusters {
    nagm_cluster_method method;
    size_t dim;
    int k;               /* clusters found */
    double *centers;     /* owned, k x dim */
    uint64_t *sizes;     /* owned, k: training points per cluster */
    double *sse;         /* owned, k: training SSE per cluster */
    double inertia;      /* sum of sse */
    int k_requested;
    int n_init;
    int n_iter;          /* Lloyd iterations of the best run (k-means) */
    uint64_t seed;
    double bandwidth;    /* mean shift */
    size_t nnodes;       /* bisecting tree (0 otherwise) */
    nagm_bnode *nodes;   /* owned */
    double *node_centers;/* owned, nnodes x dim */
    char note[256];      /* why fewer clusters than asked, or "" */
    char (*labels)[64];  /* owned, k short descriptions ("SYN scanners ..."), set
                            by the caller after profiling (report.h); may be NULL */
} nagm_clusters;

/* Cluster X (n x dim) with o. On success *c is filled (free with
 * nagm_clusters_clear) and, when labels is not NULL, labels[i] gets each
 * point's cluster, equal to nagm_clusters_predict on that point.
 * Clusters are numbered by decreasing size (ties: smaller centre first).
 * Fewer distinct points than k gives fewer clusters and a note, not an
 * error. Returns 0, -NAGM_ML_EEMPTY (n == 0), -NAGM_ML_EINVAL,
 * -NAGM_ML_ENOMEM. */
int nagm_cluster_fit(const double *X, size_t n, size_t dim, const nagm_cluster_opts *o,
                     nagm_clusters *c, int32_t *labels, char *errbuf);

/* Cluster of one point (dim values) and, if dist is not NULL, its Euclidean
 * distance to that cluster's centre. Ties go to the smaller cluster id
 * (bisecting: to the left child). Pure; thread-safe. */
int32_t nagm_clusters_predict(const nagm_clusters *c, const double *x, double *dist);

/* Estimate a mean shift bandwidth: the mean distance from up to 1000 sampled
 * points to their (quantile * m)-th nearest neighbour among m <= 10000 sampled
 * points. Returns 0 when all points coincide. */
double nagm_meanshift_bandwidth(const double *X, size_t n, size_t dim, double quantile,
                                uint64_t seed);

void nagm_clusters_clear(nagm_clusters *c);

/* ---- the model ------------------------------------------------------------------ */

#define NAGM_MODEL_VERSION 1
#define NAGM_PCA_DEFAULT 3

typedef struct nagm_train_opts {
    int k_src_port, k_dst_port, k_flags; /* one-hot widths (defaults 10/10/16) */
    int tcp_only;        /* recorded in the model: rows were built from TCP packets */
    size_t pca;          /* components kept (default NAGM_PCA_DEFAULT) */
    int cluster_on_pcs;  /* cluster the first `pca` components, not the scaled vectors */
    nagm_cluster_opts cluster;
} nagm_train_opts;

void nagm_train_opts_init(nagm_train_opts *o);

/* Training summary kept in the model (and shown in the report). */
typedef struct nagm_train_summary {
    uint64_t rows;        /* AGM rows trained on */
    uint64_t sources;     /* distinct src_ip among them */
    uint64_t windows;     /* distinct windows */
    int64_t first_ns, last_ns; /* earliest window_start, latest window_end */
    double seconds;       /* fit time */
    char input[512];      /* description of the input, set by the caller */
    char created[32];     /* UTC time the model was built, ISO 8601 */
} nagm_train_summary;

typedef struct nagm_model {
    int version;
    int tcp_only;
    nagm_encoder enc;
    nagm_scaler scaler;
    nagm_pca pca;
    int cluster_on_pcs;
    nagm_clusters clu;
    nagm_train_summary train;
} nagm_model;

/* Per-row result of assigning a row to the model. */
typedef struct nagm_assign {
    int32_t cluster;
    double distance; /* Euclidean distance to the cluster centre, in the
                        clustering space: the anomaly score */
} nagm_assign;

/* Train a model on rows (n >= 1). *out is malloc'd (nagm_model_free).
 * When assign / pcs are not NULL they receive each row's assignment and
 * its first model->pca.ncomp principal components (n x ncomp), exactly as
 * nagm_model_apply would compute them. When X_out is not NULL it receives
 * the encoded, unscaled matrix (n x dim, malloc'd; caller frees). */
int nagm_model_train(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o,
                     nagm_model **out, nagm_assign *assign, double *pcs, double **X_out,
                     char *errbuf);

/* Dimension of the encoded vectors and of the clustering space. */
size_t nagm_model_dim(const nagm_model *m);

/* Apply to n rows: encode, scale, project, assign. pcs (n x ncomp) may be
 * NULL. Pure with respect to the model; thread-safe. */
int nagm_model_apply(const nagm_model *m, const nagm_agm_row *rows, size_t n,
                     nagm_assign *assign, double *pcs, char *errbuf);

/* Same for one row; work must hold 2 * nagm_model_dim(m) doubles. For
 * stream mode: no allocation. pcs (ncomp values) may be NULL. */
void nagm_model_apply_row(const nagm_model *m, const nagm_agm_row *r, double *work,
                          nagm_assign *a, double *pcs);

/* Save as one JSON file (written to path.tmp, then renamed). */
int nagm_model_save(const nagm_model *m, const char *path, char *errbuf);

/* Serialise to a malloc'd NUL-terminated JSON string (caller frees). */
int nagm_model_to_json(const nagm_model *m, char **json, char *errbuf);

/* Load and check everything (version, dimensions, tree, finite numbers).
 * Returns 0, -NAGM_ML_EIO, -NAGM_ML_EFORMAT (damaged or inconsistent; errbuf
 * says where), -NAGM_ML_EVERSION, -NAGM_ML_ENOMEM. */
int nagm_model_load(const char *path, nagm_model **out, char *errbuf);
int nagm_model_from_json(const char *json, size_t len, nagm_model **out, char *errbuf);

void nagm_model_free(nagm_model *m);

/* ---- tables ------------------------------------------------------------------------ */

/* Write an n x dim matrix as CSV with a header of the encoder's column
 * names, preceded by src_ip and window_start (rows gives them). Numbers are
 * printed with 17 significant digits. Returns 0 or -NAGM_ML_EIO. */
int nagm_nagm_write_csv(FILE *fp, const nagm_encoder *e, const nagm_agm_row *rows,
                        const double *X, size_t n);

/* Write assignments as CSV: src_ip, window_start, window_end, cluster,
 * distance, pc1..pcN (N = min(npc, ncomp)), then the 22 AGM features.
 * pcs is n x ncomp (may be NULL when npc is 0). Returns 0 or -NAGM_ML_EIO. */
int nagm_assign_write_csv(FILE *fp, const nagm_agm_row *rows, const nagm_assign *a,
                          const double *pcs, size_t ncomp, size_t npc, size_t n);

/* The same table as Parquet at path ("-": standard output, refused when it
 * is a terminal), column for column (docs/parquet.md, "The assignments
 * table"): src_ip STRING, window_start and window_end TIMESTAMP(MICROS,
 * UTC), cluster INT32, distance and pc1..pcN DOUBLE, then the 22 AGM
 * features typed as in the AGM table. opts (parquet.h) may be NULL for the
 * defaults. Returns 0, or -NAGM_ML_EIO / -NAGM_ML_ENOMEM with errbuf set. */
struct nagm_parquet_opts;
int nagm_assign_write_parquet(const char *path, const nagm_agm_row *rows, const nagm_assign *a,
                              const double *pcs, size_t ncomp, size_t npc, size_t n,
                              const struct nagm_parquet_opts *opts, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
