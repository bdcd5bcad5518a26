/* Packet table as Parquet (schema in docs/parquet.md). */
#include <stdlib.h>
#include <string.h>

#include "io/pktout_int.h"

enum { C_TS, C_SRC, C_DST, C_SPORT, C_DPORT, C_TTL, C_PROTO, C_FLAGS, C_LEN, C_CAPLEN,
       C_WIRELEN, C_LINKTYPE };

typedef struct pq_out {
    nagm_pktout base; /* first: the vtable */
    nagm_pq_writer *w;
    nagm_addr_cache src, dst;
} pq_out;

static int pq_write(nagm_pktout *o, const nagm_pkt *p)
{
    pq_out *q = (pq_out *)o;
    nagm_pq_writer *w = q->w;
    size_t n;
    const char *s;
    nagm_pq_put_i64(w, C_TS, nagm_ns_to_us_floor(p->ts_ns));
    s = nagm_addr_cached(&q->src, &p->src, &n);
    nagm_pq_put_str(w, C_SRC, s, n);
    s = nagm_addr_cached(&q->dst, &p->dst, &n);
    nagm_pq_put_str(w, C_DST, s, n);
    nagm_pq_put_i32(w, C_SPORT, p->src_port);
    nagm_pq_put_i32(w, C_DPORT, p->dst_port);
    nagm_pq_put_i32(w, C_TTL, p->ttl);
    nagm_pq_put_i32(w, C_PROTO, p->proto);
    nagm_pq_put_i32(w, C_FLAGS, p->flags);
    nagm_pq_put_i32(w, C_LEN, (int32_t)p->len);
    nagm_pq_put_i64(w, C_CAPLEN, p->caplen);
    nagm_pq_put_i64(w, C_WIRELEN, p->wirelen);
    nagm_pq_put_i32(w, C_LINKTYPE, p->linktype);
    if (nagm_pq_end_row(w) < 0) {
        snprintf(o->err, sizeof o->err, "%s", nagm_pq_error(w));
        return -1;
    }
    return 0;
}

static int pq_close(nagm_pktout *o, char *err)
{
    pq_out *q = (pq_out *)o;
    int r = nagm_pq_close(q->w, err);
    free(q);
    return r;
}

nagm_pktout *nagm_pktout_parquet_new(const char *path, const nagm_parquet_opts *opts,
                                     char *errbuf)
{
    static const nagm_pq_type types[NAGM_PKT_NCOLS] = {
        NAGM_PQ_TS_MICROS, NAGM_PQ_STRING, NAGM_PQ_STRING, NAGM_PQ_INT32,
        NAGM_PQ_INT32,     NAGM_PQ_INT32,  NAGM_PQ_INT32,  NAGM_PQ_INT32,
        NAGM_PQ_INT32,     NAGM_PQ_INT64,  NAGM_PQ_INT64,  NAGM_PQ_INT32,
    };
    nagm_pq_column cols[NAGM_PKT_NCOLS];
    for (int i = 0; i < NAGM_PKT_NCOLS; i++) {
        cols[i].name = nagm_pkt_col_name(i);
        cols[i].type = types[i];
        /* Timestamps are nearly unique; every other column repeats (and a
         * column whose dictionary outgrows a page falls back to PLAIN). */
        cols[i].dictionary = i != C_TS;
    }
    static const char *const kv[] = {"netagm.table", "packets", "netagm.schema", "packets/1",
                                     NULL};
    pq_out *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(errbuf, NAGM_PQ_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    if (nagm_pq_open(path, cols, NAGM_PKT_NCOLS, kv, opts, &q->w, errbuf) < 0) {
        free(q);
        return NULL;
    }
    q->base.write = pq_write;
    q->base.close = pq_close;
    return &q->base;
}
