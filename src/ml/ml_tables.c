/* Tables of the analysis: the encoded matrix (nagm.csv) and the
 * assignments, as CSV or (assignments) Parquet. CSV numbers are written in
 * the shortest form that reads back to the same double, so two runs can be
 * compared exactly as text; Parquet stores the doubles themselves. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_err.h"
#include "netagm/ml.h"
#include "netagm/parquet.h"

static void put_num(FILE *fp, double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v + 0.0);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, fp);
}

int nagm_nagm_write_csv(FILE *fp, const nagm_encoder *e, const nagm_agm_row *rows,
                        const double *X, size_t n)
{
    size_t d = nagm_nagm_dim(e);
    char name[48], addr[NAGM_ADDR_STRLEN], ts[NAGM_TS_STRLEN];
    fputs("src_ip,window_start", fp);
    for (size_t j = 0; j < d; j++)
        fprintf(fp, ",%s", nagm_nagm_col_name(e, j, name));
    fputs("\r\n", fp);
    for (size_t i = 0; i < n; i++) {
        nagm_addr_format(&rows[i].src, addr);
        nagm_ts_format(rows[i].window_start_ns, ts);
        fprintf(fp, "%s,%s", addr, ts);
        for (size_t j = 0; j < d; j++) {
            fputc(',', fp);
            put_num(fp, X[i * d + j]);
        }
        fputs("\r\n", fp);
    }
    return ferror(fp) ? -NAGM_ML_EIO : 0;
}

int nagm_assign_write_csv(FILE *fp, const nagm_agm_row *rows, const nagm_assign *a,
                          const double *pcs, size_t ncomp, size_t npc, size_t n)
{
    char addr[NAGM_ADDR_STRLEN], dst[NAGM_ADDR_STRLEN], ts0[NAGM_TS_STRLEN],
        ts1[NAGM_TS_STRLEN];
    if (npc > ncomp)
        npc = ncomp;
    if (!pcs)
        npc = 0;
    fputs("src_ip,window_start,window_end,cluster,distance", fp);
    for (size_t c = 0; c < npc; c++)
        fprintf(fp, ",pc%zu", c + 1);
    /* The 22 AGM features, in the AGM table's column order. */
    for (int i = 3; i < NAGM_AGM_NCOLS; i++)
        fprintf(fp, ",%s", nagm_agm_col_name(i));
    fputs("\r\n", fp);
    for (size_t i = 0; i < n; i++) {
        const nagm_agm_row *r = &rows[i];
        nagm_addr_format(&r->src, addr);
        nagm_addr_format(&r->dst_ip_mode, dst);
        nagm_ts_format(r->window_start_ns, ts0);
        nagm_ts_format(r->window_end_ns, ts1);
        fprintf(fp, "%s,%s,%s,%" PRId32 ",", addr, ts0, ts1, a[i].cluster);
        put_num(fp, a[i].distance);
        for (size_t c = 0; c < npc; c++) {
            fputc(',', fp);
            put_num(fp, pcs[i * ncomp + c]);
        }
        fprintf(fp, ",%" PRIu64 ",%" PRIu64 ",%s,%" PRIu64, r->pkts, r->uniq[0], dst,
                r->mode_pkts[0]);
        for (int f = 1; f < NAGM_NFIELDS; f++)
            fprintf(fp, ",%" PRIu64 ",%" PRIu32 ",%" PRIu64, r->uniq[f], r->mode[f],
                    r->mode_pkts[f]);
        fputs("\r\n", fp);
    }
    return ferror(fp) ? -NAGM_ML_EIO : 0;
}

/* Type of AGM column i (3 <= i < NAGM_AGM_NCOLS) as the AGM table has it. */
static nagm_pq_type agm_type(int i)
{
    if (i == 3)
        return NAGM_PQ_INT64; /* pkts */
    int k = (i - 4) % 3;      /* 0 uniq, 1 mode, 2 mode_pkts */
    if (k != 1)
        return NAGM_PQ_INT64;
    return (i - 4) / 3 == NAGM_F_DST_IP ? NAGM_PQ_STRING : NAGM_PQ_INT32;
}

int nagm_assign_write_parquet(const char *path, const nagm_agm_row *rows, const nagm_assign *a,
                              const double *pcs, size_t ncomp, size_t npc, size_t n,
                              const nagm_parquet_opts *opts, char *errbuf)
{
    if (npc > ncomp)
        npc = ncomp;
    if (!pcs)
        npc = 0;
    /* src_ip, window_start, window_end, cluster, distance, pcs, features */
    size_t ncols = 5 + npc + (NAGM_AGM_NCOLS - 3);
    nagm_pq_column *cols = malloc(ncols * sizeof *cols);
    char *names = malloc(npc * 24 + 1);
    if (!cols || !names) {
        free(cols);
        free(names);
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory writing %s", path);
    }
    size_t k = 0;
    /* Dictionaries where values repeat: windows, clusters, small counts
     * and modes; not for addresses (one per source and window) nor for
     * distances and components (nearly all distinct). */
    cols[k++] = (nagm_pq_column){"src_ip", NAGM_PQ_STRING, 0};
    cols[k++] = (nagm_pq_column){"window_start", NAGM_PQ_TS_MICROS, 1};
    cols[k++] = (nagm_pq_column){"window_end", NAGM_PQ_TS_MICROS, 1};
    cols[k++] = (nagm_pq_column){"cluster", NAGM_PQ_INT32, 1};
    cols[k++] = (nagm_pq_column){"distance", NAGM_PQ_DOUBLE, 0};
    for (size_t c = 0; c < npc; c++) {
        char *nm = names + 24 * c;
        snprintf(nm, 24, "pc%zu", c + 1);
        cols[k++] = (nagm_pq_column){nm, NAGM_PQ_DOUBLE, 0};
    }
    for (int i = 3; i < NAGM_AGM_NCOLS; i++)
        cols[k++] = (nagm_pq_column){nagm_agm_col_name(i), agm_type(i), 1};

    static const char *const kv[] = {"netagm.table", "assignments", "netagm.schema",
                                     "assignments/1", NULL};
    char perr[NAGM_PQ_ERRBUF_SIZE];
    nagm_pq_writer *w;
    int r = nagm_pq_open(path, cols, ncols, kv, opts, &w, perr);
    free(cols);
    free(names);
    if (r < 0) /* names the path, or says why standard output is refused */
        return nagm_ml_fail(errbuf, NAGM_ML_EIO, "%s", perr);

    char addr[NAGM_ADDR_STRLEN];
    for (size_t i = 0; i < n; i++) {
        const nagm_agm_row *row = &rows[i];
        size_t c = 0;
        nagm_pq_put_str(w, c++, addr, nagm_addr_format(&row->src, addr));
        nagm_pq_put_i64(w, c++, nagm_ns_to_us_floor(row->window_start_ns));
        nagm_pq_put_i64(w, c++, nagm_ns_to_us_floor(row->window_end_ns));
        nagm_pq_put_i32(w, c++, a[i].cluster);
        nagm_pq_put_f64(w, c++, a[i].distance);
        for (size_t p = 0; p < npc; p++)
            nagm_pq_put_f64(w, c++, pcs[i * ncomp + p]);
        nagm_pq_put_i64(w, c++, (int64_t)row->pkts);
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            nagm_pq_put_i64(w, c++, (int64_t)row->uniq[f]);
            if (f == NAGM_F_DST_IP)
                nagm_pq_put_str(w, c++, addr, nagm_addr_format(&row->dst_ip_mode, addr));
            else
                nagm_pq_put_i32(w, c++, (int32_t)row->mode[f]);
            nagm_pq_put_i64(w, c++, (int64_t)row->mode_pkts[f]);
        }
        if (nagm_pq_end_row(w) < 0)
            break; /* the cause is kept: nagm_pq_close reports it */
    }
    if (nagm_pq_close(w, perr) < 0)
        return nagm_ml_fail(errbuf, NAGM_ML_EIO, "%s: %s", path, perr);
    return 0;
}
