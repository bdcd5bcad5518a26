/* CSV tables of the analysis: the encoded matrix (nagm.csv) and the
 * assignments. Numbers are written in the shortest form that reads back to
 * the same double, so two runs can be compared exactly as text. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_err.h"
#include "netagm/ml.h"

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
