/* AGM partial state as bytes: see agg_serial.h for the format.
 *
 * The writer walks the windows of a state in start order and, inside a
 * window, its records in table order; each field's histogram comes from
 * aggw_field_values.
 *
 * The reader goes through the bounded cursor: the bytes come from another
 * process, and a damaged segment must give an error, never a bad read.
 */
#include "agg/agg_serial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg_window.h"
#include "util/cursor.h"
#include "util/hash.h"

#define SER_MAGIC 0x5347414eu /* "NAGS" as little-endian bytes */
#define SER_VERSION 1
#define SER_TAG_BLOCK 1
#define SEG_HDR_BYTES 13     /* magic, version, window_ns */
#define BLOCK_HDR_BYTES 13   /* tag, start, nrecords */
#define VARINT_MAX 10

void agg_buf_free(agg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int buf_reserve(agg_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - b->len < n) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    uint8_t *np = realloc(b->p, ncap);
    if (!np)
        return -1;
    b->p = np;
    b->cap = ncap;
    return 0;
}

/* Writers into space already reserved. */
static inline void put_u8(agg_buf *b, uint8_t v)
{
    b->p[b->len++] = v;
}

static inline void put_le32(agg_buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(agg_buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static inline void put_varint(agg_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        b->p[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (uint8_t)v;
}

static inline void put_bytes(agg_buf *b, const void *p, size_t n)
{
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

int agg_ser_owner(int64_t window_start, const nagm_addr *src, int nparts)
{
    if (nparts <= 1)
        return 0;
    uint64_t h = nagm_hash_bytes(src->b, src->family == 6 ? 16 : 4);
    h = nagm_mix64(h ^ nagm_mix64((uint64_t)window_start + 0x632be59bd9b4e019ULL));
    return (int)(h % (uint64_t)nparts);
}

/* ---- writer ------------------------------------------------------------------ */

typedef struct part_state {
    size_t blk_off;  /* offset of the open block's nrecords field; 0 = none */
    uint32_t blk_n;  /* records in the open block */
} part_state;

struct agg_ser {
    nagm_agg *a;
    int nparts;
    int consume;
    int64_t window_ns;
    size_t wi;       /* window being written (index into a) */
    uint32_t ri;     /* next record of that window */
    int indexed;     /* owner[] describes window wi */
    int *owner;      /* nrecs: owner of each record */
    size_t cap_recs;
    uint64_t nwritten;
    part_state *ps;
};

agg_ser *agg_ser_new(nagm_agg *a, int nparts, int consume)
{
    if (nparts < 1)
        return NULL;
    agg_ser *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ps = calloc((size_t)nparts, sizeof *s->ps);
    if (!s->ps) {
        free(s);
        return NULL;
    }
    s->a = a;
    s->nparts = nparts;
    s->consume = consume;
    s->window_ns = agg_window_len(a);
    return s;
}

void agg_ser_free(agg_ser *s)
{
    if (!s)
        return;
    free(s->owner);
    free(s->ps);
    free(s);
}

uint64_t agg_ser_records(const agg_ser *s)
{
    return s->nwritten;
}

/* Owners of window w's records. */
static int index_window(agg_ser *s, const agg_window *w)
{
    if (w->nrecs > s->cap_recs || !s->owner) {
        size_t n = w->nrecs ? w->nrecs : 1;
        int *no = realloc(s->owner, sizeof *no * n);
        if (!no)
            return -1;
        s->owner = no;
        s->cap_recs = n;
    }
    for (uint32_t r = 0; r < w->nrecs; r++)
        s->owner[r] = agg_ser_owner(w->start_ns, &w->recs[r].src, s->nparts);
    s->indexed = 1;
    return 0;
}

/* Upper bound of the bytes record r takes. */
static size_t record_bound(const agg_window *w, uint32_t r)
{
    const aggw_rec *rec = &w->recs[r];
    size_t n = 1 + 16 + VARINT_MAX;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        size_t vb = f == NAGM_F_DST_IP ? (rec->src.family == 6 ? 16 : 4) : 5;
        n += VARINT_MAX + (size_t)rec->f[f].uniq * (vb + VARINT_MAX);
    }
    return n;
}

static void put_value(agg_buf *b, const agg_window *w, const aggw_rec *rec, int f, uint32_t val)
{
    if (f != NAGM_F_DST_IP) {
        put_varint(b, val);
    } else if (rec->src.family == 6) {
        put_bytes(b, w->v6.addrs[val].b, 16);
    } else {
        /* The IPv4 value is the address as a number: write it in network order. */
        uint8_t a4[4] = {(uint8_t)(val >> 24), (uint8_t)(val >> 16), (uint8_t)(val >> 8),
                         (uint8_t)val};
        put_bytes(b, a4, 4);
    }
}

typedef struct put_ctx {
    agg_buf *b;
    const agg_window *w;
    const aggw_rec *rec;
    int f;
} put_ctx;

static void put_one(void *ctx, uint32_t val, uint64_t cnt)
{
    put_ctx *p = ctx;
    put_value(p->b, p->w, p->rec, p->f, val);
    put_varint(p->b, cnt);
}

static void put_record(agg_ser *s, agg_buf *b, const agg_window *w, uint32_t r)
{
    (void)s;
    const aggw_rec *rec = &w->recs[r];
    put_u8(b, rec->src.family);
    put_bytes(b, rec->src.b, rec->src.family == 6 ? 16 : 4);
    put_varint(b, rec->pkts);
    put_ctx p = {b, w, rec, 0};
    for (p.f = 0; p.f < NAGM_NFIELDS; p.f++) {
        put_varint(b, rec->f[p.f].uniq);
        aggw_field_values(w, r, p.f, put_one, &p);
    }
}

int agg_ser_fill(agg_ser *s, agg_buf *bufs, size_t limit)
{
    for (int d = 0; d < s->nparts; d++) {
        bufs[d].len = 0;
        s->ps[d].blk_off = 0;
        s->ps[d].blk_n = 0;
    }
    for (;;) {
        const agg_window *w = agg_window_at(s->a, s->wi);
        if (!w)
            return 0;
        if (!s->indexed && index_window(s, w) != 0)
            return -1;
        for (; s->ri < w->nrecs; s->ri++) {
            int d = s->owner[s->ri];
            agg_buf *b = &bufs[d];
            part_state *ps = &s->ps[d];
            size_t need = record_bound(w, s->ri) + (b->len ? 0 : SEG_HDR_BYTES) +
                          (ps->blk_off ? 0 : BLOCK_HDR_BYTES);
            if (b->len && b->len + need > limit)
                return 1; /* that buffer is full: this record waits for the next call */
            if (buf_reserve(b, need) != 0)
                return -1;
            if (b->len == 0) {
                put_le32(b, SER_MAGIC);
                put_u8(b, SER_VERSION);
                put_le64(b, (uint64_t)s->window_ns);
            }
            if (!ps->blk_off) {
                put_u8(b, SER_TAG_BLOCK);
                put_le64(b, (uint64_t)w->start_ns);
                ps->blk_off = b->len;
                ps->blk_n = 0;
                put_le32(b, 0);
            }
            put_record(s, b, w, s->ri);
            ps->blk_n++;
            size_t end = b->len;
            b->len = ps->blk_off;
            put_le32(b, ps->blk_n);
            b->len = end;
            s->nwritten++;
        }
        /* Window done: the next records open new blocks. */
        for (int d = 0; d < s->nparts; d++)
            s->ps[d].blk_off = 0;
        s->indexed = 0;
        s->ri = 0;
        if (s->consume)
            agg_drop_front(s->a, 1);
        else
            s->wi++;
    }
}

/* ---- reader ------------------------------------------------------------------- */

static uint64_t get_varint(nagm_cur *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t byte = nagm_cur_u8(c);
        if (c->err)
            return 0;
        if (shift == 63 && byte > 1) {
            c->err = 1; /* more than 64 bits */
            return 0;
        }
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    c->err = 1;
    return 0;
}

/* Largest value a field can hold (dst_ip is read separately). */
static uint64_t field_max(int f)
{
    switch (f) {
    case NAGM_F_SRC_PORT:
    case NAGM_F_DST_PORT:
        return 0xffff;
    case NAGM_F_TTL:
    case NAGM_F_PROTO:
    case NAGM_F_FLAGS:
        return 0xff;
    default:
        return UINT32_MAX;
    }
}

#define DAMAGED(...)                                                                             \
    do {                                                                                         \
        snprintf(err, errlen, __VA_ARGS__);                                                      \
        return -2;                                                                               \
    } while (0)

/* One record into w. */
static int read_record(agg_window *w, nagm_cur *c, char *err, size_t errlen)
{
    nagm_addr src;
    memset(&src, 0, sizeof src);
    src.family = nagm_cur_u8(c);
    if (c->err || (src.family != 4 && src.family != 6))
        DAMAGED("bad address family %u", src.family);
    size_t alen = src.family == 6 ? 16 : 4;
    nagm_cur_copy(c, src.b, alen);
    uint64_t pkts = get_varint(c);
    if (c->err || pkts == 0)
        DAMAGED("bad record header");
    uint32_t r = aggw_source(w, &src);
    if (r == UINT32_MAX)
        return -1;
    /* A source's records add up; a total past 64 bits would wrap its counts
     * (no value's count exceeds it, so checking the total is enough). */
    if (w->recs[r].pkts > UINT64_MAX - pkts)
        DAMAGED("packet count of a source overflows");
    w->recs[r].pkts += pkts;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        uint64_t nvals = get_varint(c);
        /* Every value takes at least two bytes. */
        if (c->err || nvals == 0 || nvals > nagm_cur_left(c) / 2)
            DAMAGED("bad value count %llu of field %s", (unsigned long long)nvals,
                    nagm_field_name(f));
        uint64_t sum = 0;
        for (uint64_t k = 0; k < nvals; k++) {
            uint32_t val = 0;
            nagm_addr v6;
            const nagm_addr *v6p = NULL;
            if (f == NAGM_F_DST_IP && src.family == 6) {
                memset(&v6, 0, sizeof v6);
                v6.family = 6;
                nagm_cur_copy(c, v6.b, 16);
                v6p = &v6;
            } else if (f == NAGM_F_DST_IP) {
                val = nagm_cur_be32(c);
            } else {
                uint64_t v = get_varint(c);
                if (v > field_max(f))
                    DAMAGED("value %llu out of range for %s", (unsigned long long)v,
                            nagm_field_name(f));
                val = (uint32_t)v;
            }
            uint64_t cnt = get_varint(c);
            if (c->err || cnt == 0 || cnt > pkts - sum)
                DAMAGED("bad count in field %s", nagm_field_name(f));
            if (aggw_count(w, r, f, val, v6p, cnt) != 0)
                return -1;
            sum += cnt;
        }
        if (sum != pkts)
            DAMAGED("counts of field %s add up to %llu, not %llu packets", nagm_field_name(f),
                    (unsigned long long)sum, (unsigned long long)pkts);
    }
    return 0;
}

int agg_ser_merge(nagm_agg *a, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return 0;
    nagm_cur c = nagm_cur_make(p, len);
    uint32_t magic = nagm_cur_le32(&c);
    uint8_t version = nagm_cur_u8(&c);
    int64_t wns = (int64_t)nagm_cur_le64(&c);
    if (c.err || magic != SER_MAGIC)
        DAMAGED("not a state segment (bad magic)");
    if (version != SER_VERSION)
        DAMAGED("state segment version %u, expected %u", version, SER_VERSION);
    if (wns != agg_window_len(a))
        DAMAGED("state segment for windows of %lld ns, expected %lld", (long long)wns,
                (long long)agg_window_len(a));
    while (nagm_cur_left(&c) > 0) {
        uint8_t tag = nagm_cur_u8(&c);
        int64_t start = (int64_t)nagm_cur_le64(&c);
        uint32_t n = nagm_cur_le32(&c);
        if (c.err || tag != SER_TAG_BLOCK)
            DAMAGED("bad block header at byte %zu", len - nagm_cur_left(&c));
        if (wns > 0 ? start % wns != 0 : start != 0)
            DAMAGED("window start %lld does not fit the window length", (long long)start);
        /* Every record takes at least 1 + 4 + 1 + 7 * 3 bytes. */
        if (n == 0 || n > nagm_cur_left(&c) / 27)
            DAMAGED("bad record count %u", n);
        agg_window *w = agg_window_for(a, start);
        if (!w)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            int rc = read_record(w, &c, err, errlen);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}
