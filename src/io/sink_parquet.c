/* AGM rows as Parquet: agm.md's 25 columns, in order, with the same values
 * as the CSV writer (times truncated to microseconds, addresses as text);
 * with a model, cluster and distance after them, as the text sinks print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/parquet.h"
#include "netagm/stream.h"

/* Columns after the 25 when the rows are scored. */
#define SCORE_COLS 2

typedef struct pq_sink {
    nagm_sink base; /* first: the sink vtable */
    nagm_pq_writer *w;
} pq_sink;

/* Column i of the AGM table (agm.md "Output columns"): window times, src_ip,
 * pkts, then per field X: X_uniq, X_mode, X_mode_pkts. */
static nagm_pq_type col_type(int i)
{
    if (i < 2)
        return NAGM_PQ_TS_MICROS;
    if (i == 2)
        return NAGM_PQ_STRING;
    if (i == 3)
        return NAGM_PQ_INT64;
    int k = (i - 4) % 3; /* 0 uniq, 1 mode, 2 mode_pkts */
    if (k != 1)
        return NAGM_PQ_INT64;
    return (i - 4) / 3 == NAGM_F_DST_IP ? NAGM_PQ_STRING : NAGM_PQ_INT32;
}

/* The 25 AGM columns of one row (the row is not ended). */
static void put_row(nagm_pq_writer *w, const nagm_agm_row *row)
{
    char addr[NAGM_ADDR_STRLEN];
    nagm_pq_put_i64(w, 0, nagm_ns_to_us_floor(row->window_start_ns));
    nagm_pq_put_i64(w, 1, nagm_ns_to_us_floor(row->window_end_ns));
    nagm_pq_put_str(w, 2, addr, nagm_addr_format(&row->src, addr));
    nagm_pq_put_i64(w, 3, (int64_t)row->pkts);
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        size_t c = 4 + 3 * (size_t)f;
        nagm_pq_put_i64(w, c, (int64_t)row->uniq[f]);
        if (f == NAGM_F_DST_IP)
            nagm_pq_put_str(w, c + 1, addr, nagm_addr_format(&row->dst_ip_mode, addr));
        else
            nagm_pq_put_i32(w, c + 1, (int32_t)row->mode[f]);
        nagm_pq_put_i64(w, c + 2, (int64_t)row->mode_pkts[f]);
    }
}

static int end_row(nagm_sink *s, nagm_pq_writer *w)
{
    if (nagm_pq_end_row(w) < 0) {
        snprintf(s->err, sizeof s->err, "%s", nagm_pq_error(w));
        return NAGM_SINK_ERROR;
    }
    return NAGM_SINK_OK;
}

static int pq_write(nagm_sink *s, const nagm_agm_row *rows, size_t n)
{
    nagm_pq_writer *w = ((pq_sink *)s)->w;
    for (size_t r = 0; r < n; r++) {
        put_row(w, &rows[r]);
        if (end_row(s, w) != NAGM_SINK_OK)
            return NAGM_SINK_ERROR;
    }
    return NAGM_SINK_OK;
}

/* write() of a scored sink: rows without scores cannot fill its schema. */
static int pq_write_unscored(nagm_sink *s, const nagm_agm_row *rows, size_t n)
{
    (void)rows;
    if (n == 0)
        return NAGM_SINK_OK;
    snprintf(s->err, sizeof s->err, "parquet: rows without cluster and distance for a table "
                                     "that has those columns");
    return NAGM_SINK_ERROR;
}

int nagm_sink_parquet_write_scored(nagm_sink *s, const nagm_agm_row *rows,
                                   const nagm_row_score *score, size_t n)
{
    if (s->write != pq_write_unscored) {
        snprintf(s->err, sizeof s->err, "parquet: this table has no cluster and distance "
                                         "columns");
        return NAGM_SINK_ERROR;
    }
    if (n && !score)
        return pq_write_unscored(s, rows, n);
    nagm_pq_writer *w = ((pq_sink *)s)->w;
    for (size_t r = 0; r < n; r++) {
        put_row(w, &rows[r]);
        nagm_pq_put_i32(w, NAGM_AGM_NCOLS, score[r].cluster);
        nagm_pq_put_f64(w, NAGM_AGM_NCOLS + 1, score[r].distance);
        if (end_row(s, w) != NAGM_SINK_OK)
            return NAGM_SINK_ERROR;
    }
    return NAGM_SINK_OK;
}

static int pq_close(nagm_sink *s)
{
    pq_sink *ps = (pq_sink *)s;
    char err[NAGM_PQ_ERRBUF_SIZE];
    int r = nagm_pq_close(ps->w, err);
    free(ps);
    if (r < 0) {
        /* s->err dies with s: this is the last place the cause is known. */
        fprintf(stderr, "netagm: %s\n", err);
        return NAGM_SINK_ERROR;
    }
    return NAGM_SINK_OK;
}

static nagm_sink *open_sink(const char *path, const nagm_parquet_opts *opts, int scored,
                            char *errbuf)
{
    nagm_pq_column cols[NAGM_AGM_NCOLS + SCORE_COLS];
    size_t ncols = NAGM_AGM_NCOLS;
    for (int i = 0; i < NAGM_AGM_NCOLS; i++) {
        cols[i].name = nagm_agm_col_name(i);
        cols[i].type = col_type(i);
        /* Everything but src_ip repeats a lot inside a row group (windows,
         * small counts, common modes); src_ip is unique per window. */
        cols[i].dictionary = i != 2;
    }
    if (scored) {
        cols[ncols++] = (nagm_pq_column){"cluster", NAGM_PQ_INT32, 1};
        cols[ncols++] = (nagm_pq_column){"distance", NAGM_PQ_DOUBLE, 0};
    }
    /* The first 25 columns are the agm/1 table in both cases; cluster and
     * distance follow them as in stream's CSV and JSON Lines rows. */
    static const char *const kv[] = {"netagm.table", "agm", "netagm.schema", "agm/1", NULL};
    pq_sink *ps = calloc(1, sizeof *ps);
    if (!ps) {
        snprintf(errbuf, NAGM_PQ_ERRBUF_SIZE, "parquet: out of memory");
        return NULL;
    }
    if (nagm_pq_open(path, cols, ncols, kv, opts, &ps->w, errbuf) < 0) {
        free(ps);
        return NULL;
    }
    ps->base.write = scored ? pq_write_unscored : pq_write;
    ps->base.flush = NULL;
    ps->base.close = pq_close;
    return &ps->base;
}

nagm_sink *nagm_sink_parquet_new(const char *path, const nagm_parquet_opts *opts, char *errbuf)
{
    return open_sink(path, opts, 0, errbuf);
}

nagm_sink *nagm_sink_parquet_scored_new(const char *path, const nagm_parquet_opts *opts,
                                        char *errbuf)
{
    return open_sink(path, opts, 1, errbuf);
}
