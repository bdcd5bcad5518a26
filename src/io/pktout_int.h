/* Packet-table writers: the private vtable behind nagm_pktout. */
#ifndef NETAGM_IO_PKTOUT_INT_H
#define NETAGM_IO_PKTOUT_INT_H

#include <stdio.h>
#include <string.h>

#include "netagm/pktout.h"

struct nagm_pktout {
    int (*write)(nagm_pktout *w, const nagm_pkt *p);   /* 0 or -1 (err set) */
    /* Finish and free w. 0, or -1 with err (NAGM_PQ_ERRBUF_SIZE) set. */
    int (*close)(nagm_pktout *w, char *err);
    nagm_format fmt;
    uint64_t rows;
    char err[NAGM_PQ_ERRBUF_SIZE];
};

/* CSV or JSONL on fp (closed at the end if own_fp). NULL on ENOMEM. */
nagm_pktout *nagm_pktout_text_new(FILE *fp, int own_fp, int json);

/* Parquet on path ("-" = stdout). NULL with errbuf set on failure. */
nagm_pktout *nagm_pktout_parquet_new(const char *path, const nagm_parquet_opts *opts,
                                     char *errbuf);

/* Caches of the last formatted values: consecutive packets of a flow share
 * addresses and the second of their timestamp, and formatting them is most of
 * the cost of a text row. */
typedef struct nagm_addr_cache {
    nagm_addr a;
    size_t len;
    char s[NAGM_ADDR_STRLEN];
} nagm_addr_cache;

/* Dotted quad without printf (glibc's inet_ntop formats IPv4 with sprintf,
 * most of a row's cost); the same text as nagm_addr_format. */
static inline size_t nagm_v4_format(const uint8_t b[4], char *out)
{
    char *p = out;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
    return (size_t)(p - out - 1);
}

static inline const char *nagm_addr_cached(nagm_addr_cache *c, const nagm_addr *a, size_t *len)
{
    if (c->a.family == 0 || c->a.family != a->family ||
        memcmp(c->a.b, a->b, sizeof a->b) != 0) {
        c->a = *a;
        c->len = a->family == 4 ? nagm_v4_format(a->b, c->s) : nagm_addr_format(a, c->s);
    }
    *len = c->len;
    return c->s;
}

#endif
