/* CSV (RFC 4180) and JSON Lines writers for AGM rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/sink.h"
#include "util/fmt.h"

typedef struct text_sink {
    nagm_sink base;
    FILE *fp;
    int own_fp;
    int header_done;
    int json;
    /* Text of the last window start and end: the same for every row of a
     * window, so formatted once a window. */
    int64_t ts_ns[2];
    size_t ts_len[2];
    char ts[2][NAGM_TS_STRLEN];
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




/* JSON key prefix ("," "\"name\":") of column i; CSV writes ',' only. */
static char *put_sep(char *p, int i, int json)
{
    if (!json)
        return i ? NAGM_PUT_LIT(p, ",") : p;
    if (i)
        *p++ = ',';
    *p++ = '"';
    const char *name = nagm_agm_col_name(i);
    p = nagm_put_str(p, name, strlen(name));
    return NAGM_PUT_LIT(p, "\":");
}

/* A quoted (JSON) or bare (CSV) text value. */
static char *put_text(char *p, const char *s, size_t n, int json)
{
    if (json)
        *p++ = '"';
    p = nagm_put_str(p, s, n);
    if (json)
        *p++ = '"';
    return p;
}

/* Text of timestamp i (0 start, 1 end) of row r, from the cache. */
static const char *row_ts(text_sink *t, int i, int64_t ns, size_t *len)
{
    if (t->ts_len[i] == 0 || t->ts_ns[i] != ns) {
        t->ts_ns[i] = ns;
        t->ts_len[i] = nagm_ts_format(ns, t->ts[i]);
    }
    *len = t->ts_len[i];
    return t->ts[i];
}

/* Write one row's 25 values in column order: CSV separates with ',',
 * JSON writes "key":value pairs. */
static void write_row(text_sink *t, const nagm_agm_row *r)
{
    char src[NAGM_ADDR_STRLEN], dst[NAGM_ADDR_STRLEN];
    char line[1024], *p = line;
    int json = t->json;
    size_t n0, n1;
    const char *ts0 = row_ts(t, 0, r->window_start_ns, &n0);
    const char *ts1 = row_ts(t, 1, r->window_end_ns, &n1);
    size_t ns = nagm_addr_format(&r->src, src);
    size_t nd = nagm_addr_format(&r->dst_ip_mode, dst);
    if (json)
        *p++ = '{';
    p = put_text(put_sep(p, 0, json), ts0, n0, json);
    p = put_text(put_sep(p, 1, json), ts1, n1, json);
    p = put_text(put_sep(p, 2, json), src, ns, json);
    p = nagm_put_u64(put_sep(p, 3, json), r->pkts);
    int col = 4;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        p = nagm_put_u64(put_sep(p, col++, json), r->uniq[f]);
        p = put_sep(p, col++, json);
        p = f == NAGM_F_DST_IP ? put_text(p, dst, nd, json) : nagm_put_u64(p, r->mode[f]);
        p = nagm_put_u64(put_sep(p, col++, json), r->mode_pkts[f]);
    }
    p = json ? NAGM_PUT_LIT(p, "}\n") : NAGM_PUT_LIT(p, "\r\n");
    fwrite(line, 1, (size_t)(p - line), t->fp);
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
        write_row(t, &rows[i]);
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
