/* The packet record on the wire (layout in netagm/pktwire.h). Records come
 * from the network, so decoding reads only through a bounded cursor. */
#include <string.h>

#include "netagm/pktwire.h"
#include "util/cursor.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t nagm_pktwire_encode(const nagm_pkt *p, uint8_t out[NAGM_PKTWIRE_MAX])
{
    if (p->src.family != 4 && p->src.family != 6)
        return 0;
    int v6 = p->src.family == 6;
    size_t alen = v6 ? 16 : 4;
    out[0] = NAGM_PKTWIRE_MAGIC;
    out[1] = NAGM_PKTWIRE_VERSION;
    out[2] = (uint8_t)((v6 ? 1u : 0u) | (p->l4_trunc ? 2u : 0u));
    out[3] = p->proto;
    out[4] = p->ttl;
    out[5] = p->flags;
    put16(out + 6, p->linktype);
    uint64_t ts = (uint64_t)p->ts_ns;
    put32(out + 8, (uint32_t)(ts >> 32));
    put32(out + 12, (uint32_t)ts);
    put32(out + 16, p->len);
    put32(out + 20, p->caplen);
    put32(out + 24, p->wirelen);
    put16(out + 28, p->src_port);
    put16(out + 30, p->dst_port);
    memcpy(out + 32, p->src.b, alen);
    memcpy(out + 32 + alen, p->dst.b, alen);
    return 32 + 2 * alen;
}

int nagm_pktwire_decode(const uint8_t *buf, size_t len, nagm_pkt *p)
{
    nagm_cur c = nagm_cur_make(buf, len);
    uint8_t magic = nagm_cur_u8(&c), version = nagm_cur_u8(&c), flags = nagm_cur_u8(&c);
    if (c.err)
        return -NAGM_PKTWIRE_ESHORT;
    if (magic != NAGM_PKTWIRE_MAGIC)
        return -NAGM_PKTWIRE_EMAGIC;
    if (version != NAGM_PKTWIRE_VERSION)
        return -NAGM_PKTWIRE_EVERSION;
    if (flags & ~3u)
        return -NAGM_PKTWIRE_EFLAGS;
    memset(p, 0, sizeof *p);
    int v6 = flags & 1;
    size_t alen = v6 ? 16 : 4;
    p->l4_trunc = (flags >> 1) & 1;
    p->proto = nagm_cur_u8(&c);
    p->ttl = nagm_cur_u8(&c);
    p->flags = nagm_cur_u8(&c);
    p->linktype = nagm_cur_be16(&c);
    uint64_t hi = nagm_cur_be32(&c), lo = nagm_cur_be32(&c);
    p->ts_ns = (int64_t)((hi << 32) | lo);
    p->len = nagm_cur_be32(&c);
    p->caplen = nagm_cur_be32(&c);
    p->wirelen = nagm_cur_be32(&c);
    p->src_port = nagm_cur_be16(&c);
    p->dst_port = nagm_cur_be16(&c);
    p->src.family = p->dst.family = v6 ? 6 : 4;
    nagm_cur_copy(&c, p->src.b, alen);
    nagm_cur_copy(&c, p->dst.b, alen);
    /* bytes after the addresses belong to later revisions: ignored */
    return c.err ? -NAGM_PKTWIRE_ESHORT : 0;
}

size_t nagm_pktwire_key(const nagm_pkt *p, uint8_t out[16])
{
    size_t n = p->src.family == 6 ? 16 : 4;
    memcpy(out, p->src.b, n);
    return n;
}

const char *nagm_pktwire_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case 0:
        return "no error";
    case NAGM_PKTWIRE_ESHORT:
        return "record too short";
    case NAGM_PKTWIRE_EMAGIC:
        return "not a netagm packet record (bad magic byte)";
    case NAGM_PKTWIRE_EVERSION:
        return "packet record of an unknown version";
    case NAGM_PKTWIRE_EFLAGS:
        return "packet record with reserved flag bits set";
    default:
        return "unknown error";
    }
}
