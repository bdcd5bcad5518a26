/* IPv6 header and extension-header chain.
 *
 * Decisions where agm.md is silent:
 *  - An extension header is walked only when all of its bytes were captured.
 *    When the chain is cut by the snaplen, proto is the next-header value
 *    that could not be walked (the type of the cut extension header), ports
 *    and flags are 0 and l4_trunc is 1. The packet still counts: its fixed
 *    header passed agm.md's checks.
 *  - A fragment header with offset != 0 ends the walk: proto is that
 *    header's next-header value, ports and flags are 0, nothing is
 *    truncated. With offset 0 the walk continues into the first fragment.
 *  - Only the extension headers agm.md lists (0, 43, 44, 60, 51, 135, 139,
 *    140) are walked; any other value, ESP (50) and No Next Header (59)
 *    included, is the upper-layer protocol.
 *  - len is 40 + payload length even when a Jumbo Payload option makes the
 *    payload length 0.
 *
 * Fixed header (RFC 8200, section 3):
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version| Traffic Class |           Flow Label                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Payload Length        |  Next Header  |   Hop Limit   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    +                                                               +
 *    |                                                               |
 *    +                         Source Address                        +
 *    |                                                               |
 *    +                                                               +
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    +                                                               +
 *    |                                                               |
 *    +                      Destination Address                      +
 *    |                                                               |
 *    +                                                               +
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Hop-by-Hop (0), Routing (43), Destination Options (60) (RFC 8200),
 * Mobility (135, RFC 6275), HIP (139, RFC 7401), Shim6 (140, RFC 5533):
 * length in 8-octet units, not counting the first 8 octets.
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Next Header  |  Hdr Ext Len  |                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *    .                 (Hdr Ext Len + 1) * 8 octets                  .
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Authentication Header (51, RFC 4302, section 2): length in 4-octet units,
 * minus 2.
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    | Next Header   |  Payload Len  |          RESERVED             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    .            (Payload Len + 2) * 4 octets in all                .
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Fragment header (44, RFC 8200, section 4.5): always 8 octets.
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         Identification                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#include "decode/dec_int.h"

enum {
    V6_HDR = 40,
    V6_OFF_PLEN = 4,
    V6_OFF_NH = 6,
    V6_OFF_HLIM = 7,
    V6_OFF_SRC = 8,
    V6_FRAG_HDR = 8,
    V6_FRAG_OFFSET_MASK = 0xfff8,
};

nagm_dec_result dec_ipv6(nagm_cur *c, nagm_pkt *out)
{
    if (!nagm_cur_has(c, V6_HDR) || (nagm_cur_peek_u8(c, 0) >> 4) != 6)
        return NAGM_DEC_MALFORMED;

    out->len = V6_HDR + (uint32_t)nagm_cur_peek_be16(c, V6_OFF_PLEN);
    uint8_t nh = nagm_cur_peek_u8(c, V6_OFF_NH);
    out->ttl = nagm_cur_peek_u8(c, V6_OFF_HLIM);
    out->src.family = 6;
    out->dst.family = 6;
    nagm_cur_skip(c, V6_OFF_SRC);
    nagm_cur_copy(c, out->src.b, 16);
    nagm_cur_copy(c, out->dst.b, 16);

    /* Every header walked moves the cursor by at least 8 bytes, so the loop
     * ends within caplen / 8 rounds whatever the bytes say. */
    for (;;) {
        size_t hlen;
        switch (nh) {
        case DEC_IPPROTO_HOPOPTS:
        case DEC_IPPROTO_ROUTING:
        case DEC_IPPROTO_DSTOPTS:
        case DEC_IPPROTO_MOBILITY:
        case DEC_IPPROTO_HIP:
        case DEC_IPPROTO_SHIM6:
            hlen = nagm_cur_has(c, 2) ? ((size_t)nagm_cur_peek_u8(c, 1) + 1) * 8 : 2;
            break;
        case DEC_IPPROTO_AH:
            hlen = nagm_cur_has(c, 2) ? ((size_t)nagm_cur_peek_u8(c, 1) + 2) * 4 : 2;
            break;
        case DEC_IPPROTO_FRAGMENT:
            hlen = V6_FRAG_HDR;
            if (nagm_cur_has(c, hlen) &&
                (nagm_cur_peek_be16(c, 2) & V6_FRAG_OFFSET_MASK) != 0) {
                out->proto = nagm_cur_peek_u8(c, 0);
                dec_l4_none(out);
                return NAGM_DEC_OK;
            }
            break;
        default:
            out->proto = nh;
            dec_l4(nh, c, out);
            return NAGM_DEC_OK;
        }
        if (!nagm_cur_has(c, hlen)) {
            out->proto = nh;
            out->src_port = 0;
            out->dst_port = 0;
            out->flags = 0;
            out->l4_trunc = 1;
            return NAGM_DEC_OK;
        }
        nh = nagm_cur_peek_u8(c, 0);
        nagm_cur_skip(c, hlen);
    }
}
