/* Packet bytes: a template rewritten for one packet of the model.
 *
 * Ethernet (the host's MAC pair), an IP header (the host's IPv4 style or
 * IPv6 first word, with our lengths, TTL, protocol and addresses) and the L4
 * template with ports, sequence numbers, flags, lengths and identifiers
 * replaced. The payload beyond the template's stored bytes is zero, and the
 * checksums are those of the whole wire packet with that zero payload, so
 * they are right whenever the packet is captured in full.
 */
#include "gen.h"

#include <string.h>

static inline void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Ones'-complement sum of n bytes (RFC 1071), not yet folded. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        sum += (uint64_t)((p[0] << 8) | p[1]) + (uint64_t)((p[2] << 8) | p[3]) +
               (uint64_t)((p[4] << 8) | p[5]) + (uint64_t)((p[6] << 8) | p[7]);
        p += 8;
        n -= 8;
    }
    while (n >= 2) {
        sum += (uint64_t)((p[0] << 8) | p[1]);
        p += 2;
        n -= 2;
    }
    if (n)
        sum += (uint64_t)p[0] << 8;
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

unsigned gen_l3_len(const gen_hosts *hs, const gen_corpus *c, const gen_pkt *p)
{
    const gen_host *h = &hs->h[p->src];
    return h->v6 ? 40u : c->ip4_len[h->l3];
}

unsigned gen_packet_build(const gen_hosts *hs, const gen_corpus *c, const gen_pkt *p,
                          uint8_t *out, unsigned *wire)
{
    const gen_host *h = &hs->h[p->src];
    const gen_tpl *t = &c->tpl[p->tpl];
    const uint8_t *mac = c->mac[h->mac];

    /* Ethernet: one MAC pair per host, turned around by direction. */
    if (p->to_inside) {
        memcpy(out, mac + 6, 6);
        memcpy(out + 6, mac, 6);
    } else {
        memcpy(out, mac, 12);
    }
    out[12] = p->v6 ? 0x86 : 0x08;
    out[13] = p->v6 ? 0xdd : 0x00;

    uint8_t *ip = out + 14;
    unsigned l3;
    uint64_t pseudo;
    if (!p->v6) {
        l3 = c->ip4_len[h->l3];
        memcpy(ip, c->ip4[h->l3], l3);
        ip[0] = (uint8_t)(0x40 | (l3 / 4));
        be16(ip + 2, (uint16_t)(l3 + p->l4len));
        be16(ip + 4, p->ipid);
        ip[6] &= 0x40; /* keep DF, never a fragment */
        ip[7] = 0;
        ip[8] = p->ttl;
        ip[9] = p->proto;
        ip[10] = ip[11] = 0;
        memcpy(ip + 12, h->addr, 4);
        memcpy(ip + 16, p->daddr, 4);
        be16(ip + 10, csum_fold(csum_add(0, ip, l3)));
        pseudo = csum_add(0, ip + 12, 8);
    } else {
        l3 = 40;
        uint32_t vtf = c->ip6_vtf[h->l3];
        /* A host that labels flows labels each of its flows differently. */
        if (vtf & 0xfffff)
            vtf = (vtf & 0xfff00000u) | ((p->flow & 0xfffff) | 1);
        be32(ip, vtf);
        be16(ip + 4, p->l4len);
        ip[6] = p->proto;
        ip[7] = p->ttl;
        memcpy(ip + 8, h->addr, 16);
        memcpy(ip + 24, p->daddr, 16);
        pseudo = csum_add(0, ip + 8, 32);
    }
    pseudo += (uint64_t)p->proto + p->l4len;

    uint8_t *l4 = ip + l3;
    unsigned n = t->cap < p->l4len ? t->cap : p->l4len;
    memcpy(l4, c->bytes + t->off, n);
    switch (p->proto) {
    case 6:
        be16(l4, p->sport);
        be16(l4 + 2, p->dport);
        be32(l4 + 4, p->seq);
        be32(l4 + 8, p->ack);
        l4[12] &= 0xf0;
        /* ECN negotiation (RFC 3168) survives from the template: a SYN
         * with both ECE and CWR, a SYN-ACK with ECE alone. */
        {
            uint8_t ecn = 0;
            if (p->tcpflags == 0x02 && (l4[13] & 0xc0) == 0xc0)
                ecn = 0xc0;
            else if (p->tcpflags == 0x12)
                ecn = l4[13] & 0x40;
            l4[13] = (uint8_t)(p->tcpflags | ecn);
        }
        l4[16] = l4[17] = 0;
        l4[18] = l4[19] = 0;
        if (t->ts_off && t->ts_off + 8u <= n) {
            be32(l4 + t->ts_off, p->tsval);
            be32(l4 + t->ts_off + 4, p->tsecr);
        }
        be16(l4 + 16, csum_fold(csum_add(pseudo, l4, n)));
        break;
    case 17: {
        be16(l4, p->sport);
        be16(l4 + 2, p->dport);
        be16(l4 + 4, p->l4len);
        l4[6] = l4[7] = 0;
        if (p->dns_id && n >= 10)
            be16(l4 + 8, p->dns_id);
        uint16_t s = csum_fold(csum_add(pseudo, l4, n));
        be16(l4 + 6, s ? s : 0xffff);
        break;
    }
    default: /* ICMP / ICMPv6 echo; only ICMPv6 sums a pseudo-header */
        l4[1] = 0;
        be16(l4 + 4, p->icmp_id);
        be16(l4 + 6, p->icmp_seq);
        l4[2] = l4[3] = 0;
        be16(l4 + 2, csum_fold(csum_add(p->proto == 58 ? pseudo : 0, l4, n)));
        break;
    }
    *wire = 14 + l3 + p->l4len;
    return 14 + l3 + n;
}
