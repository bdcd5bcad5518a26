/* Link layers: from the first byte of a frame to the outermost IP header.
 *
 * The link types of agm.md's list, by LINKTYPE_ value (pcap-linktype(7)):
 *
 *   0 NULL, 108 LOOP     BSD loopback: a 4-byte address family
 *   1 ETHERNET           Ethernet II, VLAN tags, MPLS, PPPoE session
 *   9 PPP, 50 PPP_HDLC   PPP, optional FF 03, protocol-field compression
 *   51 PPP_ETHER         PPPoE header without Ethernet
 *   101 RAW (and 12, 14, the DLT_RAW values some writers store), 228 IPV4,
 *   229 IPV6             raw IP
 *   113 LINUX_SLL, 276 LINUX_SLL2   Linux cooked capture
 *
 * Decisions where agm.md is silent:
 *  - An ethertype below 0x0600 is an 802.3 length (LLC/SNAP follows): not IP.
 *  - An ethertype or PPP protocol that names IPv4 (IPv6) leads to the IPv4
 *    (IPv6) checks; a version nibble that disagrees is malformed. Raw IP
 *    links and the payload under an MPLS stack pick the version from the
 *    nibble: on raw IP anything but 4 or 6 is malformed, under MPLS it is
 *    not IP (pseudowires carry Ethernet, control words start with 0).
 *  - A frame that ends where the payload's first byte should be (after an
 *    MPLS stack, a lone 0xFF PPP address byte) is malformed.
 *  - A PPPoE header whose code is not 0x00 (session data) is not IP: on
 *    PPP_ETHER the discovery frames carry tags, not PPP.
 *
 * Ethernet II:
 *
 *    +-------------------+-------------------+------------+------------
 *    | Destination (6)   | Source (6)        | Type (2)   | payload
 *    +-------------------+-------------------+------------+------------
 *
 * 802.1Q / 802.1ad tag, after a 0x8100, 0x88a8 or 0x9100 type, any number:
 *
 *    +-----+-+---------------------+---------------------------------+
 *    | PCP |D|        VID          |          inner Type             |
 *    +-----+-+---------------------+---------------------------------+
 *
 * MPLS label stack entry (RFC 3032), after 0x8847 / 0x8848; the entry with
 * S = 1 is the last, then the payload's version nibble decides:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                Label                  | TC  |S|      TTL      |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * PPPoE session (RFC 2516), after 0x8864 or at the start of PPP_ETHER:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  VER  | TYPE  |      CODE     |          SESSION_ID           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |            LENGTH             |     PPP protocol (2 octets)   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * PPP in HDLC-like framing (RFC 1662), LINKTYPE_PPP and LINKTYPE_PPP_HDLC:
 *
 *    +----------+----------+----------------+-------------
 *    | Address  | Control  | Protocol       | Information
 *    | 0xFF     | 0x03     | 1 or 2 octets  |
 *    +----------+----------+----------------+-------------
 *
 *    Address and control are optional. A first protocol octet with its low
 *    bit set is a whole (compressed) protocol (RFC 1661, section 6.5).
 *    0x0021 is IPv4, 0x0057 IPv6.
 *
 * Linux cooked capture v1 (LINUX_SLL) and v2 (LINUX_SLL2):
 *
 *    SLL                                   SLL2
 *    +-----------------------------+       +-----------------------------+
 *    | Packet type            (2)  |       | Protocol type          (2)  |
 *    | ARPHRD_ type           (2)  |       | Reserved (MBZ)         (2)  |
 *    | Link-layer addr length (2)  |       | Interface index        (4)  |
 *    | Link-layer address     (8)  |       | ARPHRD_ type           (2)  |
 *    | Protocol type          (2)  |       | Packet type            (1)  |
 *    +-----------------------------+       | Link-layer addr length (1)  |
 *    | payload                     .       | Link-layer address     (8)  |
 *                                          +-----------------------------+
 *                                          | payload                     .
 *
 *    The protocol type is an ethertype (values below 0x0600 name non-IP
 *    payloads such as 802.2 LLC or CAN).
 *
 * BSD loopback (NULL, LOOP):
 *
 *    +-----------------------------+------------
 *    | AF_ value (4)               | IP packet
 *    +-----------------------------+------------
 *
 *    NULL stores the value in the capturing host's byte order, LOOP in
 *    network byte order. AF_INET is 2 everywhere; AF_INET6 is 10 (Linux),
 *    24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly), 30 (Darwin).
 */
#include "decode/dec_int.h"

enum {
    LT_NULL = 0,
    LT_ETHERNET = 1,
    LT_PPP = 9,
    LT_RAW_DLT12 = 12,
    LT_RAW_DLT14 = 14,
    LT_PPP_HDLC = 50,
    LT_PPP_ETHER = 51,
    LT_RAW = 101,
    LT_LOOP = 108,
    LT_LINUX_SLL = 113,
    LT_IPV4 = 228,
    LT_IPV6 = 229,
    LT_LINUX_SLL2 = 276,
};

enum {
    ETH_HDR = 14,
    ETH_OFF_TYPE = 12,
    VLAN_TAG = 4,
    MPLS_LSE = 4,
    PPPOE_HDR = 6,
    PPPOE_CODE_SESSION = 0x00,
    PPP_PROTO_IPV4 = 0x0021,
    PPP_PROTO_IPV6 = 0x0057,
    PPP_ADDRESS = 0xff,
    PPP_CONTROL = 0x03,
    SLL_HDR = 16,
    SLL_OFF_PROTO = 14,
    SLL2_HDR = 20,
    LOOP_HDR = 4,
    AF_V4 = 2,
};

/* Payload named by a PPP protocol number (compressed or not). */
static nagm_dec_result dec_ppp_proto(uint16_t proto, nagm_cur *c, nagm_pkt *out)
{
    switch (proto) {
    case PPP_PROTO_IPV4:
        return dec_ipv4(c, out);
    case PPP_PROTO_IPV6:
        return dec_ipv6(c, out);
    default:
        return NAGM_DEC_NOT_IP;
    }
}

/* PPPoE header + 2-byte PPP protocol. */
static nagm_dec_result dec_pppoe(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, PPPOE_HDR + 2))
        return NAGM_DEC_MALFORMED;
    if (nagm_cur_peek_u8(c, 1) != PPPOE_CODE_SESSION)
        return NAGM_DEC_NOT_IP;
    uint16_t proto = nagm_cur_peek_be16(c, PPPOE_HDR);
    nagm_cur_skip(c, PPPOE_HDR + 2);
    return dec_ppp_proto(proto, c, out);
}

static nagm_dec_result dec_mpls(nagm_cur *c, nagm_pkt *out)
{
    /* Each entry consumes 4 bytes, so the walk ends at the captured end. */
    for (;;) {
        if (!nagm_cur_has(c, MPLS_LSE))
            return NAGM_DEC_MALFORMED;
        int bottom = nagm_cur_peek_u8(c, 2) & 1;
        nagm_cur_skip(c, MPLS_LSE);
        if (bottom)
            break;
    }
    if (!nagm_cur_has(c, 1))
        return NAGM_DEC_MALFORMED;
    switch (nagm_cur_peek_u8(c, 0) >> 4) {
    case 4:
        return dec_ipv4(c, out);
    case 6:
        return dec_ipv6(c, out);
    default:
        return NAGM_DEC_NOT_IP;
    }
}

nagm_dec_result dec_ethertype(uint16_t etype, nagm_cur *c, nagm_pkt *out)
{
    /* Each tag consumes 4 bytes, so the loop ends at the captured end. */
    for (;;) {
        switch (etype) {
        case DEC_ETH_IPV4:
            return dec_ipv4(c, out);
        case DEC_ETH_IPV6:
            return dec_ipv6(c, out);
        case DEC_ETH_VLAN:
        case DEC_ETH_QINQ:
        case DEC_ETH_QINQ_OLD:
            if (!nagm_cur_has(c, VLAN_TAG))
                return NAGM_DEC_MALFORMED;
            etype = nagm_cur_peek_be16(c, 2);
            nagm_cur_skip(c, VLAN_TAG);
            continue;
        case DEC_ETH_MPLS_UC:
        case DEC_ETH_MPLS_MC:
            return dec_mpls(c, out);
        case DEC_ETH_PPPOE_SES:
            return dec_pppoe(c, out);
        default:
            /* ARP, LLDP, PPPoE discovery, ..., and 802.3 lengths (< 0x0600) */
            return NAGM_DEC_NOT_IP;
        }
    }
}

static nagm_dec_result dec_ethernet(nagm_cur *c, nagm_pkt *out)
{
    nagm_span h;
    if (!nagm_cur_span(c, ETH_HDR, &h))
        return NAGM_DEC_MALFORMED;
    uint16_t etype = nagm_span_be16(h, ETH_OFF_TYPE);
    nagm_cur_skip(c, ETH_HDR);
    return dec_ethertype(etype, c, out);
}

static nagm_dec_result dec_sll(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, SLL_HDR))
        return NAGM_DEC_MALFORMED;
    uint16_t proto = nagm_cur_peek_be16(c, SLL_OFF_PROTO);
    nagm_cur_skip(c, SLL_HDR);
    return dec_ethertype(proto, c, out);
}

static nagm_dec_result dec_sll2(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, SLL2_HDR))
        return NAGM_DEC_MALFORMED;
    uint16_t proto = nagm_cur_peek_be16(c, 0);
    nagm_cur_skip(c, SLL2_HDR);
    return dec_ethertype(proto, c, out);
}

static nagm_dec_result dec_af(uint32_t af, nagm_cur *c, nagm_pkt *out)
{
    switch (af) {
    case AF_V4:
        return dec_ipv4(c, out);
    case 10: /* Linux */
    case 24: /* NetBSD, OpenBSD, BSD/OS */
    case 28: /* FreeBSD, DragonFly BSD */
    case 30: /* Darwin */
        return dec_ipv6(c, out);
    default:
        return NAGM_DEC_NOT_IP;
    }
}

static nagm_dec_result dec_null(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, LOOP_HDR))
        return NAGM_DEC_MALFORMED;
    /* Written in the capturing host's order: every AF_ value fits in 16
     * bits, so a value that does not fit was written the other way round. */
    uint32_t af = nagm_cur_le32(c);
    if (af & 0xffff0000u)
        af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
    return dec_af(af, c, out);
}

static nagm_dec_result dec_loop(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, LOOP_HDR))
        return NAGM_DEC_MALFORMED;
    return dec_af(nagm_cur_be32(c), c, out);
}

static nagm_dec_result dec_ppp(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, 1))
        return NAGM_DEC_MALFORMED;
    if (nagm_cur_peek_u8(c, 0) == PPP_ADDRESS) {
        if (!nagm_cur_has(c, 2))
            return NAGM_DEC_MALFORMED;
        if (nagm_cur_peek_u8(c, 1) == PPP_CONTROL)
            nagm_cur_skip(c, 2);
    }
    if (!nagm_cur_has(c, 1))
        return NAGM_DEC_MALFORMED;
    uint16_t proto = nagm_cur_peek_u8(c, 0);
    if (proto & 1) {
        nagm_cur_skip(c, 1);
    } else {
        if (!nagm_cur_has(c, 2))
            return NAGM_DEC_MALFORMED;
        proto = nagm_cur_be16(c);
    }
    return dec_ppp_proto(proto, c, out);
}

/* Raw IP: the first nibble is the version. */
static nagm_dec_result dec_raw(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, 1))
        return NAGM_DEC_MALFORMED;
    switch (nagm_cur_peek_u8(c, 0) >> 4) {
    case 4:
        return dec_ipv4(c, out);
    case 6:
        return dec_ipv6(c, out);
    default:
        return NAGM_DEC_MALFORMED;
    }
}

nagm_dec_result dec_link(uint32_t linktype, nagm_cur *c, nagm_pkt *out)
{
    switch (linktype) {
    case LT_ETHERNET:
        return dec_ethernet(c, out);
    case LT_LINUX_SLL:
        return dec_sll(c, out);
    case LT_LINUX_SLL2:
        return dec_sll2(c, out);
    case LT_RAW:
    case LT_RAW_DLT12:
    case LT_RAW_DLT14:
        return dec_raw(c, out);
    case LT_IPV4:
        return dec_ipv4(c, out);
    case LT_IPV6:
        return dec_ipv6(c, out);
    case LT_NULL:
        return dec_null(c, out);
    case LT_LOOP:
        return dec_loop(c, out);
    case LT_PPP:
    case LT_PPP_HDLC:
        return dec_ppp(c, out);
    case LT_PPP_ETHER:
        return dec_pppoe(c, out);
    default:
        return NAGM_DEC_LINK_UNSUPPORTED;
    }
}

enum {
    FAST_IP = ETH_HDR,                     /* the IPv4 header */
    FAST_L4 = ETH_HDR + DEC_V4_MIN_HDR,    /* the L4 header */
    FAST_V4_IHL5 = 0x45,                   /* version 4, 20-byte header */
};

/* The frame most captures are made of, in one step: Ethernet II carrying
 * IPv4 without options and without a fragment offset, then TCP with its
 * flags captured or UDP with its ports. Fills *out exactly as the general
 * path would (tests/unit/test_decode_fast.c holds them to it) and returns 1;
 * returns 0 for every other frame, which then takes the general path. */
static inline int dec_fast(const nagm_cur *c, nagm_pkt *out)
{
    nagm_span h; /* Ethernet + IPv4 + the ports */
    if (!nagm_cur_span(c, FAST_L4 + DEC_L4_PORT_BYTES, &h) ||
        nagm_span_be16(h, ETH_OFF_TYPE) != DEC_ETH_IPV4 ||
        nagm_span_u8(h, FAST_IP) != FAST_V4_IHL5 ||
        (nagm_span_be16(h, FAST_IP + DEC_V4_OFF_FRAG) & DEC_V4_FRAG_OFFSET_MASK))
        return 0;
    uint8_t proto = nagm_span_u8(h, FAST_IP + DEC_V4_OFF_PROTO);
    uint8_t flags = 0;
    if (proto == DEC_IPPROTO_TCP) {
        nagm_span t;
        if (!nagm_cur_span(c, FAST_L4 + DEC_L4_FLAG_BYTES, &t))
            return 0;
        flags = nagm_span_u8(t, FAST_L4 + DEC_L4_TCP_FLAGS_OFF);
    } else if (proto != DEC_IPPROTO_UDP) {
        return 0;
    }
    uint16_t len = nagm_span_be16(h, FAST_IP + DEC_V4_OFF_LEN);
    uint8_t ttl = nagm_span_u8(h, FAST_IP + DEC_V4_OFF_TTL);
    uint16_t sp = nagm_span_be16(h, FAST_L4);
    uint16_t dp = nagm_span_be16(h, FAST_L4 + 2);
    uint8_t src[4], dst[4];
    nagm_span_copy(h, FAST_IP + DEC_V4_OFF_SRC, src, 4);
    nagm_span_copy(h, FAST_IP + DEC_V4_OFF_DST, dst, 4);

    dec_put_ipv4(out, len, ttl, proto, src, dst);
    out->src_port = sp;
    out->dst_port = dp;
    out->flags = flags;
    out->l4_trunc = 0;
    return 1;
}

nagm_dec_result nagm_decode(uint32_t linktype, const uint8_t *data, uint32_t caplen,
                            nagm_pkt *out)
{
    nagm_cur c = nagm_cur_make(data, data ? caplen : 0);

    out->linktype = (uint16_t)linktype;
    if (linktype == LT_ETHERNET && dec_fast(&c, out))
        return NAGM_DEC_OK;
    return dec_link(linktype, &c, out);
}

int nagm_linktype_supported(uint32_t linktype)
{
    switch (linktype) {
    case LT_NULL:
    case LT_ETHERNET:
    case LT_PPP:
    case LT_RAW_DLT12:
    case LT_RAW_DLT14:
    case LT_PPP_HDLC:
    case LT_PPP_ETHER:
    case LT_RAW:
    case LT_LOOP:
    case LT_LINUX_SLL:
    case LT_IPV4:
    case LT_IPV6:
    case LT_LINUX_SLL2:
        return 1;
    default:
        return 0;
    }
}
