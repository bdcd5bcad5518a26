/* Decoder internals: the stages nagm_decode() chains together.
 *
 * Each stage reads through the cursor it is given (never past its end) and
 * fills its part of the packet record. A stage that returns a result other
 * than NAGM_DEC_OK leaves *out partly written; the caller discards it.
 */
#ifndef NETAGM_DECODE_DEC_INT_H
#define NETAGM_DECODE_DEC_INT_H

#include <stdint.h>
#include <string.h>

#include "netagm/decode.h"
#include "util/cursor.h"

/* Ethertypes the link stage knows. Anything else (and 802.3 length values
 * below 0x0600) is not IP. */
enum {
    DEC_ETH_IPV4 = 0x0800,
    DEC_ETH_IPV6 = 0x86dd,
    DEC_ETH_VLAN = 0x8100,    /* 802.1Q C-tag */
    DEC_ETH_QINQ = 0x88a8,    /* 802.1ad S-tag */
    DEC_ETH_QINQ_OLD = 0x9100, /* pre-standard S-tag */
    DEC_ETH_MPLS_UC = 0x8847,
    DEC_ETH_MPLS_MC = 0x8848,
    DEC_ETH_PPPOE_SES = 0x8864,
};

/* IP protocol numbers the IP and L4 stages care about. */
enum {
    DEC_IPPROTO_HOPOPTS = 0,
    DEC_IPPROTO_ICMP = 1,
    DEC_IPPROTO_TCP = 6,
    DEC_IPPROTO_UDP = 17,
    DEC_IPPROTO_DCCP = 33,
    DEC_IPPROTO_ROUTING = 43,
    DEC_IPPROTO_FRAGMENT = 44,
    DEC_IPPROTO_AH = 51,
    DEC_IPPROTO_ICMPV6 = 58,
    DEC_IPPROTO_DSTOPTS = 60,
    DEC_IPPROTO_SCTP = 132,
    DEC_IPPROTO_MOBILITY = 135,
    DEC_IPPROTO_UDPLITE = 136,
    DEC_IPPROTO_HIP = 139,
    DEC_IPPROTO_SHIM6 = 140,
};

/* IPv4 header offsets and sizes (RFC 791, 3.1). */
enum {
    DEC_V4_MIN_HDR = 20,
    DEC_V4_OFF_LEN = 2,
    DEC_V4_OFF_FRAG = 6,
    DEC_V4_OFF_TTL = 8,
    DEC_V4_OFF_PROTO = 9,
    DEC_V4_OFF_SRC = 12,
    DEC_V4_OFF_DST = 16,
    DEC_V4_FRAG_OFFSET_MASK = 0x1fff,
};

/* L4 sizes agm.md names: ports need 4 bytes of L4 header, TCP flags 14 (the
 * flags are byte 13). */
enum {
    DEC_L4_PORT_BYTES = 4,
    DEC_L4_FLAG_BYTES = 14,
    DEC_L4_TCP_FLAGS_OFF = 13,
};

/* Every link type: the general path nagm_decode() takes for any frame the
 * fast path (dec_link.c) does not take. Exposed for the test that holds the
 * two to the same result. */
nagm_dec_result dec_link(uint32_t linktype, nagm_cur *c, nagm_pkt *out);

/* Link stage: the payload at c (positioned just after the ethertype field)
 * is dispatched on etype, through any number of VLAN tags, an MPLS label
 * stack or a PPPoE session header. Returns the IP stage's result, NOT_IP, or
 * MALFORMED when a tag/label/session header is cut. */
nagm_dec_result dec_ethertype(uint16_t etype, nagm_cur *c, nagm_pkt *out);

/* IP stage: the cursor is at the first byte of the IP header, which must
 * carry the matching version (else MALFORMED). Both fill src, dst, len, ttl,
 * proto and, through dec_l4, the ports, flags and l4_trunc. */
nagm_dec_result dec_ipv4(nagm_cur *c, nagm_pkt *out);
nagm_dec_result dec_ipv6(nagm_cur *c, nagm_pkt *out);

/* L4 stage: l4 covers the captured bytes after the IP header (and after the
 * IPv6 extension headers). Fills src_port, dst_port, flags and l4_trunc for
 * proto, per agm.md. Cannot fail. */
void dec_l4(uint8_t proto, const nagm_cur *l4, nagm_pkt *out);

/* Store an IPv4 header's fields into out. IPv4 addresses live in b[0..3];
 * the rest of each address is zeroed because later layers hash and compare
 * all 16 bytes. */
static inline void dec_put_ipv4(nagm_pkt *out, uint16_t len, uint8_t ttl, uint8_t proto,
                                const uint8_t src[4], const uint8_t dst[4])
{
    out->len = len;
    out->ttl = ttl;
    out->proto = proto;
    memset(&out->src, 0, sizeof out->src);
    memset(&out->dst, 0, sizeof out->dst);
    out->src.family = 4;
    out->dst.family = 4;
    memcpy(out->src.b, src, 4);
    memcpy(out->dst.b, dst, 4);
}

/* Ports, flags and l4_trunc of a packet whose L4 header is absent by
 * definition (non-first fragment): all zero, nothing truncated. */
static inline void dec_l4_none(nagm_pkt *out)
{
    out->src_port = 0;
    out->dst_port = 0;
    out->flags = 0;
    out->l4_trunc = 0;
}

#endif
