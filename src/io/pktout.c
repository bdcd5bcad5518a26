/* Packet-table writer: format choice and the dispatch of nagm_pktout. */
#include <errno.h>
#include <string.h>

#include "io/pktout_int.h"

static const char *const pkt_cols[NAGM_PKT_NCOLS] = {
    "ts",  "src_ip", "dst_ip", "src_port", "dst_port", "ttl",
    "proto", "flags", "len",   "caplen",   "wirelen",  "linktype",
};

const char *nagm_pkt_col_name(int i)
{
    return (i >= 0 && i < NAGM_PKT_NCOLS) ? pkt_cols[i] : "?";
}

int nagm_pktout_open(const char *path, nagm_format fmt, const nagm_parquet_opts *pq,
                     nagm_pktout **out, char *errbuf)
{
    *out = NULL;
    if (fmt == NAGM_FMT_AUTO)
        fmt = nagm_format_from_path(path);
    if (fmt == NAGM_FMT_AUTO)
        fmt = NAGM_FMT_CSV;
    nagm_pktout *w;
    if (fmt == NAGM_FMT_PARQUET) {
        w = nagm_pktout_parquet_new(path, pq, errbuf);
        if (!w)
            return -1;
    } else {
        int tostdout = strcmp(path, "-") == 0;
        FILE *fp = tostdout ? stdout : fopen(path, "wb");
        if (!fp) {
            snprintf(errbuf, NAGM_PQ_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
            return -1;
        }
        w = nagm_pktout_text_new(fp, !tostdout, fmt == NAGM_FMT_JSONL);
        if (!w) {
            if (!tostdout)
                fclose(fp);
            snprintf(errbuf, NAGM_PQ_ERRBUF_SIZE, "out of memory");
            return -1;
        }
    }
    w->fmt = fmt;
    *out = w;
    return 0;
}

int nagm_pktout_write(nagm_pktout *w, const nagm_pkt *p)
{
    if (w->err[0])
        return -1;
    if (w->write(w, p) < 0)
        return -1;
    w->rows++;
    return 0;
}

uint64_t nagm_pktout_rows(const nagm_pktout *w)
{
    return w->rows;
}

nagm_format nagm_pktout_format(const nagm_pktout *w)
{
    return w->fmt;
}

const char *nagm_pktout_error(const nagm_pktout *w)
{
    return w->err;
}

int nagm_pktout_close(nagm_pktout *w, char *errbuf)
{
    if (!w)
        return 0;
    /* An earlier write error is the cause worth reporting. */
    char first[NAGM_PQ_ERRBUF_SIZE], err[NAGM_PQ_ERRBUF_SIZE] = "";
    memcpy(first, w->err, sizeof first);
    int r = w->close(w, err);
    if (r < 0 || first[0]) {
        if (errbuf)
            snprintf(errbuf, NAGM_PQ_ERRBUF_SIZE, "%s",
                     first[0] ? first : err[0] ? err : "write failed");
        return -1;
    }
    return 0;
}
