/* CSV (RFC 4180) and JSON Lines writers for AGM rows. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/sink.h"

typedef struct text_sink {
    nagm_sink base;
    FILE *fp;
    int own_fp;
    int header_done;
    int json;
} text_sink;

nagm_format nagm_format_from_name(const char *name)
{
    if (!name)
        return NAGM_FMT_AUTO;
    if (!strcmp(name, "csv"))
        return NAGM_FMT_CSV;
    if (!strcmp(name, "jsonl") || !strcmp(name, "json") || !strcmp(name, "ndjson"))
        return NAGM_FMT_JSONL;
    if (!strcmp(name, "parquet"))
        return NAGM_FMT_PARQUET;
    return NAGM_FMT_AUTO;
}

nagm_format nagm_format_from_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return NAGM_FMT_AUTO;
    return nagm_format_from_name(dot + 1);
}

/* Write one row's 25 values; CSV separates with ',', JSON writes "key":value. */
static void write_row(FILE *fp, const nagm_agm_row *r, int json)
{
    char ts0[NAGM_TS_STRLEN], ts1[NAGM_TS_STRLEN], src[NAGM_ADDR_STRLEN], dst[NAGM_ADDR_STRLEN];
    nagm_ts_format(r->window_start_ns, ts0);
    nagm_ts_format(r->window_end_ns, ts1);
    nagm_addr_format(&r->src, src);
    nagm_addr_format(&r->dst_ip_mode, dst);
    if (json)
        fprintf(fp,
                "{\"window_start\":\"%s\",\"window_end\":\"%s\",\"src_ip\":\"%s\",\"pkts\":%" PRIu64
                ",\"dst_ip_uniq\":%" PRIu64 ",\"dst_ip_mode\":\"%s\",\"dst_ip_mode_pkts\":%" PRIu64,
                ts0, ts1, src, r->pkts, r->uniq[0], dst, r->mode_pkts[0]);
    else
        fprintf(fp, "%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%s,%" PRIu64, ts0, ts1, src, r->pkts,
                r->uniq[0], dst, r->mode_pkts[0]);
    for (int f = 1; f < NAGM_NFIELDS; f++) {
        if (json) {
            const char *n = nagm_field_name(f);
            fprintf(fp, ",\"%s_uniq\":%" PRIu64 ",\"%s_mode\":%" PRIu32 ",\"%s_mode_pkts\":%" PRIu64,
                    n, r->uniq[f], n, r->mode[f], n, r->mode_pkts[f]);
        } else {
            fprintf(fp, ",%" PRIu64 ",%" PRIu32 ",%" PRIu64, r->uniq[f], r->mode[f],
                    r->mode_pkts[f]);
        }
    }
    fputs(json ? "}\n" : "\r\n", fp);
}

static int text_write(nagm_sink *s, const nagm_agm_row *rows, size_t n)
{
    text_sink *t = (text_sink *)s;
    if (!t->json && !t->header_done) {
        for (int i = 0; i < NAGM_AGM_NCOLS; i++)
            fprintf(t->fp, "%s%s", i ? "," : "", nagm_agm_col_name(i));
        fputs("\r\n", t->fp);
        t->header_done = 1;
    }
    for (size_t i = 0; i < n; i++)
        write_row(t->fp, &rows[i], t->json);
    if (ferror(t->fp)) {
        snprintf(s->err, sizeof s->err, "write error");
        return NAGM_SINK_ERROR;
    }
    return NAGM_SINK_OK;
}

static int text_flush(nagm_sink *s)
{
    text_sink *t = (text_sink *)s;
    return fflush(t->fp) == 0 ? NAGM_SINK_OK : NAGM_SINK_ERROR;
}

static int text_close(nagm_sink *s)
{
    text_sink *t = (text_sink *)s;
    int rc = NAGM_SINK_OK;
    if (!t->json && !t->header_done)
        rc = text_write(s, NULL, 0); /* an empty table still has its header */
    if (fflush(t->fp) != 0 || ferror(t->fp))
        rc = NAGM_SINK_ERROR;
    if (t->own_fp && fclose(t->fp) != 0)
        rc = NAGM_SINK_ERROR;
    free(t);
    return rc;
}

static nagm_sink *text_new(FILE *fp, int own_fp, int json)
{
    text_sink *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->base.write = text_write;
    t->base.flush = text_flush;
    t->base.close = text_close;
    t->fp = fp;
    t->own_fp = own_fp;
    t->json = json;
    return &t->base;
}

nagm_sink *nagm_sink_csv_new(FILE *fp, int own_fp) { return text_new(fp, own_fp, 0); }
nagm_sink *nagm_sink_jsonl_new(FILE *fp, int own_fp) { return text_new(fp, own_fp, 1); }
