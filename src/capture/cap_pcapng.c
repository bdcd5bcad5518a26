/* pcapng block reader (draft-ietf-opsawg-pcapng).
 *
 * libpcap refuses sections whose interfaces have different link types, so
 * this reader keeps every interface's own link type, snap length and time
 * stamp resolution. Every block is length-checked before a byte of it is
 * read, then parsed through a bounded cursor; packet bytes are handed out in
 * place, straight from the stream buffer.
 *
 * Generic block:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +---------------------------------------------------------------+
 *   |                          Block Type                           |
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *   /                          Block Body                           /
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 */
#include <stdlib.h>
#include <string.h>

#include "capture/cap_linktype.h"
#include "capture/capture_int.h"
#include "util/cursor.h"

enum {
    BT_SHB = 0x0a0d0d0a,
    BT_IDB = 1,
    BT_PB = 2, /* obsolete Packet Block */
    BT_SPB = 3,
    BT_EPB = 6,
};

#define NG_MAX_BLOCK (256u * 1024 * 1024)
#define NG_MAX_IF (1u << 16)
#define BOM 0x1a2b3c4du

/* Results of one block step besides errors. */
enum { NG_END = 0, NG_FRAME = 1, NG_MORE = 2 };

typedef struct ng_if {
    uint32_t linktype;
    uint32_t snaplen;
    uint8_t resol;      /* if_tsresol: 10^-v, or 2^-(v & 0x7f) with the top bit */
    uint64_t mul;       /* ns per unit when resol is 10^-v with v <= 9, else 0 */
    int64_t offset_ns;  /* if_tsoffset in ns (saturated) */
} ng_if;

typedef struct ng_rd {
    int be;             /* current section is big-endian */
    ng_if *ifs;
    uint32_t n_if, cap_if;
    int64_t last_ts;    /* time stamp of the last timed packet (for SPBs) */
} ng_rd;

static uint32_t get32(nagm_cur *cur, int be)
{
    return be ? nagm_cur_be32(cur) : nagm_cur_le32(cur);
}

static uint16_t get16(nagm_cur *cur, int be)
{
    return be ? nagm_cur_be16(cur) : nagm_cur_le16(cur);
}

static uint64_t get64(nagm_cur *cur, int be)
{
    if (!be)
        return nagm_cur_le64(cur);
    uint64_t hi = nagm_cur_be32(cur);
    return (hi << 32) | nagm_cur_be32(cur);
}

static uint32_t load32(const uint8_t *p, int be)
{
    return be ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
              : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static int64_t sat64(__int128 v)
{
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

static void if_set_resol(ng_if *ifc, uint8_t v)
{
    static const uint64_t pow10[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                       10000,      1000,      100,      10,      1};
    ifc->resol = v;
    ifc->mul = v <= 9 ? pow10[v] : 0;
}

/* Time stamp units of an interface to ns since the epoch. Units are
 * truncated, never rounded, like every other capture reader. */
static int64_t if_ts(const ng_if *ifc, uint64_t units)
{
    unsigned __int128 ns;
    if (ifc->mul && units <= UINT64_MAX / ifc->mul) {
        ns = (unsigned __int128)(units * ifc->mul);
    } else if (ifc->resol & 0x80) {
        unsigned e = ifc->resol & 0x7f;
        unsigned __int128 x = (unsigned __int128)units * 1000000000u;
        ns = e >= 100 ? 0 : x >> e;
    } else {
        /* units * 1e9 < 10^29, so 10^29 and smaller units give 0. */
        unsigned e = ifc->resol;
        unsigned __int128 x = (unsigned __int128)units * 1000000000u;
        if (e >= 29) {
            ns = 0;
        } else {
            unsigned __int128 d = 1;
            for (unsigned i = 0; i < e; i++)
                d *= 10;
            ns = x / d;
        }
    }
    if (ns > (unsigned __int128)INT64_MAX)
        ns = INT64_MAX;
    return sat64((__int128)ns + ifc->offset_ns);
}

/* Section Header Block body:
 *   Byte-Order Magic (4) | Major (2) | Minor (2) | Section Length (8) | Options */
static int ng_shb(nagm_capture *c, ng_rd *r, nagm_cur *body, int be, uint64_t off)
{
    nagm_cur_skip(body, 4);
    uint16_t major = get16(body, be);
    uint16_t minor = get16(body, be);
    (void)get64(body, be); /* section length: -1 (unknown) is allowed, never needed */
    if (body->err)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off, "section header block too short");
    if (major != 1)
        return cap_fail(c, NAGM_CAP_EFORMAT, off, "unsupported pcapng version %u.%u", major,
                        minor);
    /* A new section starts over: its interfaces are numbered from 0. */
    r->be = be;
    r->n_if = 0;
    return NG_MORE;
}

/* Interface Description Block body:
 *   LinkType (2) | Reserved (2) | SnapLen (4) | Options
 * Options: Code (2) | Length (2) | Value, padded to 32 bits. */
static int ng_idb(nagm_capture *c, ng_rd *r, nagm_cur *body, uint64_t off)
{
    int be = r->be;
    uint16_t lt = get16(body, be);
    nagm_cur_skip(body, 2);
    uint32_t snaplen = get32(body, be);
    if (body->err)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off, "interface description block too short");
    if (r->n_if >= NG_MAX_IF)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off, "more than %u interfaces in a section",
                        NG_MAX_IF);
    if (r->n_if == r->cap_if) {
        uint32_t ncap = r->cap_if ? r->cap_if * 2 : 8;
        ng_if *n = realloc(r->ifs, ncap * sizeof *n);
        if (!n)
            return cap_fail(c, NAGM_CAP_ENOMEM, off, "out of memory");
        r->ifs = n;
        r->cap_if = ncap;
    }
    ng_if ifc = {0};
    ifc.linktype = cap_linktype_from_dlt(lt);
    ifc.snaplen = snaplen;
    if_set_resol(&ifc, 6);
    while (nagm_cur_has(body, 4)) {
        uint16_t code = get16(body, be);
        uint16_t len = get16(body, be);
        if (code == 0) /* opt_endofopt */
            break;
        size_t padded = ((size_t)len + 3) & ~(size_t)3;
        if (!nagm_cur_has(body, padded))
            return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                            "interface option %u (%u bytes) overruns its block", code, len);
        nagm_cur val = nagm_cur_sub(body, len);
        if (code == 9 && len >= 1) { /* if_tsresol */
            if_set_resol(&ifc, nagm_cur_u8(&val));
        } else if (code == 14 && len >= 8) { /* if_tsoffset, seconds */
            int64_t secs = (int64_t)get64(&val, be);
            ifc.offset_ns = sat64((__int128)secs * 1000000000);
        }
        nagm_cur_skip(body, padded);
    }
    r->ifs[r->n_if++] = ifc;
    return NG_MORE;
}

static int bad_if(nagm_capture *c, const ng_rd *r, uint32_t id, uint64_t off)
{
    return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                    "packet names interface %u, but the section has %u", id, r->n_if);
}

/* Enhanced Packet Block body:
 *   Interface ID (4) | Timestamp high (4) | Timestamp low (4) |
 *   Captured Length (4) | Original Length (4) | Data (padded) | Options
 * Packet Block (obsolete) body: the same, with Interface ID (2) and
 *   Drops Count (2) in place of the 32-bit Interface ID. */
static int ng_packet(nagm_capture *c, ng_rd *r, nagm_cur *body, int obsolete, uint64_t off,
                     nagm_frame *f)
{
    int be = r->be;
    uint32_t id;
    if (obsolete) {
        id = get16(body, be);
        nagm_cur_skip(body, 2);
    } else {
        id = get32(body, be);
    }
    uint32_t hi = get32(body, be);
    uint32_t lo = get32(body, be);
    uint32_t caplen = get32(body, be);
    uint32_t wirelen = get32(body, be);
    if (body->err)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off, "packet block too short");
    if (id >= r->n_if)
        return bad_if(c, r, id, off);
    if (caplen > nagm_cur_left(body))
        return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                        "captured length %u exceeds its block (%zu bytes left)", caplen,
                        nagm_cur_left(body));
    const ng_if *ifc = &r->ifs[id];
    f->ts_ns = r->last_ts = if_ts(ifc, ((uint64_t)hi << 32) | lo);
    f->caplen = caplen;
    f->wirelen = wirelen;
    f->linktype = ifc->linktype;
    f->data = body->p;
    return NG_FRAME;
}

/* Simple Packet Block body: Original Length (4) | Data (padded).
 * It belongs to interface 0 and its captured length is what the block and
 * the snap length allow. It carries no time stamp: it takes the time of the
 * last timed packet before it (0 when none), so that event-time windows
 * place it where it was captured rather than in 1970. */
static int ng_spb(nagm_capture *c, ng_rd *r, nagm_cur *body, uint64_t off, nagm_frame *f)
{
    uint32_t wirelen = get32(body, r->be);
    if (body->err)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off, "simple packet block too short");
    if (r->n_if == 0)
        return bad_if(c, r, 0, off);
    const ng_if *ifc = &r->ifs[0];
    size_t left = nagm_cur_left(body);
    uint32_t caplen = wirelen < left ? wirelen : (uint32_t)left;
    if (ifc->snaplen && caplen > ifc->snaplen)
        caplen = ifc->snaplen;
    f->ts_ns = r->last_ts;
    f->caplen = caplen;
    f->wirelen = wirelen;
    f->linktype = ifc->linktype;
    f->data = body->p;
    return NG_FRAME;
}

/* Read and handle one block. */
static int ng_step(nagm_capture *c, nagm_frame *f)
{
    ng_rd *r = c->fmt;
    uint64_t off = cs_offset(&c->st);
    size_t n;
    const uint8_t *h = cs_ensure(&c->st, 12, &n);
    if (c->st.err || n == 0) {
        int se = cap_stream_fail(c, off);
        return se ? se : NG_END;
    }
    if (n < 8)
        return cap_fail(c, NAGM_CAP_ETRUNC, off,
                        "file ends inside a block header (%zu of 8 bytes)", n);
    int be = r->be;
    uint32_t type = load32(h, be);
    if (type == BT_SHB) {
        /* The byte-order magic decides how to read everything else,
         * including this block's own length. */
        if (n < 12)
            return cap_fail(c, NAGM_CAP_ETRUNC, off,
                            "file ends inside a section header (%zu of 12 bytes)", n);
        if (load32(h + 8, 0) == BOM)
            be = 0;
        else if (load32(h + 8, 1) == BOM)
            be = 1;
        else
            return cap_fail(c, off == 0 ? NAGM_CAP_EFORMAT : NAGM_CAP_EDAMAGED, off,
                            "bad pcapng byte-order magic 0x%08x", load32(h + 8, 1));
    }
    uint32_t len = load32(h + 4, be);
    if (len < 12 || len % 4 != 0 || len > NG_MAX_BLOCK)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                        "block type 0x%08x has an invalid length %u", type, len);
    const uint8_t *b = cs_ensure(&c->st, len, &n);
    if (n < len) {
        int se = cap_stream_fail(c, off);
        if (se)
            return se;
        return cap_fail(c, NAGM_CAP_ETRUNC, off,
                        "file ends inside a block (type 0x%08x, %u bytes, %zu present)", type,
                        len, n);
    }
    uint32_t trailer = load32(b + len - 4, be);
    if (trailer != len)
        return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                        "block trailing length %u differs from its leading length %u", trailer,
                        len);
    /* The bytes stay put until the next cs_ensure, after this frame. */
    cs_consume(&c->st, len);
    nagm_cur body = nagm_cur_make(b + 8, len - 12);
    switch (type) {
    case BT_SHB:
        return ng_shb(c, r, &body, be, off);
    case BT_IDB:
        return ng_idb(c, r, &body, off);
    case BT_EPB:
        return ng_packet(c, r, &body, 0, off, f);
    case BT_PB:
        return ng_packet(c, r, &body, 1, off, f);
    case BT_SPB:
        return ng_spb(c, r, &body, off, f);
    default:
        return NG_MORE; /* statistics, name resolution, custom, ...: not needed */
    }
}

static int ng_next(nagm_capture *c, nagm_frame *f)
{
    for (;;) {
        int rc = ng_step(c, f);
        if (rc != NG_MORE)
            return rc;
    }
}

static void ng_close(nagm_capture *c)
{
    ng_rd *r = c->fmt;
    if (r) {
        free(r->ifs);
        free(r);
    }
    c->fmt = NULL;
}

static const cap_ops pcapng_ops = {"pcapng", ng_next, NULL, NULL, ng_close};

int cap_pcapng_open(nagm_capture *c)
{
    ng_rd *r = calloc(1, sizeof *r);
    if (!r)
        return cap_fail(c, NAGM_CAP_ENOMEM, 0, "out of memory");
    c->fmt = r;
    c->ops = &pcapng_ops;
    /* The first block is the section header (its type was the magic):
     * reading it now makes a bad header an open error. */
    nagm_frame unused;
    int rc = ng_step(c, &unused);
    if (rc < 0)
        return rc;
    if (rc != NG_MORE)
        return cap_fail(c, NAGM_CAP_EFORMAT, 0, "no pcapng section header");
    return 0;
}
