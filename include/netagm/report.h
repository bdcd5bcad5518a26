/* netagm: the analysis report. Cluster profiles in network terms, and one
 * self-contained HTML page (inline SVG charts, inline CSS, no scripts, no
 * network access needed to view it). */
#ifndef NETAGM_REPORT_H
#define NETAGM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netagm/agm.h"
#include "netagm/ml.h"
#include "netagm/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The 22 AGM features (pkts .. len_mode_pkts, agm.md column order). */
#define NAGM_NFEATURES 22
#define NAGM_PROFILE_TOP 5

/* A value and how many rows have it. */
typedef struct nagm_topval {
    uint32_t value;
    uint64_t count;
} nagm_topval;

/* One cluster, described for a network engineer. */
typedef struct nagm_profile {
    int cluster;
    uint64_t size;
    double share;                        /* size / rows */
    double median[NAGM_NFEATURES];       /* per feature; dst_ip_mode: 0 (see top_dst_ip) */
    nagm_topval top_dst_port[NAGM_PROFILE_TOP]; /* most common dst_port_mode values */
    nagm_topval top_src_port[NAGM_PROFILE_TOP];
    nagm_topval top_flags[NAGM_PROFILE_TOP];    /* most common flags_mode values */
    nagm_topval top_proto[NAGM_PROFILE_TOP];
    int ntop_dst_port, ntop_src_port, ntop_flags, ntop_proto;
    size_t examples[NAGM_PROFILE_TOP];   /* row indices nearest the centre */
    int nexamples;
    double dist_median, dist_max;        /* distance to the centre */
    char label[64];                      /* short name: "SYN scanners (horizontal)" */
    char summary[768];                   /* one or two plain sentences */
} nagm_profile;

/* Name of feature i (0 <= i < NAGM_NFEATURES): "pkts", "dst_ip_uniq", ... */
const char *nagm_feature_name(int i);

/* Value of feature i of a row, as a number (dst_ip_mode gives 0). */
double nagm_feature_value(const nagm_agm_row *r, int i);

/* Profiles of clusters 0..k-1 from rows and their assignments. *out is a
 * malloc'd array of k profiles (caller frees). Returns 0 or -1 on ENOMEM. */
int nagm_profiles_compute(const nagm_agm_row *rows, const nagm_assign *a, size_t n, int k,
                          nagm_profile **out);

/* TCP flags as text ("SYN+ACK", "none"); buf holds 40 bytes. Returns buf. */
const char *nagm_flags_str(uint32_t flags, char *buf);

/* Well-known service of a port ("https"), or NULL. */
const char *nagm_port_service(uint32_t port);

/* Everything the report shows. Pointers are borrowed. */
typedef struct nagm_report_in {
    const char *title;          /* NULL: "netagm analysis" */
    const char *input_desc;     /* what was read, e.g. the -r paths or the table */
    const char *command;        /* the command line, or NULL */
    const nagm_agm_row *rows;   /* the rows analysed (after filtering) */
    size_t n;
    const nagm_model *model;
    const nagm_assign *assign;  /* n */
    const double *pcs;          /* n x model->pca.ncomp */
    const nagm_profile *profiles; /* model->clu.k, or NULL to compute them */
    const nagm_stats *stats;    /* capture statistics, or NULL for table input */
    uint64_t rows_read;         /* rows before the TCP filter (table input) */
    uint64_t rows_dropped;      /* rows dropped as non-TCP */
    uint64_t rows_mixed;        /* kept rows that mix TCP and other protocols */
    double t_read, t_train;     /* seconds: reading/aggregating, training */
    const char *outputs[8];     /* result files to list (NULL-terminated) */
} nagm_report_in;

/* Write the report as one HTML document to fp. Returns 0, or -1 on ENOMEM
 * or a write error (errbuf, 256 bytes, says which). */
int nagm_report_write_html(const nagm_report_in *in, FILE *fp, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
