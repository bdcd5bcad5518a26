/* Packet table as CSV (RFC 4180, CRLF) or JSON Lines.
 *
 * One row is built in a stack buffer and written with one fwrite: at
 * millions of packets per second, printf's format parsing would dominate. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/pktout_int.h"
#include "netagm/parquet.h"
#include "util/fmt.h"

typedef struct text_out {
    nagm_pktout base; /* first: the vtable */
    FILE *fp;
    int own_fp;
    char *iobuf; /* stdio buffer of an owned file; freed after fclose */
    int json;
    int64_t sec;      /* second of the cached timestamp prefix */
    size_t prefix_len;
    char prefix[NAGM_TS_STRLEN]; /* "YYYY-MM-DDTHH:MM:SS." */
    nagm_addr_cache src, dst;
} text_out;



#define IOBUF (1u << 20)


/* ISO 8601 with microseconds, as nagm_ts_format, reusing the date and time
 * of day while the second does not change. */
static char *put_ts(text_out *t, char *p, int64_t ts_ns)
{
    int64_t us = nagm_ns_to_us_floor(ts_ns);
    int64_t sec = us / 1000000 - (us % 1000000 < 0);
    int64_t frac = us - sec * 1000000;
    if (t->prefix_len == 0 || sec != t->sec) {
        char full[NAGM_TS_STRLEN];
        size_t n = nagm_ts_format(sec * 1000000000, full);
        t->prefix_len = n > 7 ? n - 7 : 0; /* drop "000000Z" */
        memcpy(t->prefix, full, t->prefix_len);
        t->sec = sec;
    }
    p = nagm_put_str(p, t->prefix, t->prefix_len);
    for (int d = 100000; d >= 1; d /= 10)
        *p++ = (char)('0' + (frac / d) % 10);
    *p++ = 'Z';
    return p;
}

static int text_write(nagm_pktout *w, const nagm_pkt *pk)
{
    text_out *t = (text_out *)w;
    /* Longest row: two addresses (45), a timestamp (~30), nine numbers and
     * JSON keys stay far below this. */
    char line[512];
    char *p = line;
    size_t sn, dn;
    const char *src = nagm_addr_cached(&t->src, &pk->src, &sn);
    const char *dst = nagm_addr_cached(&t->dst, &pk->dst, &dn);
    if (t->json) {
        p = NAGM_PUT_LIT(p, "{\"ts\":\"");
        p = put_ts(t, p, pk->ts_ns);
        p = NAGM_PUT_LIT(p, "\",\"src_ip\":\"");
        p = nagm_put_str(p, src, sn);
        p = NAGM_PUT_LIT(p, "\",\"dst_ip\":\"");
        p = nagm_put_str(p, dst, dn);
        p = NAGM_PUT_LIT(p, "\",\"src_port\":");
        p = nagm_put_u64(p, pk->src_port);
        p = NAGM_PUT_LIT(p, ",\"dst_port\":");
        p = nagm_put_u64(p, pk->dst_port);
        p = NAGM_PUT_LIT(p, ",\"ttl\":");
        p = nagm_put_u64(p, pk->ttl);
        p = NAGM_PUT_LIT(p, ",\"proto\":");
        p = nagm_put_u64(p, pk->proto);
        p = NAGM_PUT_LIT(p, ",\"flags\":");
        p = nagm_put_u64(p, pk->flags);
        p = NAGM_PUT_LIT(p, ",\"len\":");
        p = nagm_put_u64(p, pk->len);
        p = NAGM_PUT_LIT(p, ",\"caplen\":");
        p = nagm_put_u64(p, pk->caplen);
        p = NAGM_PUT_LIT(p, ",\"wirelen\":");
        p = nagm_put_u64(p, pk->wirelen);
        p = NAGM_PUT_LIT(p, ",\"linktype\":");
        p = nagm_put_u64(p, pk->linktype);
        p = NAGM_PUT_LIT(p, "}\n");
    } else {
        p = put_ts(t, p, pk->ts_ns);
        *p++ = ',';
        p = nagm_put_str(p, src, sn);
        *p++ = ',';
        p = nagm_put_str(p, dst, dn);
        const uint64_t nums[] = {pk->src_port, pk->dst_port, pk->ttl,    pk->proto, pk->flags,
                                 pk->len,      pk->caplen,   pk->wirelen, pk->linktype};
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
            *p++ = ',';
            p = nagm_put_u64(p, nums[i]);
        }
        p = NAGM_PUT_LIT(p, "\r\n");
    }
    size_t n = (size_t)(p - line);
    if (fwrite(line, 1, n, t->fp) != n) {
        snprintf(w->err, sizeof w->err, "write failed: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

static int text_close(nagm_pktout *w, char *err)
{
    text_out *t = (text_out *)w;
    int r = 0;
    if (fflush(t->fp) != 0 || ferror(t->fp)) {
        snprintf(err, NAGM_PQ_ERRBUF_SIZE, "write failed: %s", strerror(errno ? errno : EIO));
        r = -1;
    }
    if (t->own_fp && fclose(t->fp) != 0 && r == 0) {
        snprintf(err, NAGM_PQ_ERRBUF_SIZE, "write failed: %s", strerror(errno ? errno : EIO));
        r = -1;
    }
    free(t->iobuf);
    free(t);
    return r;
}

nagm_pktout *nagm_pktout_text_new(FILE *fp, int own_fp, int json)
{
    text_out *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->base.write = text_write;
    t->base.close = text_close;
    t->fp = fp;
    t->own_fp = own_fp;
    t->json = json;
    /* glibc ignores the size unless it is given the buffer too. Standard
     * output keeps its own: others may write to it after this writer. */
    if (own_fp && (t->iobuf = malloc(IOBUF)) != NULL)
        setvbuf(fp, t->iobuf, _IOFBF, IOBUF);
    if (!json) {
        /* The header row; an empty table still has it. */
        for (int i = 0; i < NAGM_PKT_NCOLS; i++) {
            if (i)
                fputc(',', fp);
            fputs(nagm_pkt_col_name(i), fp);
        }
        fputs("\r\n", fp);
    }
    return &t->base;
}
